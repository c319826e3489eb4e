//! The SDTM bad-input corpus: every folder under tests/cases/sdtm is an SDTM dataset (TU, TR,
//! DM as a user would have them) with a `case` file saying what it shows and what must happen.
//! The case runs `crit eval --criteria recist-1.1 --sdtm FOLDER --format csv`; the snapshot
//! shows the input files, the exit code, the output and the diagnostics.
//!
//! Header lines of `case`:
//! - `# ...` what the case shows;
//! - `args: ...` more arguments for `crit eval`;
//! - `exit: N` the exit code;
//! - `expect: TEXT` text the diagnostics must contain;
//! - `response SUBJECT VISIT: CAT` an overall response the output must hold;
//! - `xpt: FILE from SOURCE v5|v8 [cut N]` a transport file of the folder, written from a CSV
//!   under `source/` (and cut after N bytes): the committed file must be exactly that
//!   (`CRIT_WRITE_FIXTURES=1` writes it).
//!
//! Every case must also satisfy, whatever it shows: each diagnostic names a file of the folder
//! and has a help; every subject of TU and TR is in the output or named in a diagnostic (unless
//! a file as a whole was rejected).

mod common;

use std::path::Path;

use crit::data::sdtm::Table;
use crit::data::xpt;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Case {
    args: Vec<String>,
    exit: i32,
    expect: Vec<String>,
    responses: Vec<(String, String, String)>,
    xpts: Vec<Xpt>,
}

struct Xpt {
    file: String,
    source: String,
    version: xpt::Version,
    cut: Option<usize>,
}

fn parse(text: &str) -> Case {
    let mut case = Case {
        args: vec![],
        exit: 0,
        expect: vec![],
        responses: vec![],
        xpts: vec![],
    };
    for line in text.lines() {
        if let Some(a) = line.strip_prefix("args:") {
            case.args = a.split_whitespace().map(str::to_string).collect();
        } else if let Some(e) = line.strip_prefix("exit:") {
            case.exit = e.trim().parse().expect("exit: N");
        } else if let Some(e) = line.strip_prefix("expect:") {
            case.expect.push(e.trim().to_string());
        } else if let Some(r) = line.strip_prefix("response ") {
            let (who, cat) = r.split_once(':').expect("response SUBJECT VISIT: CAT");
            let (subject, visit) = who.trim().split_once(' ').expect("SUBJECT VISIT");
            case.responses
                .push((subject.into(), visit.trim().into(), cat.trim().into()));
        } else if let Some(x) = line.strip_prefix("xpt:") {
            let w: Vec<&str> = x.split_whitespace().collect();
            let (file, source, version) = match w.as_slice() {
                [f, "from", s, v, ..] => (f, s, v),
                _ => panic!("xpt: FILE from SOURCE v5|v8 [cut N]"),
            };
            case.xpts.push(Xpt {
                file: file.to_string(),
                source: source.to_string(),
                version: if *version == "v5" {
                    xpt::Version::V5
                } else {
                    xpt::Version::V8
                },
                cut: match w.get(4..) {
                    Some(["cut", n]) => Some(n.parse().expect("cut N")),
                    _ => None,
                },
            });
        }
    }
    case
}

/// The bytes a fixture is made of: its source CSV written as a transport file, maybe cut.
fn fixture(dir: &Path, x: &Xpt) -> Vec<u8> {
    let t = Table::read(dir.join(&x.source).to_str().unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", x.source));
    let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "fixture-{}-{}",
        dir.file_name().unwrap().to_string_lossy(),
        x.file
    ));
    let numeric = |n: &str| n.ends_with("STRESN") || n.ends_with("SEQ") || n == "VISITNUM";
    let name = x.file.split('.').next().unwrap().to_uppercase();
    xpt::write(
        tmp.to_str().unwrap(),
        &name,
        &t.columns,
        &rows,
        x.version,
        numeric,
    )
    .unwrap();
    let mut bytes = std::fs::read(&tmp).unwrap();
    if let Some(n) = x.cut {
        assert!(n < bytes.len(), "cut {n} is past the end ({})", bytes.len());
        bytes.truncate(n);
    }
    bytes
}

