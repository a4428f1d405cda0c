//! The picture as an HTML page that opens offline: the playbook, the total time, the plays and
//! the hosts, then the SVG inline (with its legend); styles inline, no script.

use std::fmt::Write;

use super::layout::Layout;
use super::svg::{self, escape};

const STYLE: &str = "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em;margin:0 0 .5em}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0 0 1em}\
dt{font-weight:bold}dd{margin:0}ol{margin:0;padding-left:1.4em}\
figure{margin:0;overflow-x:auto}small{color:#666}";

pub fn render(layout: &Layout<'_>, title: &str) -> String {
    let title = escape(title);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bgrun timeline: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>bgrun timeline: {title}</h1>\n<dl>\n<dt>Total</dt><dd class=\"total\">{}</dd>\n<dt>Plays</dt><dd><ol class=\"plays\">\n",
        escape(&layout.total)
    );
    for play in &layout.plays {
        let _ = writeln!(
            out,
            "<li>{} <small>from {} for {}</small></li>",
            escape(play.name),
            escape(&play.start),
            escape(&play.duration)
        );
    }
    out.push_str("</ol></dd>\n<dt>Hosts</dt><dd class=\"hosts\">");
    let hosts: Vec<String> = layout.rows.iter().map(|r| escape(r.host)).collect();
    out.push_str(&hosts.join(", "));
    out.push_str("</dd>\n</dl>\n<figure>\n");
    out.push_str(&svg::render(layout, false));
    out.push_str(
        "</figure>\n<p><small>One bar per step and host; steps that ran at the same time on a host lie in lanes side by side. Hover a bar for its step, host, result and duration.</small></p>\n</body>\n</html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::timeline::layout::layout;
    use crate::timeline::record::{PlayMark, Recording};

    #[test]
    fn a_page_with_the_plays_hosts_and_total() {
        let recording = Recording {
            plays: vec![PlayMark {
                name: "deploy <prod>".into(),
                start: Duration::ZERO,
            }],
            hosts: vec!["web&1".into()],
            bars: Vec::new(),
            end: Duration::from_millis(1500),
        };
        let page = super::render(&layout(&recording), "site's.yml");
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        assert!(page.contains("<title>bgrun timeline: site&#39;s.yml</title>"), "{page}");
        assert!(
            page.contains("<li>deploy &lt;prod&gt; <small>from 0 ms for 1.50 s</small></li>"),
            "{page}"
        );
        assert!(page.contains("<dd class=\"hosts\">web&amp;1</dd>"), "{page}");
        assert!(page.contains("<dd class=\"total\">1.50 s</dd>"), "{page}");
        assert!(!page.contains("<?xml") && !page.contains("src=") && !page.contains("href="));
    }
}
