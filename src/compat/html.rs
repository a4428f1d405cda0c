//! Go's `template.HTMLEscapeString`: the one escaping of text for HTML and XML, used by
//! consul-template's `html` function and by the `--timeline` picture.

/// Escapes `"`, `'`, `&`, `<` and `>` as character references (valid in HTML and XML text and
/// quoted attributes) and NUL as U+FFFD, as Go's `template.HTMLEscapeString` does.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_go() {
        // Go: template.HTMLEscapeString("<a href=\"x\">Tom & 'Jerry'</a>\x00")
        assert_eq!(
            super::escape("<a href=\"x\">Tom & 'Jerry'</a>\0"),
            "&lt;a href=&#34;x&#34;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;\u{FFFD}"
        );
    }
}
