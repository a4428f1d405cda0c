//! PyYAML's leniency inside flow collections: a `{ ... }` or `[ ... ]` spread over lines may
//! have its lines indented less than the block it sits in, which YAML 1.2 (and yaml-rust2)
//! refuse. [`relax`] moves such lines right, just past the collection's opening bracket, and
//! says by how much, so that positions can still be reported as the file has them.

/// The text with each line inside a flow collection that starts left of its outermost opening
/// bracket padded with spaces, and the padding added to each line (indexed from 0); `None` when
/// no line needs it.
pub fn relax(text: &str) -> Option<(String, Vec<usize>)> {
    let mut scan = Scan::default();
    let mut out = String::with_capacity(text.len() + 64);
    let mut padding = Vec::new();
    let mut padded = false;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if let Some(parent) = scan.block_scalar {
            if blank || indent > parent {
                out.push_str(line);
                padding.push(0);
                continue;
            }
            scan.block_scalar = None;
        }
        let pad = match scan.flow_column {
            Some(column) if scan.depth > 0 && !blank && indent < column => column - indent,
            _ => 0,
        };
        padded |= pad > 0;
        padding.push(pad);
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(line);
        scan.line(line, indent);
    }
    padded.then_some((out, padding))
}

#[derive(Default)]
struct Scan {
    /// How many flow collections are open.
    depth: usize,
    /// The column (from 0) just past the outermost open flow collection's bracket.
    flow_column: Option<usize>,
    quote: Option<char>,
    /// Inside a block scalar (`|`, `>`) whose indicator sits on a line of this indentation.
    block_scalar: Option<usize>,
}

impl Scan {
    fn line(&mut self, line: &str, indent: usize) {
        let chars: Vec<char> = line.trim_end_matches(['\n', '\r']).chars().collect();
        // The last character that is not a space, and whether the one before is a space.
        let mut last_token: Option<char> = None;
        let mut prev: Option<char> = None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match self.quote {
                Some('\'') if c == '\'' && chars.get(i + 1) == Some(&'\'') => i += 1,
                Some('"') if c == '\\' => i += 1,
                Some(q) if c == q => self.quote = None,
                Some(_) => {}
                None => {
                    let at_token_start = matches!(prev, None | Some(' ' | '\t' | '[' | '{' | ','))
                        && (self.depth > 0 || matches!(last_token, None | Some(':' | '-' | '?' | '[' | '{' | ',')));
                    match c {
                        '#' if matches!(prev, None | Some(' ' | '\t')) => break,
                        '\'' | '"' if at_token_start => self.quote = Some(c),
                        '{' | '[' if self.depth > 0 || at_token_start => {
                            if self.depth == 0 {
                                self.flow_column = Some(i + 1);
                            }
                            self.depth += 1;
                        }
                        '}' | ']' if self.depth > 0 => self.depth -= 1,
                        _ => {}
                    }
                }
            }
            // An escape or a doubled quote skipped the character after it, which may be past the
            // line's end.
            if let Some(&c) = chars.get(i) {
                if !c.is_whitespace() {
                    last_token = Some(c);
                }
                prev = Some(c);
            }
            i += 1;
        }
        if self.depth == 0 && self.quote.is_none() && ends_with_block_indicator(&chars[..i.min(chars.len())]) {
            self.block_scalar = Some(indent);
        }
    }
}

/// Whether a line (its comment cut) ends with `|`, `>`, `|-`, `>+2` and the like, after `: `,
/// `- ` or nothing.
fn ends_with_block_indicator(chars: &[char]) -> bool {
    let text: String = chars.iter().collect();
    let text = text.trim_end();
    let head = text.trim_end_matches(['-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    let Some(before) = head.strip_suffix(['|', '>']) else {
        return false;
    };
    let before = before.trim_end_matches(' ');
    before.is_empty() || before.ends_with(':') || before.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::relax;

    #[test]
    fn lines_of_a_flow_mapping_left_of_its_bracket_move_past_it() {
        let text = "a:\n  v: {\n  \"b\": \"x\",\n    \"c\": {\n  \"d\": 1}\n}\nz: 1\n";
        let (relaxed, padding) = relax(text).expect("padded");
        assert_eq!(
            relaxed,
            "a:\n  v: {\n      \"b\": \"x\",\n      \"c\": {\n      \"d\": 1}\n      }\nz: 1\n"
        );
        assert_eq!(padding, [0, 0, 4, 2, 4, 6, 0]);
    }

    #[test]
    fn a_line_ending_in_an_escape_inside_quotes_is_read_to_its_end() {
        // Found by fuzzing (the playbook and INI inventory targets): a backslash ending a line
        // inside a double-quoted scalar indexed past the line.
        assert_eq!(relax("a: \"b\\\n  c\"\n"), None);
        assert_eq!(relax("a: 'b''\nc: [d,\ne]\n"), None);
        assert!(relax("x: \"\\").is_none());
    }

    #[test]
    fn text_that_needs_nothing_is_left_alone() {
        assert_eq!(relax("a: {b: 1,\n     c: 2}\nd: '{'\ne: x {y\n"), None);
        assert_eq!(relax("a: |\n  {\nb: \"[\"\n# {\nc: 'it''s {'\n"), None);
    }
}
