//! Properties: arbitrary text never panics the checker; arbitrary lesion tables never panic the
//! evaluator and no subject goes missing; the order of rows changes nothing; scaling every size
//! (and the absolute thresholds with it) keeps RECIST 1.1's decisions.

use crit::check;
use crit::data::{bind, table, Table};
use crit::eval::{self, Engine};
use crit::explain::{output, text};
use proptest::prelude::*;

mod common;

const RECIST: &str = include_str!("../criteria/recist-1.1.crit");

/// Evaluates a CSV table with recist-1.1 (with `--set` overrides): one JSON value per subject,
/// plus every explanation rendered (so rendering is exercised too).
fn run(csv: &str, sets: &[String]) -> Vec<serde_json::Value> {
    run_with("recist-1.1", csv, sets)
}

fn run_with(criteria: &str, csv: &str, sets: &[String]) -> Vec<serde_json::Value> {
    let checked = check::load(criteria).unwrap();
    let rs = &checked.ruleset;
    let mut eng = Engine::new(rs);
    for s in sets {
        crit::cli::apply_set(&mut eng, s).unwrap();
    }
    let cohort = match table::read_csv("prop.csv", csv) {
        Ok(c) => c,
        Err(_) => return vec![],
    };
    let binding = bind::plan(rs, &cohort).unwrap();
    let out = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
        Ok(ev) => {
            let _ = text::subject(ev, &text::Options { verbose: true });
            output::subject_json(ev)
        }
        Err(e) => output::error_json(raw, e),
    });
    assert_eq!(
        out.len(),
        cohort.subjects.len(),
        "every subject is reported"
    );
    out
}

/// `crit eval --format json` through the streaming reader, on `threads` threads: the output.
fn stream_json(csv: &[u8], threads: usize) -> String {
    let checked = check::load("recist-1.1").unwrap();
    let eng = Engine::new(&checked.ruleset);
    let Ok(mut t) = Table::csv_text("prop.csv", csv) else {
        return String::new();
    };
    let s = &t.schema;
    let Ok(binding) = bind::plan_columns(&checked.ruleset, &s.file, &s.columns, &s.duplicates)
    else {
        return String::new();
    };
    let (out, _) = common::eval_json(&eng, &binding, &mut t, threads);
    String::from_utf8(out).expect("the output is UTF-8")
}

/// The subjects of a JSON output, in order.
fn subjects_of(json: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(json).expect("the output is JSON");
    v["subjects"].as_array().cloned().unwrap_or_default()
}

/// Error records name lines, which move with the rows: keep only that there is an error.
fn without_lines(v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    v.into_iter()
        .map(|mut s| {
            if !s["error"].is_null() {
                s["error"] = serde_json::json!("error");
            }
            s
        })
        .collect()
}

/// The rows of each subject (they start with `S<n>,`), in order.
fn blocks(rows: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![];
    for r in rows {
        let id = r.split(',').next().unwrap_or("");
        match out.last_mut() {
            Some(b) if b[0].split(',').next() == Some(id) => b.push(r.clone()),
            _ => out.push(vec![r.clone()]),
        }
    }
    out
}

/// A deterministic shuffle.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..v.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// Damage one cell of a row (never the subject id): what a hand-edited or badly exported
/// table holds.
fn damage(row: &str, kind: u8, at: usize) -> Vec<u8> {
    let mut cells: Vec<Vec<u8>> = row.split(',').map(|c| c.as_bytes().to_vec()).collect();
    let i = 1 + at % (cells.len() - 1);
    match kind % 6 {
        0 => {
            cells.pop();
        }
        1 => cells.push(b"extra".to_vec()),
        2 => cells[i].insert(0, b'"'),
        3 => cells[i] = b"\xff\xfe".to_vec(),
        4 => cells[2] = b"2023-02-30".to_vec(),
        _ => cells[i].extend_from_slice(b"\"x"),
    }
    cells.join(&b","[..])
}

#[derive(Debug, Clone)]
struct LesionSpec {
    role: &'static str,
    nodal: bool,
}

#[derive(Debug, Clone)]
struct Cell {
    status: &'static str,
    long: Option<u32>,
    short: Option<u32>,
}

#[derive(Debug, Clone)]
struct SubjectSpec {
    gaps: Vec<u16>,
    lesions: Vec<LesionSpec>,
    cells: Vec<Vec<Option<Cell>>>,
    new_at: Vec<(usize, &'static str)>,
}

fn status() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just(""),
        1 => Just("absent"),
        1 => Just("too-small"),
        1 => Just("not-evaluated"),
        1 => Just("unequivocal-progression"),
        1 => Just("increased"),
        1 => Just("equivocal"),
    ]
}

