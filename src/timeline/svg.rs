//! The picture as SVG: the legend, the plays, the time axis, the hosts' rows and a bar per step
//! and host, coloured by how it ended, whose `<title>` is its tooltip. Standalone or inline in
//! the HTML page; it needs no script, font or style from elsewhere.

use std::fmt::Write;

use super::layout::{AXIS_LABEL_Y, LANE_HEIGHT, LEGEND_Y, Layout, PLAY_LABEL_Y, PLAYS_TOP, ROWS_TOP, WIDTH};
use super::record::Verdict;
use crate::compat::html;

/// A bar's fill for each verdict.
pub fn color(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "#3fa34d",
        Verdict::Changed => "#e0a800",
        Verdict::Failed => "#d33f3f",
        Verdict::Skipped => "#9aa5b1",
        Verdict::Unreachable => "#7b3fa0",
        Verdict::Ignored => "#f19a9a",
        Verdict::Rescued => "#e8743b",
    }
}

/// Text for XML and HTML: escaped, with the control characters XML 1.0 forbids replaced.
pub fn escape(text: &str) -> String {
    let allowed: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() && (c as u32) < 0x20 => '\u{FFFD}',
            c => c,
        })
        .collect();
    html::escape(&allowed)
}

/// The `<svg>` element; `standalone` adds the XML declaration an .svg file starts with.
pub fn render(layout: &Layout<'_>, standalone: bool) -> String {
    let mut out = String::new();
    let bottom = layout.height - 8.0;
    if standalone {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bgrun-timeline\" width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" font-family=\"sans-serif\" font-size=\"11\">",
        h = layout.height
    );
    out.push_str("<style>\n");
    for verdict in Verdict::ALL {
        let _ = writeln!(out, ".{}{{fill:{}}}", verdict.word(), color(verdict));
    }
    out.push_str(
        ".bar{stroke:#fff;stroke-width:.5}.bar:hover{stroke:#000;stroke-width:1.5}\
         .label{fill:#fff;pointer-events:none}.changed+.label,.skipped+.label,.ignored+.label{fill:#222}.host{fill:#222}.tick{stroke:#ddd}.axis{fill:#555}\
         .band{fill:#f3f5f8}.play{fill:#333;font-weight:bold}.row{stroke:#ccc}\n</style>\n",
    );

    // The legend, and the run's total time at the right.
    let mut x = 8.0;
    for verdict in Verdict::ALL {
        let _ = writeln!(
            out,
            "<rect class=\"swatch {w}\" x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" rx=\"2\"/><text x=\"{tx}\" y=\"{ty}\">{w}</text>",
            w = verdict.word(),
            y = LEGEND_Y - 10.0,
            tx = x + 16.0,
            ty = LEGEND_Y,
        );
        x += 16.0 + verdict.word().len() as f64 * 7.0 + 14.0;
    }
    let _ = writeln!(
        out,
        "<text class=\"axis\" x=\"{}\" y=\"{LEGEND_Y}\" text-anchor=\"end\">total {}</text>",
        WIDTH - 16.0,
        escape(&layout.total)
    );

    for (i, band) in layout.plays.iter().enumerate() {
        let title = format!("play {}: from {} for {}", band.name, band.start, band.duration);
        let _ = writeln!(
            out,
            "<rect class=\"band\" x=\"{:.2}\" y=\"{PLAYS_TOP}\" width=\"{:.2}\" height=\"{:.2}\" fill-opacity=\"{}\"><title>{}</title></rect>",
            band.x,
            band.width,
            bottom - PLAYS_TOP,
            if i % 2 == 0 { 1 } else { 0 },
            escape(&title)
        );
        if let Some(label) = &band.label {
            let _ = writeln!(
                out,
                "<text class=\"play\" x=\"{:.2}\" y=\"{PLAY_LABEL_Y}\">{}</text>",
                band.x + 3.0,
                escape(label)
            );
        }
    }

    for tick in &layout.ticks {
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x:.2}\" y1=\"{ROWS_TOP}\" x2=\"{x:.2}\" y2=\"{bottom}\"/><text class=\"axis\" x=\"{x:.2}\" y=\"{AXIS_LABEL_Y}\" text-anchor=\"middle\">{}</text>",
            escape(&tick.label),
            x = tick.x,
        );
    }

    let _ = writeln!(
        out,
        "<line class=\"row\" x1=\"{x:.2}\" y1=\"{ROWS_TOP}\" x2=\"{x:.2}\" y2=\"{bottom}\"/>",
        x = layout.left
    );
    for row in &layout.rows {
        let _ = writeln!(
            out,
            "<line class=\"row\" x1=\"0\" y1=\"{y:.2}\" x2=\"{WIDTH}\" y2=\"{y:.2}\"/><text class=\"host\" x=\"8\" y=\"{:.2}\">{}</text>",
            row.y + row.height / 2.0 + 4.0,
            escape(row.host),
            y = row.y,
        );
    }

    for placed in &layout.bars {
        let bar = placed.bar;
        let word = bar.verdict.word();
        let mut title = format!("{}\n{}: {word} in {}", bar.step, bar.host, placed.duration);
        if bar.items > 0 {
            let _ = write!(title, " ({} items)", bar.items);
        }
        if let Some(msg) = &bar.msg {
            let _ = write!(title, "\n{msg}");
        }
        let _ = writeln!(
            out,
            "<rect class=\"bar {word}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{LANE_HEIGHT}\" rx=\"2\" data-step=\"{}\" data-host=\"{}\"><title>{}</title></rect>",
            placed.x,
            placed.y,
            placed.width,
            escape(&bar.step),
            escape(&bar.host),
            escape(&title)
        );
        if let Some(label) = &placed.label {
            let _ = writeln!(
                out,
                "<text class=\"label\" x=\"{:.2}\" y=\"{:.2}\">{}</text>",
                placed.x + 3.0,
                placed.y + LANE_HEIGHT - 4.0,
                escape(label)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::timeline::layout::layout;
    use crate::timeline::record::{Bar, PlayMark, Recording};

    fn recording(step: &str, verdicts: &[Verdict]) -> Recording {
        let bars = verdicts
            .iter()
            .enumerate()
            .map(|(i, v)| Bar {
                step: step.into(),
                host: format!("h{i}"),
                start: Duration::ZERO,
                end: Duration::from_millis(40),
                verdict: *v,
                items: 0,
                msg: (*v == Verdict::Failed).then(|| "boom <here>".into()),
            })
            .collect();
        Recording {
            plays: vec![PlayMark {
                name: "a & b".into(),
                start: Duration::ZERO,
            }],
            hosts: (0..verdicts.len()).map(|i| format!("h{i}")).collect(),
            bars,
            end: Duration::from_millis(40),
        }
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            escape("<b> & \"q\" 'a'\u{1}"),
            "&lt;b&gt; &amp; &#34;q&#34; &#39;a&#39;\u{FFFD}"
        );
        let svg = render(
            &layout(&recording("<script>alert(\"&\")</script>", &[Verdict::Failed])),
            true,
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(
            svg.contains("data-step=\"&lt;script&gt;alert(&#34;&amp;&#34;)&lt;/script&gt;\""),
            "{svg}"
        );
        assert!(svg.contains("boom &lt;here&gt;"), "{svg}");
        assert!(svg.contains(">a &amp; b</text>"), "{svg}");
    }

    #[test]
    fn each_verdict_has_its_own_color() {
        let colors: std::collections::HashSet<&str> = Verdict::ALL.iter().map(|v| color(*v)).collect();
        assert_eq!(colors.len(), Verdict::ALL.len());
        let svg = render(&layout(&recording("s", &Verdict::ALL)), false);
        for (i, verdict) in Verdict::ALL.into_iter().enumerate() {
            let rule = format!(".{}{{fill:{}}}", verdict.word(), color(verdict));
            assert!(svg.contains(&rule), "{rule} in {svg}");
            assert_eq!(
                svg.matches(&format!("<rect class=\"bar {}\"", verdict.word())).count(),
                1
            );
            assert!(svg.contains(&format!("h{i}: {} in 40 ms", verdict.word())), "{svg}");
        }
        assert!(!svg.starts_with("<?xml"), "inline SVG has no XML declaration");
    }

    #[test]
    fn one_bar_per_step_and_host() {
        let svg = render(&layout(&recording("s", &[Verdict::Ok, Verdict::Failed])), true);
        assert_eq!(svg.matches("<rect class=\"bar ").count(), 2);
        assert_eq!(svg.matches("<title>").count(), svg.matches("</title>").count());
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    }
}
