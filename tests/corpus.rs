//! The case corpus: every file under tests/cases is one case, and its snapshot shows the input
//! followed by the result.
//!
//! - `syntax/*.crit`, `check/*.crit`: rulesets with mistakes; the snapshot is the diagnostics.
//!   A line `# expect: CODE` lists error/warning codes the case must produce.
//! - `eval/**/*.case`: a header, `---`, then a lesion table (CSV). Header lines:
//!   `criteria: ID_OR_PATH` (a path is relative to the case file), `set: NAME=VALUE`, and
//!   `expect SUBJECT[@READER][.RESPONSE]: CAT CAT ... [-> best CAT]` giving every timepoint's
//!   category in date order (`expect SUBJECT: error` for a subject whose data the ruleset
//!   rejects). The expectations are asserted before the explanation is snapshotted.
//!   `event SUBJECT.EVENT: event DATE` or `censored DATE` asserts an event date (and adds every
//!   subject's events, with their reasons, to the snapshot).

use std::path::Path;

use crit::check;
use crit::data::{bind, report, table};
use crit::diag::render_plain;
use crit::eval::{self, events, Engine};
use crit::explain::text;

mod common;

fn diagnostics_case(path: &Path) {
    let src = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let diags = match check::check_text(&name, &src) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    assert!(!diags.is_empty(), "{name}: expected diagnostics, got none");
    // Every message names the file and the place, and says what to do.
    for d in &diags {
        let what = format!("{name}: {} `{}`", d.code, d.message);
        assert!(d.src.is_some() && !d.labels.is_empty(), "{what}: no place");
        assert!(d.help.is_some(), "{what}: no help");
    }
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    for line in src.lines() {
        if let Some(rest) = line.trim().strip_prefix("# expect:") {
            for want in rest.split_whitespace() {
                assert!(
                    codes.contains(&want),
                    "{name}: expected {want}, got {codes:?}"
                );
            }
        }
    }
    insta::assert_snapshot!(render_plain(&diags));
}

#[test]
fn syntax_errors() {
    insta::glob!("cases/syntax/*.crit", diagnostics_case);
}

#[test]
fn checker_errors() {
    insta::glob!("cases/check/*.crit", diagnostics_case);
}

struct Expect {
    subject: String,
    reader: Option<String>,
    response: Option<String>,
    timepoints: Vec<String>,
    best: Option<String>,
}

fn parse_expect(line: &str) -> Expect {
    let (who, cats) = line.split_once(':').expect("expect WHO: CATS");
    let (who, response) = match who.rsplit_once('.') {
        Some((w, r)) => (w, Some(r.trim().to_string())),
        None => (who, None),
    };
    let (subject, reader) = match who.split_once('@') {
        Some((s, r)) => (s.trim().to_string(), Some(r.trim().to_string())),
        None => (who.trim().to_string(), None),
    };
    let (tps, best) = match cats.split_once("-> best") {
        Some((t, b)) => (t, Some(b.trim().to_string())),
        None => (cats, None),
    };
    Expect {
        subject,
        reader,
        response,
        timepoints: tps.split_whitespace().map(|s| s.to_string()).collect(),
        best,
    }
}

