//! Splits a `.ctmpl` file into tokens the way Go's text/template lexer does, including the
//! `{{-` / `-}}` trim markers (which remove all adjacent spaces, tabs and newlines) and
//! `{{/* comments */}}`. A lexing error becomes the last token, so the parser reports errors in
//! source order.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Text outside actions, already trimmed.
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    Pipe,
    LeftParen,
    RightParen,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    /// Any other printable ASCII character inside an action (`,` matters to `range`).
    Char(char),
    /// A quoted or raw string, unquoted.
    Str(String),
    /// A character constant's value.
    CharConst(i64),
    Number(String),
    Bool(bool),
    Nil,
    Dot,
    /// `.Name`, without the dot.
    Field(String),
    /// `$name` or `$`, with the dollar.
    Variable(String),
    Ident(String),
    Keyword(Keyword),
    Eof,
    /// The lexer stopped here; the text says why.
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "block" => Keyword::Block,
            "break" => Keyword::Break,
            "continue" => Keyword::Continue,
            "define" => Keyword::Define,
            "else" => Keyword::Else,
            "end" => Keyword::End,
            "if" => Keyword::If,
            "range" => Keyword::Range,
            "template" => Keyword::Template,
            "with" => Keyword::With,
            _ => return None,
        })
    }
}

/// A token and where it starts and ends (byte offsets into the file).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub end: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// `-` followed by a space right after `{{`.
fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

/// A space followed by `-` right before `}}`.
fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Lexes a whole template.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
    };
    if let Err((pos, message)) = lexer.run() {
        lexer.tokens.push(Token {
            tok: Tok::Error(message),
            pos,
            end: pos,
        });
    }
    lexer.tokens
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

type LexResult<T> = Result<T, (usize, String)>;