fn cell() -> impl Strategy<Value = Option<Cell>> {
    prop::option::weighted(
        0.9,
        (
            status(),
            prop::option::weighted(0.9, 0u32..2000),
            prop::option::weighted(0.7, 0u32..400),
        )
            .prop_map(|(status, long, short)| Cell {
                status,
                long,
                short,
            }),
    )
}

fn subject() -> impl Strategy<Value = SubjectSpec> {
    (1usize..6, 0usize..6).prop_flat_map(|(n, k)| {
        (
            prop::collection::vec(1u16..120, n),
            prop::collection::vec(
                (
                    prop_oneof![3 => Just("target"), 1 => Just("non-target")],
                    any::<bool>(),
                )
                    .prop_map(|(role, nodal)| LesionSpec { role, nodal }),
                k,
            ),
            prop::collection::vec(prop::collection::vec(cell(), k), n),
            prop::collection::vec((1usize..6, status()), 0..2),
        )
            .prop_map(|(gaps, lesions, cells, new_at)| SubjectSpec {
                gaps,
                lesions,
                cells,
                new_at,
            })
    })
}

/// Sizes are tenths of a millimetre times `scale`.
fn to_rows(subjects: &[SubjectSpec], scale: u32) -> Vec<String> {
    let mut rows = vec![];
    for (si, s) in subjects.iter().enumerate() {
        let mut day = 0u32;
        for (t, gap) in s.gaps.iter().enumerate() {
            if t > 0 {
                day += *gap as u32;
            }
            let date = time::Date::from_calendar_date(2020, time::Month::January, 1).unwrap()
                + time::Duration::days(day as i64);
            let date = crit::data::model::format_date(date);
            for (li, l) in s.lesions.iter().enumerate() {
                let Some(c) = &s.cells[t][li] else {
                    if t == 0 {
                        rows.push(format!(
                            "S{si},V{t},{date},L{li},{},{},present,{},",
                            l.role,
                            organ(l),
                            10 * scale
                        ));
                    }
                    continue;
                };
                let status = if t == 0 { "" } else { c.status };
                let fmt = |v: Option<u32>| {
                    v.map(|x| format!("{}.{}", x * scale / 10, x * scale % 10))
                        .unwrap_or_default()
                };
                rows.push(format!(
                    "S{si},V{t},{date},L{li},{},{},{status},{},{}",
                    l.role,
                    organ(l),
                    fmt(c.long),
                    fmt(c.short)
                ));
            }
            for (k, (at, st)) in s.new_at.iter().enumerate() {
                if *at == t && t > 0 {
                    rows.push(format!(
                        "S{si},V{t},{date},N{k},new,liver,{st},{},",
                        7 * scale
                    ));
                }
            }
        }
    }
    rows
}

fn organ(l: &LesionSpec) -> &'static str {
    if l.nodal {
        "lymph node"
    } else {
        "lung"
    }
}

