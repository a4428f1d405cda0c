//! Where everything goes in the picture: a time axis, a row per host with a lane per step that
//! ran on it at the same time as another, a bar per step and host, and the plays as bands.

use std::time::Duration;

use super::record::{Bar, Recording};

/// The picture's width in pixels; the time axis fills what the host names leave.
pub const WIDTH: f64 = 1200.0;
const RIGHT: f64 = 16.0;
/// An estimate of a character's width at the picture's 11 px font, to fit labels.
const CHAR_WIDTH: f64 = 7.0;
pub const LANE_HEIGHT: f64 = 16.0;
const LANE_GAP: f64 = 3.0;
const ROW_PADDING: f64 = 5.0;
/// The narrowest bar, so that an instant result can still be seen and hovered.
const MIN_BAR: f64 = 2.0;
/// The legend's row, then the plays' names, then the axis' labels, then the hosts' rows.
pub const LEGEND_Y: f64 = 16.0;
pub const PLAYS_TOP: f64 = 26.0;
pub const PLAY_LABEL_Y: f64 = 39.0;
pub const AXIS_LABEL_Y: f64 = 57.0;
pub const ROWS_TOP: f64 = 62.0;
const BOTTOM: f64 = 8.0;

pub struct Layout<'r> {
    pub height: f64,
    /// Where the time axis starts: right of the host names.
    pub left: f64,
    pub total: String,
    pub plays: Vec<Band<'r>>,
    pub ticks: Vec<Tick>,
    pub rows: Vec<Row<'r>>,
    pub bars: Vec<Placed<'r>>,
}

/// A play's stretch of the time axis.
pub struct Band<'r> {
    pub name: &'r str,
    pub x: f64,
    pub width: f64,
    pub label: Option<String>,
    pub start: String,
    pub duration: String,
}

pub struct Tick {
    pub x: f64,
    pub label: String,
}

/// A host's row.
pub struct Row<'r> {
    pub host: &'r str,
    pub y: f64,
    pub height: f64,
}

/// A bar where it is drawn, with the step's name when it fits inside.
pub struct Placed<'r> {
    pub bar: &'r Bar,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub label: Option<String>,
    pub duration: String,
}

pub fn layout(recording: &Recording) -> Layout<'_> {
    let longest = recording.hosts.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let left = (longest as f64 * CHAR_WIDTH + 16.0).clamp(80.0, 320.0);
    let total = recording.end.max(Duration::from_millis(1));
    let scale = (WIDTH - RIGHT - left) / total.as_secs_f64();
    let x_of = |at: Duration| left + at.as_secs_f64() * scale;

    let plays = recording
        .plays
        .iter()
        .enumerate()
        .map(|(i, play)| {
            let end = recording.plays.get(i + 1).map_or(recording.end, |next| next.start);
            let width = (end.saturating_sub(play.start).as_secs_f64() * scale).max(MIN_BAR);
            Band {
                name: &play.name,
                x: x_of(play.start),
                width,
                label: fit(&play.name, width),
                start: duration_text(play.start),
                duration: duration_text(end.saturating_sub(play.start)),
            }
        })
        .collect();

    let mut rows = Vec::new();
    let mut bars = Vec::new();
    let mut y = ROWS_TOP;
    for host in &recording.hosts {
        let own: Vec<&Bar> = recording.bars.iter().filter(|b| &b.host == host).collect();
        let lanes = lanes(&own);
        let count = lanes.iter().max().map_or(1, |l| l + 1);
        let height = 2.0 * ROW_PADDING + count as f64 * LANE_HEIGHT + (count - 1) as f64 * LANE_GAP;
        for (bar, lane) in own.into_iter().zip(lanes) {
            let x = x_of(bar.start);
            let width = (x_of(bar.end) - x).max(MIN_BAR);
            bars.push(Placed {
                bar,
                x,
                y: y + ROW_PADDING + lane as f64 * (LANE_HEIGHT + LANE_GAP),
                width,
                label: fit(&bar.step, width),
                duration: duration_text(bar.end.saturating_sub(bar.start)),
            });
        }
        rows.push(Row { host, y, height });
        y += height;
    }

    Layout {
        height: y + BOTTOM,
        left,
        total: duration_text(recording.end),
        plays,
        ticks: ticks(total, &x_of),
        rows,
        bars,
    }
}

/// The lane of each of a host's bars: the first lane free when the bar starts, so steps that
/// ran at the same time lie side by side and one after another share a lane.
pub fn lanes(bars: &[&Bar]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..bars.len()).collect();
    order.sort_by_key(|&i| (bars[i].start, bars[i].end));
    let mut lane_ends: Vec<Duration> = Vec::new();
    let mut lanes = vec![0; bars.len()];
    for i in order {
        let lane = match lane_ends.iter().position(|&end| end <= bars[i].start) {
            Some(free) => free,
            None => {
                lane_ends.push(Duration::ZERO);
                lane_ends.len() - 1
            }
        };
        lane_ends[lane] = bars[i].end;
        lanes[i] = lane;
    }
    lanes
}