fn eval_case(path: &Path) {
    let text_in = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let (header, data) = text_in.split_once("\n---\n").expect("header, ---, data");
    let mut criteria = None;
    let mut sets = vec![];
    let mut expects = vec![];
    let mut event_expects: Vec<(String, String, bool, String)> = vec![];
    for line in header.lines() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix("criteria:") {
            let c = c.trim();
            // A local ruleset is named relative to the package, so snapshots do not depend on
            // where the repository is checked out.
            let local = path.parent().unwrap().join(c);
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            criteria = Some(if local.is_file() {
                local
                    .strip_prefix(root)
                    .unwrap_or(&local)
                    .to_string_lossy()
                    .to_string()
            } else {
                c.to_string()
            });
        } else if let Some(s) = line.strip_prefix("set:") {
            sets.push(s.trim().to_string());
        } else if let Some(e) = line.strip_prefix("expect ") {
            expects.push(parse_expect(e));
        } else if let Some(e) = line.strip_prefix("event ") {
            let (who, what) = e
                .split_once(':')
                .expect("event SUBJECT.EVENT: event|censored DATE");
            let (subject, event) = who.trim().split_once('.').expect("SUBJECT.EVENT");
            let (kind, date) = what.trim().split_once(' ').expect("event|censored DATE");
            assert!(kind == "event" || kind == "censored", "{name}: `{kind}`");
            event_expects.push((
                subject.to_string(),
                event.to_string(),
                kind == "censored",
                date.trim().to_string(),
            ));
        }
    }
    assert!(
        !expects.is_empty(),
        "{name}: a case states its expected responses"
    );
    let checked = check::load(&criteria.expect("criteria:"))
        .unwrap_or_else(|d| panic!("{name}: {}", render_plain(&d)));
    let rs = &checked.ruleset;
    let mut eng = Engine::new(rs);
    for s in &sets {
        crit::cli::apply_set(&mut eng, s).unwrap_or_else(|d| panic!("{name}: {d}"));
    }
    let cohort = table::read_csv(&name, data).unwrap_or_else(|e| panic!("{name}: {e}"));
    let binding = bind::plan(rs, &cohort).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let results = eval::each_subject(&eng, &binding, &cohort, |raw, r| {
        let ev = match r {
            Ok(ev) => ev,
            // A data error: the subject's timepoints read `error`, the snapshot shows it.
            Err(e) => {
                return (
                    raw.subject.clone(),
                    raw.reader.clone(),
                    vec!["error".to_string()],
                    None,
                    format!("subject {}: data error\n{e}\n", raw.subject),
                    vec![],
                    vec![],
                )
            }
        };
        let tps = |resp: Option<&str>| -> Vec<String> {
            let d = match resp {
                None => rs.overall,
                Some(n) => rs
                    .defs
                    .iter()
                    .position(|d| d.name == n && !d.hidden)
                    .unwrap_or_else(|| panic!("no response {n}")),
            };
            (1..ev.subj.assessments.len())
                .map(|t| {
                    ev.category(t, d)
                        .map(|c| rs.cat_name(c).to_string())
                        .unwrap_or("none".into())
                })
                .collect()
        };
        let best = ev.best.category.map(|c| rs.cat_name(c).to_string());
        let mut explanation = text::subject(ev, &text::Options { verbose: true });
        let events = events::events(ev, None);
        if !event_expects.is_empty() {
            for e in &events {
                explanation.push_str(&format!(
                    "event {}: {} {} (day {}): {}\n",
                    e.name,
                    if e.censored { "censored" } else { "event" },
                    e.date,
                    e.day,
                    e.reason
                ));
            }
        }
        (
            raw.subject.clone(),
            raw.reader.clone(),
            tps(None),
            best,
            explanation,
            {
                let all: Vec<(String, Vec<String>)> = rs
                    .responses
                    .iter()
                    .map(|&d| (rs.defs[d].name.clone(), tps(Some(&rs.defs[d].name))))
                    .collect();
                all
            },
            events,
        )
    });
    for (subject, event, censored, date) in &event_expects {
        let r = results
            .iter()
            .find(|r| &r.0 == subject)
            .unwrap_or_else(|| panic!("{name}: no subject {subject}"));
        let e =
            r.6.iter()
                .find(|e| &e.name == event)
                .unwrap_or_else(|| panic!("{name}: subject {subject} has no event {event}"));
        assert_eq!(
            (e.censored, e.date.to_string()),
            (*censored, date.clone()),
            "{name}: subject {subject} {event}: {}",
            e.reason
        );
    }
    for e in &expects {
        let r = results
            .iter()
            .find(|r| r.0 == e.subject && (e.reader.is_none() || r.1 == e.reader))
            .unwrap_or_else(|| panic!("{name}: no subject {}", e.subject));
        let got = match &e.response {
            None => &r.2,
            Some(n) => {
                &r.5.iter()
                    .find(|(k, _)| k == n)
                    .unwrap_or_else(|| panic!("{name}: no response {n}"))
                    .1
            }
        };
        assert_eq!(
            got, &e.timepoints,
            "{name}: subject {} {:?} timepoints",
            e.subject, e.response
        );
        if let Some(b) = &e.best {
            assert_eq!(
                r.3.as_ref(),
                Some(b),
                "{name}: subject {} best response",
                e.subject
            );
        }
    }
    let mut snap = format!("{}\n==== explanation ====\n", text_in.trim_end());
    for r in &results {
        snap.push_str(&r.4);
        snap.push('\n');
    }
    insta::assert_snapshot!(snap);
}

#[test]
fn evaluations() {
    insta::glob!("cases/eval/**/*.case", eval_case);
}

