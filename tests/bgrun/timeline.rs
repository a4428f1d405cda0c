//! `--timeline`: a real run with the local connection writes the picture, which headless
//! Chromium renders with a bar for every step and host; the SVG is well-formed; the file is
//! written however the run ends.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Test, in_ci};

const HOSTS: &str = "alpha ansible_connection=local\nbeta ansible_connection=local\n";

/// Several steps, two branches of the step graph at the same time, a failure that is ignored, a
/// skipped step, a `no_log` one, and names that need escaping.
const PLAYBOOK: &str = r#"- name: build & <ship>
  hosts: all
  gather_facts: false
  steps:
    - id: prepare
      name: prepare <config> & "quotes" 'too'
      command: "true"
    - id: left
      needs: [prepare]
      name: branch left
      command: sleep 0.6
    - id: right
      needs: [prepare]
      name: branch right
      command: sleep 0.3
    - id: join
      needs: [left, right]
      name: join fails, ignored
      command: "false"
      ignore_errors: true
    - name: never runs
      command: "true"
      when: false
    - name: a secret
      no_log: true
      shell: echo hunter2-not-shown; exit 3
      ignore_errors: true
"#;

const STEPS: [&str; 6] = [
    "prepare <config> & \"quotes\" 'too'",
    "branch left",
    "branch right",
    "join fails, ignored",
    "never runs",
    "a secret",
];

#[test]
fn chromium_shows_a_bar_for_every_step_and_host() {
    let t = Test::new()
        .file("hosts", HOSTS)
        .args(&["-i", "hosts", "--timeline", "out.html"])
        .playbook(PLAYBOOK);
    t.expect(0);
    let page = t.path().join("out.html");
    let html = std::fs::read_to_string(&page).expect("the timeline is written");
    assert!(!html.contains("hunter2"), "a no_log result is not shown");
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "nothing is loaded from elsewhere"
    );
    assert_eq!(well_formed(svg_of(&html)), Ok(()));

    let Some(dom) = chromium_dom(&page, &t.path()) else {
        return;
    };
    let bars = bars(&dom);
    for step in STEPS {
        for host in ["alpha", "beta"] {
            let count = bars.iter().filter(|b| b.step == step && b.host == host).count();
            assert_eq!(count, 1, "one bar for `{step}` on {host} in the rendered page:\n{dom}");
        }
    }
    assert_eq!(bars.len(), STEPS.len() * 2, "{dom}");
    for host in ["alpha", "beta"] {
        assert!(dom.contains(&format!(">{host}</text>")), "{host} is named:\n{dom}");
        let bar = |step: &str| bars.iter().find(|b| b.step == step && b.host == host).unwrap();
        let (left, right) = (bar("branch left"), bar("branch right"));
        assert!(
            left.x < right.x + right.width && right.x < left.x + left.width,
            "the branches ran at once"
        );
        assert_ne!(left.y, right.y, "in lanes side by side, not on top of each other");
        assert_eq!(bar("join fails, ignored").class, "bar ignored");
        assert_eq!(bar("never runs").class, "bar skipped");
        assert_eq!(bar("branch left").class, "bar changed");
        assert!(bar("branch left").x > bar(STEPS[0]).x, "later steps lie further right");
    }
    assert!(dom.contains("build &amp; &lt;ship&gt;"), "the play is named:\n{dom}");
    assert!(dom.contains("class=\"total\""), "{dom}");
}

#[test]
fn an_svg_of_a_failed_run_with_an_unreachable_host() {
    let t = Test::new()
        .file(
            "hosts",
            "alpha ansible_connection=local\nbeta ansible_connection=local\ngamma ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody\n",
        )
        .args(&["-i", "hosts", "-T", "5", "--timeline", "run.svg"])
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - name: first\n      command: \"true\"\n    - name: fails on beta\n      command: \"{{ 'false' if inventory_hostname == 'beta' else 'true' }}\"\n    - name: last\n      command: \"true\"\n",
        );
    t.expect(2);
    let svg = std::fs::read_to_string(t.path().join("run.svg")).expect("written although the run failed");
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert_eq!(well_formed(&svg), Ok(()), "{svg}");
    let classes: Vec<(String, String, String)> = bars(&svg).into_iter().map(|b| (b.step, b.host, b.class)).collect();
    let bar = |step: &str, host: &str, class: &str| (step.to_string(), host.to_string(), format!("bar {class}"));
    assert_eq!(
        classes,
        [
            bar("first", "alpha", "changed"),
            bar("fails on beta", "alpha", "changed"),
            bar("last", "alpha", "changed"),
            bar("first", "beta", "changed"),
            bar("fails on beta", "beta", "failed"),
            bar("first", "gamma", "unreachable"),
        ]
    );
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_interrupted_run_still_writes_its_timeline() {
    let t = Test::new().file("hosts", HOSTS).file(
        "play.yml",
        "- hosts: all\n  gather_facts: false\n  steps:\n    - name: long\n      command: sleep 1.5\n    - name: not started\n      command: \"true\"\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["play.yml", "-i", "hosts", "--timeline", "out.html"])
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run bgrun");
    std::thread::sleep(Duration::from_millis(600));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("bgrun ends").code(), Some(130));
    let html = std::fs::read_to_string(t.path().join("out.html")).expect("written");
    let bars = bars(&html);
    assert_eq!(
        bars.iter()
            .filter(|b| b.step == "long" && b.class == "bar changed")
            .count(),
        2
    );
    assert_eq!(
        bars.iter()
            .filter(|b| b.step == "not started" && b.class == "bar failed")
            .count(),
        2
    );
}