/// The folder's files as the snapshot shows them.
fn show_inputs(dir: &Path, case: &Case) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != "case")
        .collect();
    names.sort();
    let mut out = String::new();
    for n in names {
        let bytes = std::fs::read(dir.join(&n)).unwrap();
        out.push_str(&format!("==== {n} ====\n"));
        match case.xpts.iter().find(|x| x.file == n) {
            Some(x) => {
                let cut = x
                    .cut
                    .map(|c| format!(", cut after byte {c}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "(SAS transport {:?}, {} bytes, written from {}{cut})\n{}",
                    x.version,
                    bytes.len(),
                    x.source,
                    String::from_utf8_lossy(&std::fs::read(dir.join(&x.source)).unwrap())
                ));
            }
            // Line ends and a byte-order mark made visible.
            None => out.push_str(
                &String::from_utf8_lossy(&bytes)
                    .replace('\r', "␍")
                    .replace('\u{feff}', "<BOM>"),
            ),
        }
    }
    out
}

/// USUBJIDs of the TU and TR files, as far as they can be read.
fn subjects(dir: &Path) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_lowercase();
        if !(name.starts_with("tu") || name.starts_with("tr")) || !e.path().is_file() {
            continue;
        }
        if let Ok(t) = Table::read(e.path().to_str().unwrap()) {
            if let Some(c) = t.col("USUBJID") {
                for r in t.rows.iter().filter(|r| r.problem.is_none()) {
                    let s = r.cells.get(c).map(|s| s.trim()).unwrap_or("");
                    if !s.is_empty() {
                        out.insert(s.to_string());
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

fn run_case(path: &Path) {
    let dir = path.parent().unwrap();
    let kind = dir.file_name().unwrap().to_string_lossy().to_string();
    let rel = dir
        .strip_prefix(ROOT)
        .unwrap()
        .to_string_lossy()
        .to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let case = parse(&text);
    for x in &case.xpts {
        let bytes = fixture(dir, x);
        if std::env::var_os("CRIT_WRITE_FIXTURES").is_some() {
            std::fs::write(dir.join(&x.file), &bytes).unwrap();
        }
        let committed = std::fs::read(dir.join(&x.file)).unwrap_or_default();
        assert!(
            committed == bytes,
            "{kind}: {} is not {} as the case says (CRIT_WRITE_FIXTURES=1 writes it)",
            x.file,
            x.source
        );
    }

    let mut args = vec![
        "eval",
        "--criteria",
        "recist-1.1",
        "--sdtm",
        &rel,
        "--format",
        "csv",
    ];
    args.extend(case.args.iter().map(String::as_str));
    let (code, stdout, stderr) = common::crit(&args);
    assert_eq!(code, case.exit, "{kind}: exit code\n{stderr}");
    // Messages as written, without the line breaks of the terminal rendering (which breaks at
    // a space, or after a hyphen or slash).
    let mut flat = String::new();
    for l in stderr.lines() {
        let l = l.trim_start().trim_start_matches("│ ").trim_start();
        if !flat.ends_with(['-', '/']) {
            flat.push(' ');
        }
        flat.push_str(l);
    }
    for e in &case.expect {
        assert!(
            flat.contains(e.as_str()),
            "{kind}: expected `{e}` in\n{stderr}"
        );
    }
    // Every diagnostic names a file of the case and has a help.
    let blocks: Vec<&str> = flat.split("crit::").skip(1).collect();
    assert!(
        case.exit == 0 || !blocks.is_empty(),
        "{kind}: an error exit without a diagnostic"
    );
    for b in &blocks {
        assert!(
            b.contains(&format!("{rel}/")),
            "{kind}: no file named in\n{b}"
        );
        assert!(b.contains("help:"), "{kind}: no help in\n{b}");
    }
    // Every subject is evaluated or named, unless a whole file was rejected.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    if stdout.starts_with("subject,") {
        for s in subjects(dir) {
            assert!(
                rows.iter().any(|r| r[0] == s) || stderr.contains(&format!("subject {s}")),
                "{kind}: subject {s} is neither evaluated nor named\n{stdout}\n{stderr}"
            );
        }
    }
    for (subject, visit, cat) in &case.responses {
        assert!(
            rows.iter()
                .any(|r| r[0] == subject && r[2] == visit && r[4] == cat),
            "{kind}: expected {subject} {visit} {cat} in\n{stdout}"
        );
    }
    let snap = format!(
        "{}\n{}==== exit {code} ====\n==== stdout ====\n{stdout}==== stderr ====\n{stderr}",
        text.trim_end(),
        show_inputs(dir, &case)
    );
    insta::assert_snapshot!(snap);
}

#[test]
fn sdtm_bad_input() {
    insta::glob!("cases/sdtm/*/case", run_case);
}