/// Bytes shown as text: line ends, a byte-order mark and bytes that are not UTF-8 made visible.
fn visible(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\u{feff}' => out.push_str("\\u{feff}"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// `data/*.case`: a lesion table with problems. A header — `criteria: ID`, `file: NAME.csv`
/// (or `.json`: the name the table is read under), `explain: yes` to show the explanations,
/// `expect SUBJECT[@READER]: CAT ... [-> best CAT]` or `expect SUBJECT: error TEXT`, and
/// `expect diagnostic: TEXT` — then `---` and the table's bytes exactly (a byte-order mark, CRLF
/// line ends and bytes that are not UTF-8 are kept). Every subject of the table is listed by
/// an `expect` line, and the output must hold exactly those, once each, in that order. The
/// snapshot shows the table, every subject's result, the explanations asked for, and every
/// diagnostic.
fn data_case(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let sep = bytes
        .windows(5)
        .position(|w| w == b"\n---\n")
        .expect("header, ---, data");
    let header = std::str::from_utf8(&bytes[..sep]).unwrap();
    let data = &bytes[sep + 5..];
    let mut criteria = "recist-1.1".to_string();
    let mut file = None;
    let mut explain = false;
    let mut expects: Vec<(String, String)> = vec![];
    let mut diagnostics: Vec<String> = vec![];
    for line in header.lines().map(str::trim) {
        if let Some(c) = line.strip_prefix("criteria:") {
            criteria = c.trim().to_string();
        } else if let Some(f) = line.strip_prefix("file:") {
            file = Some(f.trim().to_string());
        } else if line == "explain: yes" {
            explain = true;
        } else if let Some(d) = line.strip_prefix("expect diagnostic:") {
            diagnostics.push(d.trim().to_string());
        } else if let Some(e) = line.strip_prefix("expect ") {
            let (who, what) = e.split_once(':').expect("expect WHO: WHAT");
            expects.push((who.trim().to_string(), what.trim().to_string()));
        }
    }
    let file = file.expect("file:");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data-cases");
    std::fs::create_dir_all(&dir).unwrap();
    let at = dir.join(&file);
    std::fs::write(&at, data).unwrap();
    let at = at.to_string_lossy().to_string();
    let checked = check::load(&criteria).unwrap_or_else(|d| panic!("{name}: {}", render_plain(&d)));
    let rs = &checked.ruleset;
    let eng = Engine::new(rs);
    let mut diags = String::new();
    let mut out = vec![];
    match table::open(&at) {
        Err(e) => diags.push_str(&render_plain(&[report::diag(&e, None, false)])),
        Ok(mut t) => {
            for n in &t.notes {
                diags.push_str(&format!("note: {n}\n"));
            }
            let s = &t.schema;
            match bind::plan_columns(rs, &s.file, &s.columns, &s.duplicates) {
                Err(errs) => {
                    let d: Vec<_> = errs.iter().map(|e| report::diag(e, None, false)).collect();
                    diags.push_str(&render_plain(&d));
                }
                Ok(binding) => {
                    let w: Vec<_> = binding
                        .warnings
                        .iter()
                        .map(|e| report::diag(e, None, true))
                        .collect();
                    diags.push_str(&render_plain(&w));
                    let (o, err) = common::eval_json(&eng, &binding, &mut t, 2);
                    out = o;
                    diags.push_str(&String::from_utf8_lossy(&err));
                }
            }
        }
    }
    let diags = diags.replace(&format!("{}/", dir.to_string_lossy()), "");
    // Every diagnostic names the file (with the line where there is one) and has a help.
    for b in diags.split("crit::").skip(1) {
        assert!(b.contains(&file), "{name}: no file named in\n{b}");
        assert!(b.contains("help:"), "{name}: no help in\n{b}");
    }
    let subjects: Vec<serde_json::Value> = if out.is_empty() {
        vec![]
    } else {
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["subjects"].as_array().cloned().unwrap_or_default()
    };
    // Every subject, once, as the case lists them; each as expected.
    let mut results = String::new();
    let whos: Vec<String> = subjects
        .iter()
        .map(|s| match s["reader"].as_str() {
            Some(r) => format!("{}@{r}", s["subject"].as_str().unwrap()),
            None => s["subject"].as_str().unwrap().to_string(),
        })
        .collect();
    let listed: Vec<&str> = expects.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(whos, listed, "{name}: the subjects in the output");
    for ((who, want), s) in expects.iter().zip(&subjects) {
        let got = match s["error"]["message"].as_str() {
            Some(m) => format!(
                "error {}",
                m.replace(&format!("{}/", dir.to_string_lossy()), "")
            ),
            None => {
                let tps: Vec<&str> = s["timepoints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["response"].as_str().unwrap_or("none"))
                    .collect();
                format!(
                    "{} -> best {}",
                    tps.join(" "),
                    s["best_response"].as_str().unwrap_or("none")
                )
            }
        };
        let ok = if let Some(text) = want.strip_prefix("error") {
            got.starts_with("error") && got.contains(text.trim())
        } else {
            got.trim_start() == want.as_str()
        };
        assert!(ok, "{name}: subject {who}: expected {want}, got {got}");
        results.push_str(&format!("{who}: {got}\n"));
    }
    for d in &diagnostics {
        assert!(
            diags.contains(d.as_str()),
            "{name}: expected the diagnostic {d:?} in\n{diags}"
        );
    }
    if explain {
        let cohort = table::read_path(&at).unwrap();
        let binding = bind::plan(rs, &cohort).unwrap();
        for r in eval::each_subject(&eng, &binding, &cohort, |_, r| {
            r.map(|ev| text::subject(ev, &text::Options { verbose: false }))
                .ok()
        })
        .into_iter()
        .flatten()
        {
            results.push('\n');
            results.push_str(&r);
        }
    }
    insta::assert_snapshot!(format!(
        "{header}\n---\n{}\n==== results ====\n{results}==== diagnostics ====\n{diags}",
        visible(data)
    ));
}

#[test]
fn bad_data() {
    insta::glob!("cases/data/*.case", data_case);
}
