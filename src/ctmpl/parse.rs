//! Builds the tree of a `.ctmpl` file from its tokens with Go's text/template grammar: actions,
//! pipelines, variables, `if`/`with`/`range` with `else` and `else if`, `break`/`continue`,
//! `define`/`template`/`block`. Like Go, it rejects unknown functions and undefined variables
//! before anything is rendered.

use std::collections::HashMap;

use super::funcs;
use super::lex::{Keyword, Tok, Token, lex};

/// An error at a byte offset of the file, from parsing it or from running it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OffsetError {
    pub pos: usize,
    pub message: String,
    pub help: Option<String>,
}

impl OffsetError {
    pub(crate) fn new(pos: usize, message: impl Into<String>) -> Self {
        OffsetError {
            pos,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

type PResult<T> = Result<T, OffsetError>;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action(Pipe),
    If(Control),
    With(Control),
    Range(Control),
    Break,
    Continue,
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
}

/// `if`, `with` or `range`: the pipeline, the body and the `else` body.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// `$x := a | b c`: declared (or assigned) variables and the commands.
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

/// One stage of a pipeline: an operand or a function with its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        names: Vec<String>,
    },
    /// `$x.A.B`
    Variable {
        pos: usize,
        name: String,
        fields: Vec<String>,
    },
    /// `(pipeline).A.B` or `func.A`
    Chain {
        pos: usize,
        base: Box<Arg>,
        fields: Vec<String>,
    },
    Func {
        pos: usize,
        name: String,
    },
    Pipe(Box<Pipe>),
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Int(usize, i64),
    Float(usize, f64),
    Str(usize, String),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. } | Arg::Variable { pos, .. } | Arg::Chain { pos, .. } | Arg::Func { pos, .. } => *pos,
            Arg::Pipe(pipe) => pipe.pos,
            Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Int(pos, _)
            | Arg::Float(pos, _)
            | Arg::Str(pos, _) => *pos,
        }
    }

    /// Literals and dot cannot take arguments or start a later pipeline stage.
    fn is_literal(&self) -> bool {
        matches!(
            self,
            Arg::Dot(_) | Arg::Nil(_) | Arg::Bool(..) | Arg::Int(..) | Arg::Float(..) | Arg::Str(..)
        )
    }
}

/// A parsed file: the main body and the templates it defines.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

/// How deep blocks and parentheses may nest.
const MAX_NESTING: usize = 100;

pub(crate) fn parse(src: &str) -> PResult<Parsed> {
    let mut parser = Parser {
        src,
        toks: lex(src),
        i: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        nesting: 0,
        defines: HashMap::new(),
    };
    let mut root = Vec::new();
    loop {
        if parser.peek()?.tok == Tok::Eof {
            break;
        }
        if parser.peek()?.tok == Tok::LeftDelim {
            let save = parser.i;
            let delim = parser.next()?.pos;
            if parser.peek_non_space()?.tok == Tok::Keyword(Keyword::Define) {
                parser.next_non_space()?;
                let (name, body) = parser.define(delim)?;
                parser.register(name, body, delim)?;
                continue;
            }
            parser.i = save;
        }
        match parser.text_or_action()? {
            Item::Node(node) => root.push(node),
            Item::End(pos) => {
                return Err(OffsetError::new(pos, "`{{end}}` closes nothing")
                    .help("remove it, or open a block before it with `{{if}}`, `{{range}}` or `{{with}}`"));
            }
            Item::Else(pos) => {
                return Err(
                    OffsetError::new(pos, "`{{else}}` outside `{{if}}`, `{{range}}` or `{{with}}`")
                        .help("move it inside the block it belongs to"),
                );
            }
        }
    }
    Ok(Parsed {
        root,
        defines: parser.defines,
    })
}

impl Parser<'_> {
    /// Go keeps the first non-empty definition and refuses a second non-empty one.
    fn register(&mut self, name: String, body: Vec<Node>, pos: usize) -> PResult<()> {
        let empty = |nodes: &[Node]| nodes.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()));
        match self.defines.get(&name) {
            Some(existing) if !empty(existing) && !empty(&body) => {
                Err(OffsetError::new(pos, format!("template `{name}` is defined twice"))
                    .help("rename one of the `{{define}}` blocks"))
            }
            Some(existing) if !empty(existing) => Ok(()),
            _ => {
                self.defines.insert(name, body);
                Ok(())
            }
        }
    }
}