/// About eight ticks at a round step: 1, 2 or 5 times a power of ten milliseconds.
fn ticks(total: Duration, x_of: &dyn Fn(Duration) -> f64) -> Vec<Tick> {
    let total_ms = total.as_secs_f64() * 1000.0;
    let raw = total_ms / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    (0..)
        .map(|k| k as f64 * step)
        .take_while(|ms| *ms <= total_ms + step * 1e-9)
        .map(|ms| Tick {
            x: x_of(Duration::from_secs_f64(ms / 1000.0)),
            label: tick_text(ms, step, total_ms >= 1000.0),
        })
        .collect()
}

/// A tick's label, in seconds for a run of a second or more, with the decimals its step needs.
fn tick_text(ms: f64, step: f64, seconds: bool) -> String {
    if seconds {
        let decimals = if (step / 1000.0).fract() == 0.0 { 0 } else { 1 };
        format!("{:.*} s", decimals, ms / 1000.0)
    } else if step >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// A duration for people: `850 ms`, `3.25 s`, `2 min 05 s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let secs = d.as_secs();
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

/// The text, shortened with `…` to fit `width` pixels, or nothing when too little fits.
fn fit(text: &str, width: f64) -> Option<String> {
    let room = ((width - 6.0) / CHAR_WIDTH).floor().max(0.0) as usize;
    let count = text.chars().count();
    if count <= room {
        Some(text.to_string())
    } else if room >= 4 {
        Some(text.chars().take(room - 1).chain(['…']).collect())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::record::Verdict;

    fn bar(host: &str, step: &str, start: u64, end: u64) -> Bar {
        Bar {
            step: step.into(),
            host: host.into(),
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
            verdict: Verdict::Ok,
            items: 0,
            msg: None,
        }
    }

    #[test]
    fn parallel_steps_get_lanes_and_sequential_ones_share() {
        let bars = [
            bar("h", "a", 0, 10),
            bar("h", "b", 0, 30),  // beside a
            bar("h", "c", 10, 20), // after a, in its lane
            bar("h", "d", 15, 25), // while b and c run
            bar("h", "e", 30, 40), // after everything
        ];
        let refs: Vec<&Bar> = bars.iter().collect();
        assert_eq!(lanes(&refs), [0, 1, 0, 2, 0]);
    }

    #[test]
    fn rows_grow_with_their_lanes() {
        let recording = Recording {
            plays: vec![crate::timeline::record::PlayMark {
                name: "deploy".into(),
                start: Duration::ZERO,
            }],
            hosts: vec!["web".into(), "db".into()],
            bars: vec![bar("web", "a", 0, 10), bar("web", "b", 5, 10), bar("db", "a", 0, 10)],
            end: Duration::from_millis(10),
        };
        let l = layout(&recording);
        assert_eq!(l.rows.len(), 2);
        assert!(l.rows[0].height > l.rows[1].height, "two lanes for web, one for db");
        assert_eq!(l.rows[1].y, l.rows[0].y + l.rows[0].height);
        let ys: Vec<f64> = l.bars.iter().map(|p| p.y).collect();
        assert!(ys[0] < ys[1] && ys[1] < ys[2]);
        assert_eq!(l.bars[0].x, l.left);
        assert!((l.bars[0].x + l.bars[0].width - (WIDTH - RIGHT)).abs() < 1e-6);
        assert_eq!(l.bars[1].label.as_deref(), Some("b"));
        assert_eq!(
            (l.plays[0].label.as_deref(), l.total.as_str()),
            (Some("deploy"), "10 ms")
        );
    }

    #[test]
    fn round_ticks() {
        let labels = |ms: u64| -> Vec<String> {
            ticks(Duration::from_millis(ms), &|_| 0.0)
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(labels(10_000), ["0 s", "2 s", "4 s", "6 s", "8 s", "10 s"]);
        assert_eq!(labels(700)[..3], ["0 ms", "100 ms", "200 ms"]);
        assert_eq!(labels(3_000)[..3], ["0.0 s", "0.5 s", "1.0 s"]);
    }

    #[test]
    fn durations_and_labels_for_people() {
        assert_eq!(duration_text(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration_text(Duration::from_millis(3_254)), "3.25 s");
        assert_eq!(duration_text(Duration::from_secs(125)), "2 min 05 s");
        assert_eq!(fit("restart", 200.0).as_deref(), Some("restart"));
        assert_eq!(fit("restart nginx", 50.0).as_deref(), Some("resta…"));
        assert_eq!(fit("restart", 20.0), None);
    }
}