#[test]
fn another_extension_is_refused_before_anything_runs() {
    let t = Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .args(&["-i", "hosts", "--timeline", "run.png"])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - command: touch ran\n");
    let out = t.expect(5);
    assert!(
        out.stderr.contains("--timeline") && out.stderr.contains(".html") && out.stderr.contains(".svg"),
        "{}",
        out.stderr
    );
    assert!(!t.path().join("ran").exists() && !t.path().join("run.png").exists());
}

/// The page as headless Chromium renders it (its DOM), or `None` when Chromium is not installed
/// outside CI; under CI a missing Chromium fails the test.
fn chromium_dom(page: &Path, scratch: &Path) -> Option<String> {
    if Command::new("chromium")
        .arg("--version")
        .output()
        .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        assert!(
            !in_ci(),
            "chromium is not installed, and CI=true: this test renders the timeline in it; install it with `apt-get install chromium` (.ci/run does)"
        );
        eprintln!("skipped: chromium is not installed, so the rendered timeline is not checked");
        return None;
    }
    let mut child = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("chromium-profile").display()
        ))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    while child.try_wait().expect("chromium's status").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not render {} within 120 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("chromium's output");
    assert!(output.status.success(), "chromium failed: {:?}", output.status);
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(dom.contains("<svg"), "chromium rendered no picture:\n{dom}");
    Some(dom)
}

/// A bar as the markup has it.
struct Bar {
    class: String,
    step: String,
    host: String,
    x: f64,
    y: f64,
    width: f64,
}

/// Every `<rect class="bar ...">` of a page or picture, its attributes unescaped.
fn bars(markup: &str) -> Vec<Bar> {
    markup
        .split("<rect ")
        .skip(1)
        .filter_map(|tag| {
            let attributes = attributes(&tag[..tag.find('>')?]);
            let class = attributes.get("class")?.clone();
            class.starts_with("bar ").then(|| {
                let number = |name: &str| attributes.get(name).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
                Bar {
                    step: attributes.get("data-step").cloned().unwrap_or_default(),
                    host: attributes.get("data-host").cloned().unwrap_or_default(),
                    x: number("x"),
                    y: number("y"),
                    width: number("width"),
                    class,
                }
            })
        })
        .collect()
}

fn attributes(tag: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq]
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or_default()
            .to_string();
        let value_start = eq + 2;
        let Some(len) = rest[value_start..].find('"') else {
            break;
        };
        out.insert(name, unescape(&rest[value_start..value_start + len]));
        rest = &rest[value_start + len + 1..];
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The `<svg>` element inline in a page.
fn svg_of(html: &str) -> &str {
    let start = html.find("<svg").expect("an inline SVG");
    let end = html.rfind("</svg>").expect("the SVG's end") + "</svg>".len();
    &html[start..end]
}

/// A small check that markup is well-formed XML: every tag closed in order, attributes quoted,
/// every `&` an entity, no stray `<`.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml;
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = &after[after.find("?>").ok_or("unclosed XML declaration")? + 2..];
    }
    while let Some(lt) = rest.find('<') {
        entities(&rest[..lt])?;
        let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
        let tag = &rest[lt + 1..gt];
        if tag.contains('<') {
            return Err(format!("`<` inside a tag: {tag}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(opened) if opened == name.trim() => {}
                other => return Err(format!("`</{name}>` closes {other:?}")),
            }
        } else {
            let name = tag.split([' ', '\n', '/']).next().unwrap_or_default();
            if name.is_empty() {
                return Err(format!("a tag without a name: <{tag}>"));
            }
            if !tag.matches('"').count().is_multiple_of(2) {
                return Err(format!("an unquoted attribute: <{tag}>"));
            }
            entities(tag)?;
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[gt + 1..];
    }
    entities(rest)?;
    match open.as_slice() {
        [] => Ok(()),
        unclosed => Err(format!("unclosed: {unclosed:?}")),
    }
}

fn entities(text: &str) -> Result<(), String> {
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity)
            || entity
                .strip_prefix("&#")
                .and_then(|n| n.strip_suffix(';'))
                .is_some_and(|n| n.parse::<u32>().is_ok());
        if !known {
            return Err(format!("a bare `&`: {entity}"));
        }
    }
    Ok(())
}

#[test]
fn the_well_formed_check_finds_faults() {
    assert_eq!(well_formed("<svg><rect x=\"1\"/><text>a &amp; b</text></svg>"), Ok(()));
    assert!(well_formed("<svg><text>a & b</text></svg>").is_err());
    assert!(well_formed("<svg><text>a</svg>").is_err());
    assert!(well_formed("<svg><rect x=\"1/></svg>").is_err());
}