/// What `textOrAction` finds: a node, or the `{{end}}` / `{{else}}` that ends a list.
enum Item {
    Node(Node),
    End(usize),
    Else(usize),
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    nesting: usize,
    defines: HashMap<String, Vec<Node>>,
}

impl Parser<'_> {
    fn token_at(&self, i: usize) -> PResult<Token> {
        let token = match self.toks.get(i) {
            Some(t) => t.clone(),
            None => {
                let end = self.src.len();
                Token {
                    tok: Tok::Eof,
                    pos: end,
                    end,
                }
            }
        };
        if let Tok::Error(message) = &token.tok {
            return Err(OffsetError::new(token.pos, message.clone()));
        }
        Ok(token)
    }

    fn peek(&self) -> PResult<Token> {
        self.token_at(self.i)
    }

    fn next(&mut self) -> PResult<Token> {
        let token = self.token_at(self.i)?;
        self.i += 1;
        Ok(token)
    }

    fn skip_spaces(&mut self) {
        while matches!(self.toks.get(self.i), Some(Token { tok: Tok::Space, .. })) {
            self.i += 1;
        }
    }

    fn peek_non_space(&mut self) -> PResult<Token> {
        self.skip_spaces();
        self.peek()
    }

    fn next_non_space(&mut self) -> PResult<Token> {
        self.skip_spaces();
        self.next()
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    /// The source text of a token, for messages.
    fn describe(&self, token: &Token) -> String {
        match &token.tok {
            Tok::Eof => "the end of the file".into(),
            Tok::Text(_) => "text".into(),
            Tok::RightDelim => "`}}`".into(),
            _ => format!("`{}`", self.src.get(token.pos..token.end).unwrap_or("?").trim()),
        }
    }

    fn unexpected(&self, token: &Token, context: &str) -> OffsetError {
        OffsetError::new(token.pos, format!("unexpected {} in {context}", self.describe(token)))
    }

    fn enter(&mut self, pos: usize) -> PResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(OffsetError::new(
                pos,
                format!("blocks and parentheses nest more than {MAX_NESTING} deep"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn define(&mut self, delim: usize) -> PResult<(String, Vec<Node>)> {
        let name = self.template_name("define")?;
        let token = self.next_non_space()?;
        if token.tok != Tok::RightDelim {
            return Err(self.unexpected(&token, "`{{define}}`"));
        }
        let outer_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        self.enter(delim)?;
        let (list, end) = self.item_list(delim, "define")?;
        self.leave();
        self.vars = outer_vars;
        match end {
            Item::End(_) => Ok((name, list)),
            Item::Else(pos) => Err(OffsetError::new(
                pos,
                "`{{else}}` inside `{{define}}` without `{{if}}`, `{{range}}` or `{{with}}`",
            )),
            Item::Node(_) => Err(OffsetError::new(delim, "`{{define}}` is never closed").help("add `{{end}}`")),
        }
    }

    fn template_name(&mut self, context: &str) -> PResult<String> {
        let token = self.next_non_space()?;
        match token.tok {
            Tok::Str(name) => Ok(name),
            _ => Err(self.unexpected(&token, &format!("`{{{{{context}}}}}`")).help(format!(
                "name the template with a quoted string: `{{{{{context} \"name\"}}}}`"
            ))),
        }
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let token = self.next_non_space()?;
        match token.tok {
            Tok::Text(text) => Ok(Item::Node(Node::Text(text))),
            Tok::LeftDelim => self.action(token.pos),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    /// Nodes up to the `{{end}}` or `{{else}}` that closes the block opened at `open`.
    fn item_list(&mut self, open: usize, context: &str) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        loop {
            if self.peek_non_space()?.tok == Tok::Eof {
                return Err(
                    OffsetError::new(open, format!("this `{{{{{context}}}}}` is never closed"))
                        .help("add `{{end}}` where the block ends"),
                );
            }
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                end => return Ok((list, end)),
            }
        }
    }

    fn action(&mut self, delim: usize) -> PResult<Item> {
        let token = self.next_non_space()?;
        match token.tok {
            Tok::Keyword(Keyword::Block) => self.block(delim).map(Item::Node),
            Tok::Keyword(Keyword::Break) => self.loop_control(&token, "break").map(|_| Item::Node(Node::Break)),
            Tok::Keyword(Keyword::Continue) => self
                .loop_control(&token, "continue")
                .map(|_| Item::Node(Node::Continue)),
            Tok::Keyword(Keyword::Else) => {
                if matches!(self.peek_non_space()?.tok, Tok::Keyword(Keyword::If | Keyword::With)) {
                    return Ok(Item::Else(delim));
                }
                self.expect_right_delim("`{{else}}`")?;
                Ok(Item::Else(delim))
            }
            Tok::Keyword(Keyword::End) => {
                self.expect_right_delim("`{{end}}`")?;
                Ok(Item::End(delim))
            }
            Tok::Keyword(Keyword::If) => self.control("if", delim).map(|c| Item::Node(Node::If(c))),
            Tok::Keyword(Keyword::Range) => self.control("range", delim).map(|c| Item::Node(Node::Range(c))),
            Tok::Keyword(Keyword::With) => self.control("with", delim).map(|c| Item::Node(Node::With(c))),
            Tok::Keyword(Keyword::Template) => self.template_call(delim).map(Item::Node),
            Tok::Keyword(Keyword::Define) => Err(OffsetError::new(token.pos, "`{{define}}` inside a block").help(
                "define templates at the top level of the file, outside every `{{if}}`, `{{range}}` and `{{with}}`",
            )),
            _ => {
                self.backup();
                let pipe = self.pipeline("command", &Tok::RightDelim)?;
                Ok(Item::Node(Node::Action(pipe)))
            }
        }
    }

    fn expect_right_delim(&mut self, context: &str) -> PResult<()> {
        let token = self.next_non_space()?;
        if token.tok != Tok::RightDelim {
            return Err(self.unexpected(&token, context));
        }
        Ok(())
    }

    fn loop_control(&mut self, token: &Token, word: &str) -> PResult<()> {
        if self.range_depth == 0 {
            return Err(
                OffsetError::new(token.pos, format!("`{{{{{word}}}}}` outside `{{{{range}}}}`"))
                    .help(format!("`{word}` only works inside a `{{{{range}}}}` loop")),
            );
        }
        self.expect_right_delim(&format!("`{{{{{word}}}}}`"))
    }

    fn template_call(&mut self, delim: usize) -> PResult<Node> {
        let name = self.template_name("template")?;
        let token = self.peek_non_space()?;
        let pipe = if token.tok == Tok::RightDelim {
            self.next_non_space()?;
            None
        } else {
            Some(self.pipeline("template clause", &Tok::RightDelim)?)
        };
        Ok(Node::Template { pos: delim, name, pipe })
    }

    /// `{{block "name" pipeline}}body{{end}}` defines `name` and calls it.
    fn block(&mut self, delim: usize) -> PResult<Node> {
        let name = self.template_name("block")?;
        let pipe = self.pipeline("block clause", &Tok::RightDelim)?;
        let outer_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        self.enter(delim)?;
        let (list, end) = self.item_list(delim, "block")?;
        self.leave();
        self.vars = outer_vars;
        if let Item::Else(pos) = end {
            return Err(OffsetError::new(
                pos,
                "`{{else}}` inside `{{block}}` without `{{if}}`, `{{range}}` or `{{with}}`",
            ));
        }
        self.register(name.clone(), list, delim)?;
        Ok(Node::Template {
            pos: delim,
            name,
            pipe: Some(pipe),
        })
    }

    fn control(&mut self, context: &str, delim: usize) -> PResult<Control> {
        let mark = self.vars.len();
        self.enter(delim)?;
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list(delim, context)?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Item::Else(else_pos) = next {
            let chained = match self.peek()?.tok {
                Tok::Keyword(Keyword::If) if context == "if" => Some(("if", Keyword::If)),
                Tok::Keyword(Keyword::With) if context == "with" => Some(("with", Keyword::With)),
                _ => None,
            };
            if let Some((word, _)) = chained {
                // `{{else if x}}` is `{{else}}{{if x}}...{{end}}{{end}}` with one shared `{{end}}`.
                self.next()?;
                let inner = self.control(word, else_pos)?;
                else_list = Some(vec![if word == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                }]);
            } else {
                let (list, end) = self.item_list(delim, context)?;
                if let Item::Else(pos) = end {
                    return Err(
                        OffsetError::new(pos, format!("a second `{{{{else}}}}` in one `{{{{{context}}}}}`"))
                            .help("a block has at most one `{{else}}`; use `{{else if ...}}` to chain conditions"),
                    );
                }
                else_list = Some(list);
            }
        }
        self.vars.truncate(mark);
        self.leave();
        Ok(Control { pipe, list, else_list })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> PResult<Pipe> {
        let start = self.peek_non_space()?.pos;
        let mut pipe = Pipe {
            pos: start,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        loop {
            let token = self.peek_non_space()?;
            let Tok::Variable(name) = &token.tok else {
                break;
            };
            let var_index = self.i;
            self.next()?;
            let next = self.peek_non_space()?;
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    self.next()?;
                    pipe.is_assign = next.tok == Tok::Assign;
                    if pipe.is_assign && !self.vars.contains(name) {
                        return Err(self.undefined_variable(token.pos, name));
                    }
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                    break;
                }
                Tok::Char(',') => {
                    self.next()?;
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space()?.tok {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => {
                                return Err(OffsetError::new(next.pos, "`range` can only declare variables here"));
                            }
                        }
                    }
                    return Err(
                        OffsetError::new(next.pos, format!("too many declarations in {context}")).help(
                            "`range` declares at most two variables (`$i, $e := ...`); other actions declare one",
                        ),
                    );
                }
                _ => {
                    self.i = var_index;
                    break;
                }
            }
        }
        loop {
            let token = self.next_non_space()?;
            if &token.tok == end {
                return self.check_pipeline(pipe, context, token.pos);
            }
            match token.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    let trailing_pipe = matches!(
                        self.toks.get(self.i.saturating_sub(1)),
                        Some(Token { tok: Tok::Pipe, .. })
                    );
                    pipe.cmds.push(cmd);
                    if trailing_pipe && &self.peek_non_space()?.tok == end {
                        let token = self.peek_non_space()?;
                        return Err(OffsetError::new(token.pos, "missing command after `|`")
                            .help("remove the `|` or name the function the value is piped into"));
                    }
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: Pipe, context: &str, pos: usize) -> PResult<Pipe> {
        if pipe.cmds.is_empty() {
            return Err(OffsetError::new(pos, format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(first) = cmd.args.first()
                && first.is_literal()
            {
                return Err(OffsetError::new(
                    first.pos(),
                    format!("stage {} of the pipeline is not a function", i + 1),
                )
                .help("after `|` comes a function (or a field or variable) that receives the value"));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self) -> PResult<Command> {
        let mut args = Vec::new();
        loop {
            self.skip_spaces();
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let token = self.next()?;
            match token.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if args.is_empty() {
            let token = self.peek()?;
            return Err(OffsetError::new(token.pos, "empty command"));
        }
        if args.len() > 1
            && let Some(first) = args.first()
            && first.is_literal()
        {
            return Err(OffsetError::new(first.pos(), "a literal cannot take arguments")
                .help("only functions take arguments; did you forget a function name?"));
        }
        Ok(Command { args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        while let Tok::Field(name) = self.peek()?.tok {
            self.next()?;
            fields.push(name);
        }
        if fields.is_empty() {
            return Ok(Some(node));
        }
        Ok(Some(match node {
            Arg::Field { pos, mut names } => {
                names.extend(fields);
                Arg::Field { pos, names }
            }
            Arg::Variable {
                pos,
                name,
                fields: mut existing,
            } => {
                existing.extend(fields);
                Arg::Variable {
                    pos,
                    name,
                    fields: existing,
                }
            }
            node if node.is_literal() => {
                return Err(OffsetError::new(node.pos(), "a field cannot follow a literal"));
            }
            node => Arg::Chain {
                pos: node.pos(),
                base: Box::new(node),
                fields,
            },
        }))
    }

    fn undefined_variable(&self, pos: usize, name: &str) -> OffsetError {
        let known = self.vars.iter().map(String::as_str).filter(|v| *v != "$");
        let help = match crate::error::suggest(name, known) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("declare it first: `{{{{{name} := ...}}}}`"),
        };
        OffsetError::new(pos, format!("undefined variable `{name}`")).help(help)
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space()?;
        let pos = token.pos;
        Ok(Some(match token.tok {
            Tok::Ident(name) => {
                funcs::check_name(&name).map_err(|(message, help)| OffsetError::new(pos, message).help(help))?;
                Arg::Func { pos, name }
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.undefined_variable(pos, &name));
                }
                Arg::Variable {
                    pos,
                    name,
                    fields: Vec::new(),
                }
            }
            Tok::Field(name) => Arg::Field { pos, names: vec![name] },
            Tok::Bool(b) => Arg::Bool(pos, b),
            Tok::CharConst(c) => Arg::Int(pos, c),
            Tok::Number(text) => number(pos, &text)?,
            Tok::Str(s) => Arg::Str(pos, s),
            Tok::LeftParen => {
                self.enter(pos)?;
                let mut pipe = self.pipeline("parenthesized pipeline", &Tok::RightParen)?;
                pipe.pos = pos;
                self.leave();
                Arg::Pipe(Box::new(pipe))
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// A number literal as Go's parser and executor read it: integers (decimal, `0x`, `0o`, `0b`,
/// leading-zero octal) are ints; a literal with `.`, `e` or `E` is a float64.
fn number(pos: usize, text: &str) -> PResult<Arg> {
    let bad = || OffsetError::new(pos, format!("`{text}` is not a number"));
    if text.ends_with('i') {
        return Err(OffsetError::new(
            pos,
            format!("complex number `{text}` is not supported"),
        ));
    }
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let is_hex = lower.starts_with("0x");
    if is_hex && lower.contains('p') {
        return Err(OffsetError::new(
            pos,
            format!("hexadecimal float `{text}` is not supported"),
        ));
    }
    let int = if is_hex || lower.starts_with("0o") || lower.starts_with("0b") {
        let radix = match lower.as_bytes().get(1) {
            Some(b'x') => 16,
            Some(b'o') => 8,
            _ => 2,
        };
        Some(parse_digits(&body[2..], radix, true))
    } else if !lower.contains(['.', 'e']) {
        if body.len() > 1 && body.starts_with('0') {
            Some(parse_digits(&body[1..], 8, true))
        } else {
            Some(parse_digits(body, 10, false))
        }
    } else {
        None
    };
    if let Some(parsed) = int {
        let magnitude = parsed.ok_or_else(bad)?;
        let value = if neg { -(magnitude as i128) } else { magnitude as i128 };
        return i64::try_from(value)
            .map(|v| Arg::Int(pos, v))
            .map_err(|_| OffsetError::new(pos, format!("`{text}` does not fit in an int")));
    }
    if body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return Err(bad());
    }
    let cleaned: String = body.chars().filter(|c| *c != '_').collect();
    let value: f64 = cleaned.parse().map_err(|_| bad())?;
    Ok(Arg::Float(pos, if neg { -value } else { value }))
}

/// Digits with Go's underscore rule (between digits, or right after a base prefix).
fn parse_digits(digits: &str, radix: u32, prefixed: bool) -> Option<u128> {
    let trimmed = if prefixed {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if trimmed.is_empty() || trimmed.ends_with('_') || trimmed.starts_with('_') || trimmed.contains("__") {
        return None;
    }
    let mut value: u128 = 0;
    for c in trimmed.chars().filter(|c| *c != '_') {
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(c.to_digit(radix)?))?;
        if value > u128::from(u64::MAX) {
            return None;
        }
    }
    Some(value)
}