fn csv(rows: &[String]) -> String {
    let mut s = "subject,visit,date,lesion,role,organ,status,long_axis,short_axis\n".to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

fn categories(out: &[serde_json::Value]) -> Vec<(String, Vec<String>, String)> {
    out.iter()
        .map(|s| {
            let tps = s["timepoints"]
                .as_array()
                .map(|a| a.iter().map(|t| t["responses"].to_string()).collect())
                .unwrap_or_default();
            (
                s["subject"].to_string(),
                tps,
                s["best_response"].to_string(),
            )
        })
        .collect()
}

/// On histories without PD, iRECIST gives RECIST 1.1's categories with an "i" (with `sets` on both).
fn irecist_matches_recist(subjects: &[SubjectSpec], sets: &[String]) -> Result<(), TestCaseError> {
    let table = csv(&to_rows(subjects, 1));
    let recist = run_with("recist-1.1", &table, sets);
    let irecist = run_with("irecist", &table, sets);
    let with_i = |c: &serde_json::Value| -> String {
        match c.as_str().unwrap_or("null") {
            "non-CR/non-PD" => "non-iCR/non-iUPD".to_string(),
            "NE" => "NE".to_string(),
            "null" => "null".to_string(),
            other => format!("i{other}"),
        }
    };
    for (r, i) in recist.iter().zip(&irecist) {
        let tps = r["timepoints"].as_array().cloned().unwrap_or_default();
        if tps.iter().any(|t| t["response"] == "PD") {
            continue;
        }
        let expected: Vec<String> = tps.iter().map(|t| with_i(&t["response"])).collect();
        let got: Vec<String> = i["timepoints"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| t["response"].as_str().unwrap().to_string())
            .collect();
        prop_assert_eq!(got, expected, "subject {}", r["subject"]);
        prop_assert_eq!(
            i["best_response"].as_str().unwrap_or("null").to_string(),
            with_i(&r["best_response"])
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_the_checker(src in "\\PC{0,300}") {
        let _ = check::check_text("fuzz.crit", &src);
    }

    #[test]
    fn crit_like_text_never_panics_the_checker(words in prop::collection::vec(prop_oneof![
        Just("criteria x \"X\"\n"), Just("categories\n"), Just("  A complete\n"), Just("value v = "),
        Just("response overall\n"), Just("  A when "), Just(" otherwise\n"), Just("table t(a, b)\n"),
        Just("| A | - | => A |\n"), Just("sum(size of targets)"), Just("nadir(v)"), Just(" and "),
        Just(" >= "), Just("5 mm"), Just("30 %"), Just("("), Just(")"), Just("best response\n"),
        Just("  rank A > B\n"), Just("lesion s = long_axis\n"), Just("input lesion long_axis : mm\n"),
        Just("x at start of A"), Just("days since last v"), Just("\n"), Just("-"), Just("{A, B}"),
        Just("override value v = 1\n"), Just("extends recist-1.1"), Just("super"),
    ], 0..40)) {
        let src: String = words.concat();
        let _ = check::check_text("fuzz.crit", &src);
    }

    #[test]
    fn edited_recist_never_panics_the_checker(pos in 0usize..RECIST.len(), cut in 0usize..40, insert in "\\PC{0,5}") {
        let mut s = RECIST.to_string();
        let start = (0..=pos).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        let end = (start + cut..=s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
        s.replace_range(start..end, &insert);
        let _ = check::check_text("recist-1.1.crit", &s);
    }

    /// Any bytes as a lesion table (after a header, or alone), CSV or JSON: results or located
    /// errors, never a panic; the output stays JSON.
    #[test]
    fn any_bytes_as_a_table_never_panic(
        header in any::<bool>(),
        bytes in prop::collection::vec(prop_oneof![
            4 => any::<u8>(),
            4 => prop::sample::select(b"S1,BL,2024-01-01,T1,target,liver,present,30,\n\r\"{}[]:".to_vec()),
        ], 0..600),
    ) {
        let mut csv = if header {
            b"subject,visit,date,lesion,role,organ,status,long_axis,short_axis\n".to_vec()
        } else {
            vec![]
        };
        csv.extend_from_slice(&bytes);
        let out = stream_json(&csv, 2);
        if !out.is_empty() {
            subjects_of(&out);
        }
        if let Ok(t) = crit::data::json::read("prop.json", &String::from_utf8_lossy(&bytes)) {
            t.load();
        }
    }

    #[test]
    fn arbitrary_tables_never_panic(subjects in prop::collection::vec(subject(), 1..5), junk in prop::option::weighted(0.3, "[-a-z0-9.e]{0,6}")) {
        let mut rows = to_rows(&subjects, 1);
        if let (Some(j), Some(first)) = (junk, rows.first_mut()) {
            // Garbage in a measurement cell fails that subject only.
            *first = format!("{},{j}", first.rsplit_once(',').map(|(a, _)| a).unwrap_or(""));
        }
        run(&csv(&rows), &[]);
    }

    #[test]
    fn permuting_rows_changes_nothing(subjects in prop::collection::vec(subject(), 1..4), seed in any::<u64>()) {
        let rows = to_rows(&subjects, 1);
        let mut shuffled = rows.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        // Error records name the offending line, which moves with the rows: compare their
        // presence. Subjects come in the order of their first rows, which moves too.
        let strip = |v: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
            let mut v: Vec<serde_json::Value> = v.into_iter().map(|mut s| { if !s["error"].is_null() { s["error"] = serde_json::json!("error"); } s }).collect();
            v.sort_by_key(|s| s["subject"].to_string());
            v
        };
        prop_assert_eq!(strip(run(&csv(&rows), &[])), strip(run(&csv(&shuffled), &[])));
    }

    #[test]
    fn irecist_is_recist_with_an_i_until_progression(subjects in prop::collection::vec(subject(), 1..4)) {
        irecist_matches_recist(&subjects, &[])?;
    }

    /// The same with confirmation as protocols write it: the renamed best-response lines of
    /// iRECIST confirm, accept SD and forbid PR after CR exactly as RECIST 1.1's do.
    #[test]
    fn irecist_is_recist_with_an_i_until_progression_with_confirmation(subjects in prop::collection::vec(subject(), 1..4)) {
        let sets: Vec<String> = [
            "confirmation_required=true",
            "confirmation_accept_sd=true",
            "pr_after_cr_confirms=false",
            "confirm_max_interval=84days",
            "confirm_max_ne=0",
        ]
        .map(String::from)
        .to_vec();
        irecist_matches_recist(&subjects, &sets)?;
    }

    #[test]
    fn dr_recist_is_recist_where_there_is_no_dissociated_response(subjects in prop::collection::vec(subject(), 1..4)) {
        let table = csv(&to_rows(&subjects, 1));
        let recist = run_with("recist-1.1", &table, &[]);
        let dr = run_with("dr-recist", &table, &[]);
        for (r, d) in recist.iter().zip(&dr) {
            let rt = r["timepoints"].as_array().cloned().unwrap_or_default();
            let dt = d["timepoints"].as_array().cloned().unwrap_or_default();
            prop_assert_eq!(rt.len(), dt.len());
            for (a, b) in rt.iter().zip(&dt) {
                if b["response"] != "DR" {
                    prop_assert_eq!(&a["response"], &b["response"], "subject {} at {}", r["subject"], a["visit"]);
                } else {
                    prop_assert!(a["response"] == "SD" || a["response"] == "PD");
                }
            }
        }
    }

    #[test]
    fn scaling_sizes_keeps_decisions(subjects in prop::collection::vec(subject(), 1..4), k in 2u32..6) {
        let base = run(&csv(&to_rows(&subjects, 1)), &[]);
        let sets = vec![
            format!("pd_min_increase={} mm", 5 * k),
            format!("too_small={} mm", 5 * k),
            format!("node_normal={} mm", 10 * k),
        ];
        let scaled = run(&csv(&to_rows(&subjects, k)), &sets);
        prop_assert_eq!(categories(&base), categories(&scaled));
    }

    #[test]
    fn damaged_rows_fail_only_their_subject(
        subjects in prop::collection::vec(subject(), 1..5),
        faults in prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 0..4),
    ) {
        let rows = to_rows(&subjects, 1);
        let mut lines: Vec<Vec<u8>> = rows.iter().map(|r| r.as_bytes().to_vec()).collect();
        for (which, kind, at) in &faults {
            let k = which % lines.len().max(1);
            if let Some(r) = rows.get(k) {
                lines[k] = damage(r, *kind, *at);
            }
        }
        let mut bytes = b"subject,visit,date,lesion,role,organ,status,long_axis,short_axis\n".to_vec();
        for l in &lines {
            bytes.extend_from_slice(l);
            bytes.push(b'\n');
        }
        let out = subjects_of(&stream_json(&bytes, 2));
        // Every subject in the input, once each, in order.
        let expected: Vec<String> = blocks(&rows).iter().map(|b| b[0].split(',').next().unwrap().to_string()).collect();
        let got: Vec<String> = out.iter().map(|s| s["subject"].as_str().unwrap().to_string()).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn row_order_within_subjects_and_threads_change_nothing(
        subjects in prop::collection::vec(subject(), 1..5),
        seed in any::<u64>(),
    ) {
        let rows = to_rows(&subjects, 1);
        let one = stream_json(csv(&rows).as_bytes(), 1);
        let two = stream_json(csv(&rows).as_bytes(), 2);
        prop_assert_eq!(&one, &two, "one thread and two give the same bytes");
        let mut shuffled = vec![];
        for (k, mut b) in blocks(&rows).into_iter().enumerate() {
            shuffle(&mut b, seed.wrapping_add(k as u64));
            shuffled.extend(b);
        }
        let again = stream_json(csv(&shuffled).as_bytes(), 2);
        prop_assert_eq!(without_lines(subjects_of(&one)), without_lines(subjects_of(&again)));
    }

    #[test]
    fn scattered_rows_give_the_grouped_results(subjects in prop::collection::vec(subject(), 2..5)) {
        let rows = to_rows(&subjects, 1);
        let b = blocks(&rows);
        prop_assume!(b.len() > 1 && b[0].len() > 1);
        // The first subject's last row moves to the end: the table is read whole first.
        let mut scattered = rows.clone();
        let last = scattered.remove(b[0].len() - 1);
        scattered.push(last);
        let grouped = stream_json(csv(&rows).as_bytes(), 2);
        let loaded = stream_json(csv(&scattered).as_bytes(), 2);
        prop_assert_eq!(without_lines(subjects_of(&grouped)), without_lines(subjects_of(&loaded)));
    }

    #[test]
    fn line_ends_and_a_byte_order_mark_change_nothing(subjects in prop::collection::vec(subject(), 1..4)) {
        let text = csv(&to_rows(&subjects, 1));
        let plain = stream_json(text.as_bytes(), 1);
        let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        prop_assert_eq!(&plain, &stream_json(crlf.as_bytes(), 1));
        prop_assert_eq!(&plain, &stream_json(text.trim_end().as_bytes(), 1));
    }
}