impl Lexer<'_> {
    fn emit(&mut self, tok: Tok, pos: usize) {
        self.tokens.push(Token {
            tok,
            pos,
            end: self.pos,
        });
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Whether the action ends here: `(at the delimiter, with a trim marker)`.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    /// Length of the leading spaces of the rest of the input.
    fn leading_space(&self) -> usize {
        self.rest().len() - self.rest().trim_start_matches(is_space).len()
    }

    fn run(&mut self) -> LexResult<()> {
        loop {
            let Some(found) = self.rest().find(LEFT) else {
                if !self.rest().is_empty() {
                    let start = self.pos;
                    let text = self.rest().to_string();
                    self.pos = self.src.len();
                    self.emit(Tok::Text(text), start);
                }
                let end = self.src.len();
                self.tokens.push(Token {
                    tok: Tok::Eof,
                    pos: end,
                    end,
                });
                return Ok(());
            };
            let delim = self.pos + found;
            let after = delim + LEFT.len();
            let trim_left = has_left_trim(&self.src[after..]);
            let text = &self.src[self.pos..delim];
            let text = if trim_left {
                text.trim_end_matches(is_space)
            } else {
                text
            };
            if !text.is_empty() {
                let start = self.pos;
                self.tokens.push(Token {
                    tok: Tok::Text(text.to_string()),
                    pos: start,
                    end: start + text.len(),
                });
            }
            self.pos = after + if trim_left { 2 } else { 0 };
            if self.rest().starts_with("/*") {
                self.comment(delim)?;
                continue;
            }
            self.tokens.push(Token {
                tok: Tok::LeftDelim,
                pos: delim,
                end: after,
            });
            self.inside_action(delim)?;
        }
    }

    fn comment(&mut self, delim: usize) -> LexResult<()> {
        let Some(close) = self.rest()[2..].find("*/") else {
            return Err((delim, "this comment is never closed with `*/}}`".into()));
        };
        self.pos += 2 + close + 2;
        let (at_delim, trim) = self.at_right_delim();
        if !at_delim {
            return Err((
                delim,
                "a comment must end with `*/}}` (nothing may come between `*/` and `}}`)".into(),
            ));
        }
        self.pos += RIGHT.len() + if trim { 2 } else { 0 };
        if trim {
            self.pos += self.leading_space();
        }
        Ok(())
    }

    fn inside_action(&mut self, delim: usize) -> LexResult<()> {
        let mut parens: Vec<usize> = Vec::new();
        loop {
            let (at_delim, trim) = self.at_right_delim();
            if at_delim {
                if let Some(open) = parens.last() {
                    return Err((*open, "this `(` is never closed with `)`".into()));
                }
                if trim {
                    self.pos += 2;
                }
                let start = self.pos;
                self.pos += RIGHT.len();
                self.emit(Tok::RightDelim, start);
                if trim {
                    self.pos += self.leading_space();
                }
                return Ok(());
            }
            let start = self.pos;
            let Some(c) = self.bump() else {
                return Err((delim, "this `{{` is never closed with `}}`".into()));
            };
            match c {
                c if is_space(c) => {
                    self.pos = start;
                    let mut count = 0;
                    while self.peek().is_some_and(is_space) {
                        self.bump();
                        count += 1;
                    }
                    // The last space may belong to a ` -}}` closing delimiter.
                    let back = self.pos - 1;
                    if has_right_trim(&self.src[back..]) && self.src[back + 2..].starts_with(RIGHT) {
                        self.pos = back;
                        if count == 1 {
                            continue;
                        }
                    }
                    self.emit(Tok::Space, start);
                }
                '=' => self.emit(Tok::Assign, start),
                ':' => {
                    if self.bump() != Some('=') {
                        return Err((start, "expected `:=`".into()));
                    }
                    self.emit(Tok::Declare, start);
                }
                '|' => self.emit(Tok::Pipe, start),
                '"' => self.quote(start)?,
                '`' => self.raw_quote(start)?,
                '$' => self.field_or_variable(start, true)?,
                '\'' => self.char_constant(start)?,
                '.' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => self.field_or_variable(start, false)?,
                '.' | '+' | '-' | '0'..='9' => {
                    self.pos = start;
                    self.number(start)?;
                }
                c if is_alnum(c) => {
                    self.pos = start;
                    self.identifier(start)?;
                }
                '(' => {
                    parens.push(start);
                    self.emit(Tok::LeftParen, start);
                }
                ')' => {
                    if parens.pop().is_none() {
                        return Err((start, "this `)` has no `(` to close".into()));
                    }
                    self.emit(Tok::RightParen, start);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(Tok::Char(c), start),
                c => {
                    return Err((
                        start,
                        format!("character {c:?} (U+{:04X}) cannot appear in an action", c as u32),
                    ));
                }
            }
        }
    }

    /// Whether the next character ends a word.
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT),
        }
    }

    fn bad_character(&self) -> (usize, String) {
        let c = self.peek().unwrap_or(' ');
        (self.pos, format!("unexpected character {c:?} in a name"))
    }

    fn identifier(&mut self, start: usize) -> LexResult<()> {
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            return Err(self.bad_character());
        }
        let word = &self.src[start..self.pos];
        let tok = match word {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "nil" => Tok::Nil,
            _ => match Keyword::from_word(word) {
                Some(keyword) => Tok::Keyword(keyword),
                None => Tok::Ident(word.to_string()),
            },
        };
        self.emit(tok, start);
        Ok(())
    }

    fn field_or_variable(&mut self, start: usize, variable: bool) -> LexResult<()> {
        if self.at_terminator() {
            self.emit(if variable { Tok::Variable("$".into()) } else { Tok::Dot }, start);
            return Ok(());
        }
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            return Err(self.bad_character());
        }
        let word = &self.src[start..self.pos];
        let tok = if variable {
            Tok::Variable(word.to_string())
        } else {
            Tok::Field(word[1..].to_string())
        };
        self.emit(tok, start);
        Ok(())
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.bump();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn number(&mut self, start: usize) -> LexResult<()> {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.bump();
            return Err((start, format!("bad number syntax: `{}`", &self.src[start..self.pos])));
        }
        let text = self.src[start..self.pos].to_string();
        self.emit(Tok::Number(text), start);
        Ok(())
    }

    fn quote(&mut self, start: usize) -> LexResult<()> {
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some('\n') | None => {
                        return Err((start, "this string is never closed with `\"`".into()));
                    }
                    Some(_) => {}
                },
                Some('\n') | None => {
                    return Err((start, "this string is never closed with `\"`".into()));
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        let body = &self.src[start + 1..self.pos - 1];
        let text = unquote(body, '"').map_err(|message| (start, message))?;
        self.emit(Tok::Str(text), start);
        Ok(())
    }

    fn raw_quote(&mut self, start: usize) -> LexResult<()> {
        let Some(close) = self.rest().find('`') else {
            return Err((start, "this raw string is never closed with a backquote".into()));
        };
        let text = self.rest()[..close].replace('\r', "");
        self.pos += close + 1;
        self.emit(Tok::Str(text), start);
        Ok(())
    }

    fn char_constant(&mut self, start: usize) -> LexResult<()> {
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some('\n') | None => {
                        return Err((start, "this character constant is never closed with `'`".into()));
                    }
                    Some(_) => {}
                },
                Some('\n') | None => {
                    return Err((start, "this character constant is never closed with `'`".into()));
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        let body = &self.src[start + 1..self.pos - 1];
        let text = unquote(body, '\'').map_err(|message| (start, message))?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => self.emit(Tok::CharConst(i64::from(u32::from(c))), start),
            _ => return Err((start, format!("malformed character constant: '{body}'"))),
        }
        Ok(())
    }
}

