//! `crit compare` streams the table subject by subject: the report is the same for any number
//! of threads, a table whose subjects' rows are scattered gives the report of its grouped form,
//! the HTML drill-down explains exactly the subjects it picks (disagreements first) although
//! only those subjects' rows are kept, and the JSON written subject by subject is the tree
//! serde_json prints.

mod common;
use common::crit;

use std::path::Path;

use crit::compare::{self, model::select, Explain, Options};
use crit::data::table;

const CRITERIA: [&str; 3] = ["recist-1.1", "irecist", "dr-recist"];

/// A simulated cohort of `n` subjects (more than a batch of the pipeline, and more than the
/// drill-down shows): its lesion table.
fn cohort(name: &str, n: u32) -> String {
    let dir = common::temp_dir(&format!("compare-stream-{name}"));
    let d = dir.to_string_lossy().to_string();
    let n = n.to_string();
    let (code, _, err) = crit(&["simulate", "--subjects", &n, "--seed", "5", "--output", &d]);
    assert_eq!(code, 0, "{err}");
    dir.join("lesions.csv").to_string_lossy().to_string()
}

/// The same rows with each subject's rows apart: every subject's first row in order, then all
/// the other rows in order (each subject's rows keep their order; subjects keep theirs).
fn scattered(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut first, mut rest) = (vec![], vec![]);
    let mut last = "";
    for l in lines {
        let subject = l.split(',').next().unwrap();
        if subject != last {
            first.push(l);
            last = subject;
        } else {
            rest.push(l);
        }
    }
    let out = Path::new(path).with_file_name("scattered.csv");
    let body: Vec<&str> = [header].into_iter().chain(first).chain(rest).collect();
    std::fs::write(&out, body.join("\n") + "\n").unwrap();
    out.to_string_lossy().to_string()
}

fn compare(data: &str, format: &str, threads: &str) -> (String, String) {
    let mut args = vec!["compare", data, "--format", format, "--threads", threads];
    for c in CRITERIA {
        args.extend(["--criteria", c]);
    }
    let (code, out, err) = crit(&args);
    assert_eq!(code, 0, "{err}");
    (out, err)
}

#[test]
fn any_thread_count_and_scattered_rows_give_the_same_report() {
    let grouped = cohort("threads", 700);
    let apart = scattered(&grouped);
    for format in ["json", "html", "csv", "text"] {
        let (one, err) = compare(&grouped, format, "1");
        assert!(!err.contains("not together"), "{err}");
        let (two, _) = compare(&grouped, format, "2");
        assert!(one == two, "{format}: 1 and 2 threads differ");
        let (loaded, err) = compare(&apart, format, "2");
        assert_eq!(err.matches("are not together").count(), 1, "{err}");
        // Only the file's name differs.
        let loaded = loaded.replace("scattered.csv", "lesions.csv");
        assert!(
            one == loaded,
            "{format}: scattered rows give another report"
        );
    }
}

#[test]
fn the_drill_down_explains_exactly_the_subjects_it_picks() {
    let data = cohort("drill", 900);
    let specs: Vec<_> = CRITERIA
        .iter()
        .map(|c| compare::parse_spec(c).unwrap())
        .collect();
    // Every explanation, from the cohort read whole.
    let whole = table::read_path(&data).unwrap();
    let all = Options {
        explain: Explain::All,
        ..Default::default()
    };
    let every = compare::build_with(&specs, &whole, &all).unwrap();
    let changed = every.subjects.iter().filter(|s| s.changes()).count();
    assert!(
        changed > 3 && changed + 5 < 900,
        "{changed} subjects change"
    );
    // Fewer than those that change; every one of them and a few others; everyone.
    for threads in [1, 2] {
        for max in [3, changed + 5, 2000] {
            let opts = Options {
                explain: Explain::Selected(max),
                ..Default::default()
            };
            let mut t = table::open(&data).unwrap();
            let report = crit::cli::Threads {
                threads: Some(threads),
            }
            .install(|| compare::build_table(&specs, &mut t, &opts, |_| true).unwrap());
            let picked = select(&report.subjects, max);
            assert_eq!(picked.len(), max.min(900));
            for (j, s) in report.subjects.iter().enumerate() {
                for (i, o) in s.per.iter().enumerate() {
                    let (Ok(o), Ok(e)) = (o, &every.subjects[j].per[i]) else {
                        continue;
                    };
                    if picked.contains(&j) {
                        assert!(o.explanation.is_some(), "subject {j} has no explanation");
                        assert_eq!(o.explanation, e.explanation, "subject {j}");
                    } else {
                        assert_eq!(o.explanation, None, "subject {j} is not shown");
                    }
                }
            }
        }
    }
}

#[test]
fn json_written_subject_by_subject_is_the_pretty_printed_tree() {
    let specs: Vec<_> = ["recist-1.1", "irecist", "recist-1.1[pd_increase=25%]"]
        .iter()
        .map(|c| compare::parse_spec(c).unwrap())
        .collect();
    let cohort = table::read_path("examples/immunotherapy-cohort.csv").unwrap();
    let with_os = Options {
        outcomes: Some(compare::os::read_outcomes("examples/immunotherapy-outcomes.csv").unwrap()),
        ..Default::default()
    };
    for opts in [Options::default(), with_os] {
        let r = compare::build_with(&specs, &cohort, &opts).unwrap();
        let tree = compare::to_json(&r);
        let pretty = serde_json::to_string_pretty(&tree).unwrap() + "\n";
        assert_eq!(compare::write_json(&r, vec![]), pretty);
        // An extra member takes its place in key order.
        let mut with = tree.as_object().unwrap().clone();
        let extra = serde_json::json!({"n": 1, "list": [1, 2], "empty": []});
        with.insert("truth".into(), extra.clone());
        with.insert("another".into(), serde_json::json!("x"));
        let pretty = serde_json::to_string_pretty(&with).unwrap() + "\n";
        let written = compare::write_json(&r, vec![("truth", extra), ("another", "x".into())]);
        assert_eq!(written, pretty);
    }
    // No subject at all: an empty list, as the tree prints it.
    let empty = table::read_csv("empty.csv", "subject,visit,date,lesion,role,long_axis\n").unwrap();
    let r = compare::build_with(&specs, &empty, &Options::default()).unwrap();
    let pretty = serde_json::to_string_pretty(&compare::to_json(&r)).unwrap() + "\n";
    assert_eq!(compare::write_json(&r, vec![]), pretty);
    assert!(pretty.contains("\"subjects\": []"), "{pretty}");
}

#[test]
fn csv_needs_no_divergences() {
    let specs: Vec<_> = ["recist-1.1", "irecist", "percist-1.0"]
        .iter()
        .map(|c| compare::parse_spec(c).unwrap())
        .collect();
    let cohort = table::read_path("examples/pet-cohort.csv").unwrap();
    let full = compare::build_with(&specs, &cohort, &Options::default()).unwrap();
    let lean = Options {
        no_divergences: true,
        ..Default::default()
    };
    let lean = compare::build_with(&specs, &cohort, &lean).unwrap();
    assert!(full.subjects.iter().any(|s| !s.divergences.is_empty()));
    assert!(lean.subjects.iter().all(|s| s.divergences.is_empty()));
    assert_eq!(compare::to_csv(&lean), compare::to_csv(&full));
}
