//! Ansible's `!unsafe` tag: a string that is never templated. bgrun keeps such a string as the
//! one template that renders to it, `{{ '...' }}` with every character of Jinja markup escaped,
//! so each rendering gives the text back as written.

use crate::template::is_template;

/// The string to store for an `!unsafe` text: the text itself when it holds no markup.
pub fn protect(text: &str) -> String {
    if !is_template(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("{{ '");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '{' | '}' | '%' | '#' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("' }}");
    out
}

#[cfg(test)]
mod tests {
    use super::protect;
    use crate::template::{Scope, Templar};

    #[test]
    fn a_protected_text_renders_to_itself() {
        let templar = Templar::new();
        let scope = Scope::new(&templar, Default::default());
        for text in ["{{ x }}", "a {% if %} b\n{# c #}\t'd' \\e }}", "{{ '{{' }}"] {
            let rendered = templar.render_string(&protect(text), &scope).expect("renders");
            assert_eq!(rendered, serde_json::Value::from(text));
        }
        assert_eq!(protect("plain"), "plain");
    }
}