/// Go's string unquoting (`strconv.Unquote`) of the inside of a quoted literal. Byte escapes
/// that do not form UTF-8 become U+FFFD.
pub(crate) fn unquote(body: &str, quote: char) -> Result<String, String> {
    let mut bytes: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let bad = |what: &str| format!("invalid escape `{what}` in a quoted string");
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c == quote {
                return Err(format!("unescaped {quote} in a quoted string"));
            }
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some(e) = chars.next() else {
            return Err(bad("\\"));
        };
        let simple = match e {
            'a' => Some(7u8),
            'b' => Some(8),
            'f' => Some(12),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' if quote == '"' => Some(b'"'),
            '\'' if quote == '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(b) = simple {
            bytes.push(b);
            continue;
        }
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize| -> Option<u32> {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * 16 + chars.next()?.to_digit(16)?;
            }
            Some(v)
        };
        match e {
            'x' => {
                let v = hex(&mut chars, 2).ok_or_else(|| bad("\\x"))?;
                bytes.push(v as u8);
            }
            'u' | 'U' => {
                let v = hex(&mut chars, if e == 'u' { 4 } else { 8 }).ok_or_else(|| bad(&format!("\\{e}")))?;
                let c = char::from_u32(v).ok_or_else(|| bad(&format!("\\{e}{v:x}")))?;
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars.next().and_then(|c| c.to_digit(8)).ok_or_else(|| bad("\\0"))?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err(bad(&format!("\\{v:o}")));
                }
                bytes.push(v as u8);
            }
            other => return Err(bad(&format!("\\{other}"))),
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn trim_markers_remove_all_adjacent_whitespace() {
        assert_eq!(
            toks("a \n\t{{- 3 -}} \n b"),
            vec![
                Tok::Text("a".into()),
                Tok::LeftDelim,
                Tok::Number("3".into()),
                Tok::RightDelim,
                Tok::Text("b".into()),
                Tok::Eof
            ]
        );
        // Without a space the dash is part of a number.
        assert_eq!(
            toks("a {{-3}}"),
            vec![
                Tok::Text("a ".into()),
                Tok::LeftDelim,
                Tok::Number("-3".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(
            toks("a {{- /* x */ -}} b"),
            vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]
        );
        assert!(matches!(toks("{{/* x */ y}}").last(), Some(Tok::Error(_))));
    }

    #[test]
    fn action_tokens() {
        assert_eq!(
            toks(r#"{{range $i, $e := service "a\tb" | len}}"#),
            vec![
                Tok::LeftDelim,
                Tok::Keyword(Keyword::Range),
                Tok::Space,
                Tok::Variable("$i".into()),
                Tok::Char(','),
                Tok::Space,
                Tok::Variable("$e".into()),
                Tok::Space,
                Tok::Declare,
                Tok::Space,
                Tok::Ident("service".into()),
                Tok::Space,
                Tok::Str("a\tb".into()),
                Tok::Space,
                Tok::Pipe,
                Tok::Space,
                Tok::Ident("len".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("{{.A.B $.C 'x' `r`}}"),
            vec![
                Tok::LeftDelim,
                Tok::Field("A".into()),
                Tok::Field("B".into()),
                Tok::Space,
                Tok::Variable("$".into()),
                Tok::Field("C".into()),
                Tok::Space,
                Tok::CharConst(120),
                Tok::Space,
                Tok::Str("r".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn unquoting_follows_go() {
        assert_eq!(unquote(r#"a\"b\x41\u00e9\101\n"#, '"').unwrap(), "a\"bAéA\n");
        assert!(unquote(r"\q", '"').is_err());
        assert!(unquote(r"\'", '"').is_err());
    }
}
