//! CDISC SDTM input (TU, TR, DM, RS as CSV or SAS transport), RS output and `crit audit`, on
//! the pharmaversesdtm oncology data and on small hand-written datasets.

mod common;
use common::crit;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crit::audit;
use crit::check;
use crit::data::sdtm::{self, Impute, Options, Sdtm, Table};
use crit::data::{bind, xpt, RawCohort};
use crit::eval::{self, Engine};
use crit::explain::output;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pharmaversesdtm");

fn opts(dataset: &str, impute: Option<Impute>) -> Options {
    Options {
        dataset: Some(dataset.into()),
        impute,
        ..Default::default()
    }
}

fn read(dir: &str, o: &Options) -> Sdtm {
    sdtm::read_dir(dir, o).unwrap_or_else(|e| panic!("{e}"))
}

/// Every timepoint as CSV rows (subject, reader, visit, date, response, ...), and the subjects
/// that had data errors, with their message.
fn evaluate(criteria: &str, cohort: &RawCohort) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let checked = check::load(criteria).unwrap_or_else(|d| panic!("{criteria}: {d:?}"));
    let eng = Engine::new(&checked.ruleset);
    let binding = bind::plan(&checked.ruleset, cohort).unwrap_or_else(|e| panic!("{e:?}"));
    let mut rows = vec![];
    let mut errors = vec![];
    for r in eval::each_subject(&eng, &binding, cohort, |raw, r| match r {
        Ok(ev) => Ok(output::csv_rows(ev)),
        Err(e) => Err((raw.subject.clone(), e.to_string())),
    }) {
        match r {
            Ok(mut x) => rows.append(&mut x),
            Err(e) => errors.push(e),
        }
    }
    (rows, errors)
}

fn audit_report(criteria: &str, s: &Sdtm, o: &audit::Options) -> audit::Report {
    let checked = check::load(criteria).unwrap_or_else(|d| panic!("{criteria}: {d:?}"));
    let eng = Engine::new(&checked.ruleset);
    let binding = bind::plan(&checked.ruleset, &s.cohort).unwrap();
    audit::audit(
        &eng,
        &binding,
        &s.cohort,
        s.recorded.as_ref().expect("an RS file"),
        o,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sdtm-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The recorded OVRLRESP of the RECIST set, read independently: (subject, reader, visit) → value.
fn recorded_overall() -> BTreeMap<(String, String, String), String> {
    let mut rdr = csv::Reader::from_path(format!("{DIR}/rs_onco_recist.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (s, id, ev, v, t, r) = (
        col("USUBJID"),
        col("RSEVALID"),
        col("RSEVAL"),
        col("VISIT"),
        col("RSTESTCD"),
        col("RSSTRESC"),
    );
    let mut out = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[t], "OVRLRESP");
        let reader = if &rec[id] == "NA" { &rec[ev] } else { &rec[id] };
        out.insert(
            (rec[s].to_string(), reader.to_string(), rec[v].to_string()),
            rec[r].to_string(),
        );
    }
    out
}

#[test]
fn recist_set_reproduces_all_66_recorded_overall_responses() {
    let s = read(DIR, &opts("onco_recist", Some(Impute::Middle)));
    assert!(s.cohort.errors.is_empty(), "{:?}", s.cohort.errors);
    assert!(s.cohort.has_reader);
    // 8 subjects x 3 readers, sorted by (subject, reader).
    assert_eq!(s.cohort.subjects.len(), 24);
    let keys: Vec<(String, Option<String>)> = s
        .cohort
        .subjects
        .iter()
        .map(|x| (x.subject.clone(), x.reader.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        keys[0],
        ("01-701-1015".to_string(), Some("INVESTIGATOR".to_string()))
    );
    let names: Vec<&str> = s.cohort.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["long_axis", "short_axis"]);

    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert!(errors.is_empty(), "{errors:?}");
    let computed: BTreeMap<(String, String, String), String> = rows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone(), r[2].clone()), r[4].clone()))
        .collect();
    let recorded = recorded_overall();
    assert_eq!(recorded.len(), 66);
    let readers: std::collections::BTreeSet<&str> = recorded.keys().map(|k| k.1.as_str()).collect();
    assert_eq!(
        readers.into_iter().collect::<Vec<_>>(),
        ["INVESTIGATOR", "RADIOLOGIST 1", "RADIOLOGIST 2"]
    );
    for (k, v) in &recorded {
        let c = computed
            .get(k)
            .unwrap_or_else(|| panic!("no computed timepoint for {k:?}"));
        assert!(
            c.eq_ignore_ascii_case(v),
            "{k:?}: recorded {v}, computed {c}"
        );
    }
    // Spot checks: the missing lesions (NE) at the partial-date visit, reappearance after CR.
    let at = |s: &str, r: &str, v: &str| {
        computed[&(s.to_string(), r.to_string(), v.to_string())].clone()
    };
    assert_eq!(at("01-701-1015", "RADIOLOGIST 1", "WEEK 6"), "NE");
    assert_eq!(at("01-701-1015", "RADIOLOGIST 1", "WEEK 9"), "CR");
    assert_eq!(at("01-701-1034", "INVESTIGATOR", "WEEK 3"), "non-CR/non-PD");
    // The imputed date is the 15th and is marked.
    let r1 = s
        .cohort
        .subjects
        .iter()
        .find(|x| x.subject == "01-701-1015" && x.reader.as_deref() == Some("RADIOLOGIST 1"))
        .unwrap();
    let week6: Vec<_> = r1.rows.iter().filter(|r| r1.visit(r) == "WEEK 6").collect();
    assert_eq!(week6.len(), 2);
    assert!(week6
        .iter()
        .all(|r| r.date_imputed && r.date.to_string() == "2014-02-15"));
}

#[test]
fn audit_of_the_recist_set_finds_no_disagreement() {
    for how in [Impute::Middle, Impute::First] {
        let s = read(DIR, &opts("onco_recist", Some(how)));
        let report = audit_report(
            "recist-1.1",
            &s,
            &audit::Options {
                explain: true,
                ..Default::default()
            },
        );
        assert_eq!(
            report.summary,
            audit::Summary {
                compared: 66,
                agreed: 66,
                disagreed: 0,
                not_computed: 0,
            }
        );
        assert!(report.disagreements.is_empty());
        assert!(report.subject_errors.is_empty());
    }
    // One reader, and the accepted readings (RSACPTFL/TRACPTFL = Y, one timeline per subject).
    let s = read(
        DIR,
        &Options {
            reader: Some("radiologist 2".into()),
            ..opts("onco_recist", Some(Impute::Middle))
        },
    );
    assert_eq!(s.cohort.subjects.len(), 8);
    let report = audit_report(
        "recist-1.1",
        &s,
        &audit::Options {
            reader: Some("RADIOLOGIST 2".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        report.summary,
        audit::Summary {
            compared: 22,
            agreed: 22,
            disagreed: 0,
            not_computed: 0,
        }
    );
    let s = read(
        DIR,
        &Options {
            accepted: true,
            ..opts("onco_recist", Some(Impute::Middle))
        },
    );
    assert!(!s.cohort.has_reader);
    assert_eq!(s.cohort.subjects.len(), 8);
    let report = audit_report(
        "recist-1.1",
        &s,
        &audit::Options {
            accepted: true,
            ..Default::default()
        },
    );
    assert_eq!(
        report.summary,
        audit::Summary {
            compared: 22,
            agreed: 22,
            disagreed: 0,
            not_computed: 0,
        }
    );
}

#[test]
fn partial_dates_are_errors_until_imputed() {
    let s = read(DIR, &opts("onco_recist", None));
    let (_, errors) = evaluate("recist-1.1", &s.cohort);
    // Subject 01-701-1015's WEEK 6 is `2014-02` for all three readers.
    assert_eq!(errors.len(), 3, "{errors:?}");
    for (subject, e) in &errors {
        assert_eq!(subject, "01-701-1015");
        assert!(e.contains("tr_onco_recist.csv:"), "{e}");
        assert!(
            e.contains("(column TRDTC): partial date `2014-02` at WEEK 6"),
            "{e}"
        );
        assert!(e.contains("--impute-dates first|middle"), "{e}");
    }
    // The audit counts that subject's 9 recorded responses as not computed, each with why.
    let report = audit_report("recist-1.1", &s, &audit::Options::default());
    assert_eq!(
        report.summary,
        audit::Summary {
            compared: 66,
            agreed: 57,
            disagreed: 0,
            not_computed: 9,
        }
    );
    assert!(report.disagreements.is_empty());
    assert_eq!(report.not_computed.len(), 9);
    for n in &report.not_computed {
        assert_eq!(n.subject, "01-701-1015");
        assert!(
            n.reason.starts_with("data error: ")
                && n.reason.contains("partial date `2014-02` at WEEK 6"),
            "{}",
            n.reason
        );
    }
    assert_eq!(report.subject_errors.len(), 3);
    // The text report lists them apart, each with why.
    let (code, out, _) = crit(&[
        "audit",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco_recist",
    ]);
    assert_eq!(code, 1);
    let (_, rest) = out
        .split_once("not computed:\n")
        .expect("a not-computed section");
    let listed: Vec<&str> = rest.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(listed.len(), 9);
    assert!(
        listed[0].starts_with("  subject 01-701-1015 (reader ")
            && listed[0].contains("data error: ")
            && listed[0].contains("partial date `2014-02` at WEEK 6"),
        "{}",
        listed[0]
    );
    assert!(
        out.trim_end()
            .ends_with("compared 66, agreed 57, disagreed 0, not computed 9"),
        "{out}"
    );
}

#[test]
fn large_set_loads_and_baseline_pd_explains_its_responses() {
    let s = read(DIR, &opts("onco", Some(Impute::Middle)));
    assert!(s.cohort.errors.is_empty(), "{:?}", s.cohort.errors);
    let subjects: std::collections::BTreeSet<&str> = s
        .cohort
        .subjects
        .iter()
        .map(|x| x.subject.as_str())
        .collect();
    assert_eq!(subjects.len(), 254);
    assert_eq!(s.cohort.subjects.len(), 254 * 3);
    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(rows.len() > 1800, "{}", rows.len());

    // Its RS measured target PD from baseline: RECIST 1.1 (from the nadir) disagrees often.
    // (01-701-1203, radiologist 2, week 12 agrees: its sum is exactly -30 % once 13.2 mm is read
    // from TRSTRESC instead of the float 13.200000000000001 of TRSTRESN.)
    let recist = audit_report("recist-1.1", &s, &audit::Options::default());
    assert_eq!(
        recist.summary,
        audit::Summary {
            compared: 1899,
            agreed: 1782,
            disagreed: 117,
            not_computed: 0,
        }
    );
    let pd_from_nadir = recist
        .disagreements
        .iter()
        .filter(|d| d.computed == "PD")
        .count();
    assert_eq!(pd_from_nadir, 83);

    // The same rule with PD from baseline agrees far better. Its RSCAT is RECIST 1.1's.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/baseline-pd.crit");
    let o = audit::Options {
        category: Some("RECIST 1.1".into()),
        ..Default::default()
    };
    let baseline = audit_report(path, &s, &o);
    assert_eq!(
        baseline.summary,
        audit::Summary {
            compared: 1899,
            agreed: 1862,
            disagreed: 37,
            not_computed: 0,
        }
    );
    assert!(baseline.disagreements.iter().all(|d| d.computed != "PD"));
    // Without --rscat the ruleset's own title matches no RSCAT: a clear error.
    let checked = check::load(path).unwrap();
    let eng = Engine::new(&checked.ruleset);
    let binding = bind::plan(&checked.ruleset, &s.cohort).unwrap();
    let e = audit::audit(
        &eng,
        &binding,
        &s.cohort,
        s.recorded.as_ref().unwrap(),
        &audit::Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("RSCAT"));
    assert!(e.help.unwrap().contains("RECIST 1.1"));

    // On the RECIST set (PD from the nadir), baseline-pd disagrees where the nadir matters.
    let r = read(DIR, &opts("onco_recist", Some(Impute::Middle)));
    assert_eq!(
        audit_report(path, &r, &o).summary,
        audit::Summary {
            compared: 66,
            agreed: 62,
            disagreed: 4,
            not_computed: 0,
        }
    );
}

/// The CSV tables of the RECIST set written as SAS transport files.
fn write_xpt_set(dir: &std::path::Path, version: xpt::Version) {
    let numeric =
        |name: &str| name.ends_with("STRESN") || name.ends_with("SEQ") || name == "VISITNUM";
    for domain in ["tu", "tr", "rs"] {
        let t = Table::read(&format!("{DIR}/{domain}_onco_recist.csv")).unwrap();
        let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
        // Upper-case file names: names are matched without regard to case.
        let out = dir.join(format!("{}_ONCO_RECIST.XPT", domain.to_uppercase()));
        xpt::write(
            out.to_str().unwrap(),
            &domain.to_uppercase(),
            &t.columns,
            &rows,
            version,
            numeric,
        )
        .unwrap();
    }
}

#[test]
fn xpt_v5_and_v8_read_back_to_identical_results() {
    let csv = read(DIR, &opts("onco_recist", Some(Impute::Middle)));
    let (expected, errors) = evaluate("recist-1.1", &csv.cohort);
    assert!(errors.is_empty());
    assert_eq!(expected.len(), 66);
    for (name, version) in [("v5", xpt::Version::V5), ("v8", xpt::Version::V8)] {
        let dir = temp_dir(&format!("xpt-{name}"));
        write_xpt_set(&dir, version);
        let t = xpt::read(dir.join("TR_ONCO_RECIST.XPT").to_str().unwrap()).unwrap();
        assert_eq!(t.dataset, "TR");
        assert_eq!(t.rows.len(), 546);
        assert!(t.columns.iter().any(|c| c == "TRSTRESN"));
        let x = read(
            dir.to_str().unwrap(),
            &opts("onco_recist", Some(Impute::Middle)),
        );
        let (got, errors) = evaluate("recist-1.1", &x.cohort);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(got, expected, "{name}");
        let report = audit_report("recist-1.1", &x, &audit::Options::default());
        assert_eq!(
            report.summary,
            audit::Summary {
                compared: 66,
                agreed: 66,
                disagreed: 0,
                not_computed: 0,
            },
            "{name}"
        );
        // Lines of a transport file are record numbers.
        let first = x.cohort.subjects[0]
            .rows
            .iter()
            .map(|r| r.line)
            .min()
            .unwrap();
        assert_eq!(first, 17, "{name}: the investigator's first TR record");
    }
}

#[test]
fn sdtm_rs_output_and_cli() {
    let args = [
        "eval",
        "--criteria",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco_recist",
        "--impute-dates",
        "middle",
        "--format",
        "sdtm-rs",
    ];
    let (code, out, err) = crit(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: 6 lesion results had partial dates"),
        "{err}"
    );
    assert_eq!(
        out.lines().next(),
        Some("STUDYID,DOMAIN,USUBJID,RSSEQ,RSTESTCD,RSTEST,RSCAT,RSORRES,RSSTRESC,RSSTAT,RSEVAL,RSEVALID,VISIT,RSDTC")
    );
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(|c| c.to_string()).collect())
        .collect();
    // 66 timepoints x 4 responses, and a best overall response per subject and reader.
    assert_eq!(rows.len(), 66 * 4 + 24);
    let find = |subject: &str, test: &str, evaluator: &str, visit: &str| -> Vec<&Vec<String>> {
        rows.iter()
            .filter(|r| {
                r[2] == subject
                    && r[4] == test
                    && (r[10] == evaluator || r[11] == evaluator)
                    && r[12] == visit
            })
            .collect()
    };
    let one = |subject: &str, test: &str, evaluator: &str, visit: &str| -> Vec<String> {
        let found = find(subject, test, evaluator, visit);
        assert_eq!(found.len(), 1, "{subject} {test} {evaluator} {visit}");
        found[0].clone()
    };
    for r in &rows {
        assert_eq!(
            (&*r[0], &*r[1], &*r[6]),
            ("CDISCPILOT01", "RS", "RECIST 1.1")
        );
        assert_eq!(r[7], r[8]);
        assert_eq!(r[9], "", "every response was decided");
    }
    let r = one("01-701-1015", "OVRLRESP", "RADIOLOGIST 1", "WEEK 3");
    assert_eq!(
        (&*r[5], &*r[8], &*r[10], &*r[13]),
        (
            "Overall Response",
            "SD",
            "INDEPENDENT ASSESSOR",
            "2014-01-23"
        )
    );
    // CDISC terms: NEWLIND is Y/N, non-target responses upper case.
    assert_eq!(
        one("01-701-1015", "NEWLIND", "INVESTIGATOR", "WEEK 3")[8],
        "N"
    );
    assert!(rows
        .iter()
        .filter(|r| r[4] == "NEWLIND")
        .all(|r| r[8] == "Y" || r[8] == "N"));
    assert_eq!(
        one("01-701-1034", "NTRGRESP", "INVESTIGATOR", "WEEK 3")[8],
        "NON-CR/NON-PD"
    );
    // The imputed date is written back as the data had it.
    assert_eq!(
        one("01-701-1015", "OVRLRESP", "INVESTIGATOR", "WEEK 6")[13],
        "2014-02"
    );
    // RSSEQ numbers each subject's rows 1, 2, ... over its readers.
    let mut seq: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for r in &rows {
        seq.entry(&r[2]).or_default().push(r[3].parse().unwrap());
    }
    for (subject, s) in &seq {
        assert_eq!(*s, (1..=s.len()).collect::<Vec<_>>(), "{subject}");
    }
    // BESTRSP is the best overall response of `crit eval`, at the date of the assessment that
    // gave it.
    let (code, json, _) = crit(&[&args[..9], &["--format", "json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 24);
    for s in subjects {
        let (subject, reader) = (
            s["subject"].as_str().unwrap(),
            s["reader"].as_str().unwrap(),
        );
        let best = one(subject, "BESTRSP", reader, "");
        assert_eq!(best[5], "Best Overall Response");
        assert_eq!(
            best[8],
            crit::rs_domain::cdisc_term(s["best_response"].as_str().unwrap())
        );
    }
    let best = one("01-701-1015", "BESTRSP", "INVESTIGATOR", "");
    assert_eq!((&*best[8], &*best[13]), ("CR", "2014-03-06"));

    // Writing the RS rows and auditing against them agrees everywhere.
    let dir = temp_dir("rs-roundtrip");
    for d in ["tu", "tr"] {
        std::fs::copy(
            format!("{DIR}/{d}_onco_recist.csv"),
            dir.join(format!("{d}.csv")),
        )
        .unwrap();
    }
    write(&dir, "rs.csv", &out);
    let (code, out, err) = crit(&[
        "audit",
        "-c",
        "recist-1.1",
        "--sdtm",
        dir.to_str().unwrap(),
        "--impute-dates",
        "first",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({"compared": 66, "agreed": 66, "disagreed": 0, "not_computed": 0})
    );

    // The explanation of an imputed date says so.
    let (code, out, _) = crit(&[
        "explain",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco_recist",
        "--impute-dates",
        "first",
        "--subject",
        "01-701-1015",
        "--reader",
        "RADIOLOGIST 1",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("WEEK 6  2014-02-01 (date imputed)  overall NE"),
        "{out}"
    );

    // A lesion table has no STUDYID: --studyid gives it.
    let (code, _, err) = crit(&[
        "eval",
        "-c",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--format",
        "sdtm-rs",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("has no STUDYID for the RS rows") && err.contains("--studyid ID"),
        "{err}"
    );
    let (code, out, _) = crit(&[
        "eval",
        "-c",
        "irecist",
        "examples/recist-cohort.csv",
        "--format",
        "sdtm-rs",
        "--studyid",
        "S-1",
    ]);
    assert_eq!(code, 0);
    assert!(out.lines().skip(1).all(|l| l.starts_with("S-1,RS,")));
    assert!(
        out.contains(",NEWLIND,New Lesion Indicator,iRECIST,Y,Y,"),
        "{out}"
    );
    assert!(
        out.contains(",NTRGRESP,Non-target Response,iRECIST,NON-iCR/NON-iUPD,NON-iCR/NON-iUPD,"),
        "{out}"
    );

    // Usage: no data at all, or both a table and --sdtm.
    assert_eq!(crit(&["eval", "-c", "recist-1.1"]).0, 2);
    assert_eq!(
        crit(&[
            "eval",
            "-c",
            "recist-1.1",
            "examples/recist-cohort.csv",
            "--sdtm",
            DIR
        ])
        .0,
        2
    );
    assert_eq!(crit(&["audit", "-c", "recist-1.1"]).0, 2);
    // A missing dataset names the ones there are.
    let (code, _, err) = crit(&[
        "eval",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco_recst",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no TU file: expected tu_onco_recst.csv or tu_onco_recst.xpt"),
        "{err}"
    );
    assert!(
        err.contains("datasets here (use --dataset NAME): onco, onco_recist"),
        "{err}"
    );
}

#[test]
fn audit_cli_lists_disagreements_with_explanations() {
    let (code, out, err) = crit(&[
        "audit",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco",
        "--impute-dates",
        "middle",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({"compared": 1899, "agreed": 1782, "disagreed": 117, "not_computed": 0})
    );
    let d = &v["disagreements"][0];
    for k in ["subject", "reader", "visit", "recorded", "computed"] {
        assert!(d.get(k).is_some(), "{k}");
    }

    let (code, out, _) = crit(&[
        "audit",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco",
        "--impute-dates",
        "middle",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().next(),
        Some("subject,reader,visit,recorded,computed,status,reason")
    );
    assert_eq!(out.lines().count(), 118);

    let (code, out, _) = crit(&[
        "audit",
        "-c",
        "recist-1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco",
        "--impute-dates",
        "middle",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.trim_end()
            .ends_with("compared 1899, agreed 1782, disagreed 117, not computed 0"),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
    // Each disagreement comes with its timepoint's explanation, indented.
    let first = out.split("\n\n").next().unwrap();
    let mut lines = first.lines();
    let head = lines.next().unwrap();
    assert!(
        head.starts_with("subject ")
            && head.contains(": recorded ")
            && head.contains(", computed "),
        "{head}"
    );
    let explanation = lines.next().unwrap();
    assert!(
        explanation.starts_with("    ") && explanation.contains("overall "),
        "{first}"
    );

    let (code, out, _) = crit(&[
        "audit",
        "-c",
        "examples/baseline-pd.crit",
        "--rscat",
        "RECIST 1.1",
        "--sdtm",
        DIR,
        "--dataset",
        "onco",
        "--impute-dates",
        "middle",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({"compared": 1899, "agreed": 1862, "disagreed": 37, "not_computed": 0})
    );
}

// Small hand-written datasets: two subjects, one reader each.

const TU: &str = "\
STUDYID,DOMAIN,USUBJID,TULNKID,TUSTRESC,TULOC,TUEVAL
S,TU,A,T01,TARGET,LIVER,INVESTIGATOR
S,TU,A,T02,TARGET,LYMPH NODE,INVESTIGATOR
S,TU,A,NT01,NON-TARGET,BONE,INVESTIGATOR
S,TU,A,N01,NEW TARGET,LUNG,INVESTIGATOR
S,TU,B,T01,TARGET,LUNG,INVESTIGATOR
";

const TR_HEADER: &str = "STUDYID,DOMAIN,USUBJID,TRLNKID,TRTESTCD,TRSTRESC,TRSTRESN,TRSTRESU,TRSTAT,TREVAL,VISIT,TRDTC\n";

/// Subject A: baseline sum 40 mm (T01 30 + node T02 short axis 10), week 6 sum 26 (PR), week 12
/// a new lesion (PD). Subject B: baseline 20 mm, week 6 in cm (1.2 cm = 12 mm: PR).
const TR_ROWS: &str = "\
S,TR,A,T01,LDIAM,30,30,mm,,INVESTIGATOR,BASELINE,2020-01-01
S,TR,A,T02,LDIAM,15,15,mm,,INVESTIGATOR,BASELINE,2020-01-01
S,TR,A,T02,LPERP,10,10,mm,,INVESTIGATOR,BASELINE,2020-01-01
S,TR,A,NT01,TUMSTATE,PRESENT,NA,NA,,INVESTIGATOR,BASELINE,2020-01-01
S,TR,A,NT01,TUMSTATE,PRESENT,NA,NA,,INVESTIGATOR,BASELINE,2020-01-01
S,TR,A,T01,DIAMETER,99,99,mm,,INVESTIGATOR,WEEK 6,2020-02-12
S,TR,A,T01,LDIAM,20,20,mm,,INVESTIGATOR,WEEK 6,2020-02-12
S,TR,A,T02,LPERP,6,6,mm,,INVESTIGATOR,WEEK 6,2020-02-12
S,TR,A,NT01,TUMSTATE,NA,NA,NA,NOT DONE,INVESTIGATOR,WEEK 6,2020-02-12
S,TR,A,T01,DIAMETER,21,21,mm,,INVESTIGATOR,WEEK 12,2020-03-25
S,TR,A,T02,LPERP,6,6,mm,,INVESTIGATOR,WEEK 12,2020-03-25
S,TR,A,NT01,TUMSTATE,PRESENT,,,,INVESTIGATOR,WEEK 12,2020-03-25
S,TR,A,N01,TUMSTATE,PRESENT,,,,INVESTIGATOR,WEEK 12,2020-03-25
S,TR,B,T01,LDIAM,20,20,mm,,INVESTIGATOR,BASELINE,2020-01-05
S,TR,B,T01,LDIAM,1.2,1.2,cm,,INVESTIGATOR,WEEK 6,2020-02-16
";

fn small(name: &str, tr_extra: &str, dm: Option<&str>) -> PathBuf {
    let dir = temp_dir(name);
    write(&dir, "tu.csv", TU);
    write(&dir, "Tr.CSV", &format!("{TR_HEADER}{TR_ROWS}{tr_extra}"));
    if let Some(dm) = dm {
        write(&dir, "dm.csv", dm);
    }
    dir
}

#[test]
fn small_dataset_maps_every_column() {
    let dir = small(
        "mapping",
        "",
        Some("USUBJID,RFSTDTC\nA,2019-12-20\nB,2020-01\n"),
    );
    let s = read(
        dir.to_str().unwrap(),
        &Options {
            impute: Some(Impute::First),
            ..Default::default()
        },
    );
    assert!(s.cohort.file.ends_with("Tr.CSV"));
    assert_eq!(s.cohort.subjects.len(), 2);
    let a = &s.cohort.subjects[0];
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.reader.as_deref(), Some("INVESTIGATOR"));
    let row = |lesion: &str, visit: &str| {
        a.rows
            .iter()
            .find(|r| a.lesion(r) == lesion && a.visit(r) == visit)
            .unwrap()
    };
    let extra = |x: &crit::data::model::RawSubject, r| -> Vec<String> {
        (0..2).map(|c| x.cell(r, c).to_string()).collect()
    };
    // Duplicate identical TUMSTATE rows are merged; the node is nodal; DIAMETER yields to LDIAM.
    assert_eq!(
        a.rows
            .iter()
            .filter(|r| a.lesion(r) == "NT01" && a.visit(r) == "BASELINE")
            .count(),
        1
    );
    let t02 = row("T02", "BASELINE");
    assert_eq!((t02.nodal, a.organ(t02)), (Some(true), Some("lymph node")));
    assert_eq!(extra(a, t02), ["15", "10"]);
    assert_eq!(extra(a, row("T01", "WEEK 6")), ["20", ""]);
    assert_eq!(extra(a, row("T01", "WEEK 12")), ["21", ""]);
    assert_eq!(
        row("NT01", "WEEK 6").status.map(|s| s.name()),
        Some("not-evaluated")
    );
    assert_eq!(row("N01", "WEEK 12").role.name(), "new");
    assert_eq!(
        row("N01", "WEEK 12").status.map(|s| s.name()),
        Some("present")
    );
    assert_eq!(
        t02.start_date.map(|d| d.to_string()).as_deref(),
        Some("2019-12-20")
    );
    // B: 1.2 cm is 12 mm; the partial treatment start 2020-01 is imputed to the 1st.
    let b = &s.cohort.subjects[1];
    assert_eq!(extra(b, &b.rows[1]), ["12", ""]);
    assert_eq!(
        b.rows[0].start_date.map(|d| d.to_string()).as_deref(),
        Some("2020-01-01")
    );

    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert!(errors.is_empty(), "{errors:?}");
    let overall: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        overall,
        [
            ("A", "WEEK 6", "PR"),
            ("A", "WEEK 12", "PD"),
            ("B", "WEEK 6", "PR")
        ]
    );
}

#[test]
fn malformed_rows_are_located_and_other_subjects_still_evaluated() {
    let extra = "\
S,TR,,T01,LDIAM,20,20,mm,,INVESTIGATOR,WEEK 12,2020-03-25
S,TR,B,T09,LDIAM,20,20,mm,,INVESTIGATOR,WEEK 12,2020-03-28
";
    let dir = small("unknown-lesion", extra, None);
    let s = read(dir.to_str().unwrap(), &Options::default());
    // A row without USUBJID belongs to no subject: a cohort error at its line.
    assert_eq!(s.cohort.errors.len(), 1);
    let e = &s.cohort.errors[0];
    assert!(e.file.ends_with("Tr.CSV"));
    assert_eq!((e.line, e.column.as_deref()), (Some(17), Some("USUBJID")));
    // A TRLNKID with no TULNKID fails subject B only.
    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "B");
    assert!(
        errors[0]
            .1
            .contains("Tr.CSV:18 (column TRLNKID): lesion T09 of subject B has no TU row"),
        "{}",
        errors[0].1
    );
    assert_eq!(rows.iter().filter(|r| r[0] == "A").count(), 2);

    // A non-numeric TRSTRESN.
    let dir = small(
        "non-numeric",
        "S,TR,B,T01,LDIAM,big,big,mm,,INVESTIGATOR,WEEK 12,2020-03-28\n",
        None,
    );
    let s = read(dir.to_str().unwrap(), &Options::default());
    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].1.contains(
            "Tr.CSV:17 (column TRSTRESN): LDIAM result `big` of lesion T01 is not a number"
        ),
        "{}",
        errors[0].1
    );
    assert_eq!(rows.len(), 2);

    // Conflicting duplicates.
    let dir = small(
        "conflict",
        "S,TR,B,T01,LDIAM,13,13,mm,,INVESTIGATOR,WEEK 6,2020-02-16\n",
        None,
    );
    let s = read(dir.to_str().unwrap(), &Options::default());
    let (_, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("Tr.CSV:17 (column TRTESTCD): lesion T01 has two different LDIAM results at WEEK 6 2020-02-16: 12 (line 16) and 13 (line 17)"), "{}", errors[0].1);

    // A unit of the wrong kind, an unknown state and an unknown role.
    let dir = small("bad-values", "S,TR,B,T01,LPERP,3,3,SUV,,INVESTIGATOR,WEEK 6,2020-02-16\nS,TR,A,NT01,TUMSTATE,GONE,,,,INVESTIGATOR,WEEK 12,2020-03-25\n", None);
    let s = read(dir.to_str().unwrap(), &Options::default());
    let (_, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0]
            .1
            .contains("(column TRSTRESC): unknown tumour state `GONE`"),
        "{}",
        errors[0].1
    );
    assert!(
        errors[1]
            .1
            .contains("(column TRSTRESU): LPERP result of lesion T01 is in `SUV`"),
        "{}",
        errors[1].1
    );
    let dir = temp_dir("bad-role");
    write(&dir, "tu.csv", &TU.replace("B,T01,TARGET", "B,T01,MAYBE"));
    write(&dir, "tr.csv", &format!("{TR_HEADER}{TR_ROWS}"));
    let s = read(dir.to_str().unwrap(), &Options::default());
    let (rows, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .1
            .contains("tu.csv:6 (column TUSTRESC): unknown lesion role `MAYBE`"),
        "{}",
        errors[0].1
    );
    assert_eq!(rows.len(), 2);
}

#[test]
fn file_level_problems_are_errors_not_panics() {
    // A missing USUBJID column.
    let dir = temp_dir("no-usubjid");
    write(&dir, "tu.csv", TU);
    write(
        &dir,
        "tr.csv",
        &format!("{TR_HEADER}{TR_ROWS}").replace("USUBJID", "SUBJ"),
    );
    let e = sdtm::read_dir(dir.to_str().unwrap(), &Options::default()).unwrap_err();
    assert!(e.file.ends_with("tr.csv"));
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("USUBJID")));
    assert!(e.message.contains("TR has no column USUBJID"));

    // Not a transport file, an empty CSV, a ragged CSV, both tu.csv and tu.xpt, no folder.
    let dir = temp_dir("garbage");
    write(&dir, "tu.xpt", "this is not a SAS transport file");
    write(&dir, "tr.csv", "");
    let e = sdtm::read_dir(dir.to_str().unwrap(), &Options::default()).unwrap_err();
    assert!(
        e.file.ends_with("tu.xpt") && e.message.contains("not a SAS transport"),
        "{e}"
    );
    write(&dir, "tu.xpt", "");
    assert!(sdtm::read_dir(dir.to_str().unwrap(), &Options::default()).is_err());
    write(&dir, "tu.csv", TU);
    let e = sdtm::read_dir(dir.to_str().unwrap(), &Options::default()).unwrap_err();
    assert!(e.message.contains("2 files for tu"), "{e}");
    std::fs::remove_file(dir.join("tu.xpt")).unwrap();
    // A ragged row is the problem of its row (see ragged_rows_fail_only_their_subject); the
    // missing columns are the file's.
    write(&dir, "tr.csv", "USUBJID,TRLNKID\nA\n");
    let e = sdtm::read_dir(dir.to_str().unwrap(), &Options::default()).unwrap_err();
    assert!(e.message.contains("TR has no column TRTESTCD"), "{e}");
    assert!(sdtm::read_dir("/nonexistent/sdtm", &Options::default()).is_err());

    // A real transport file cut anywhere is an error, never a panic nor a shorter table.
    let full = temp_dir("truncated");
    write_xpt_set(&full, xpt::Version::V8);
    let bytes = std::fs::read(full.join("TU_ONCO_RECIST.XPT")).unwrap();
    let cut = full.join("cut.xpt");
    for n in (0..bytes.len()).step_by(97) {
        std::fs::write(&cut, &bytes[..n]).unwrap();
        assert!(Table::read(cut.to_str().unwrap()).is_err(), "cut at {n}");
    }
}

/// The small TR table as SAS transport bytes (written once per version; tests run in parallel).
fn small_xpt(version: xpt::Version) -> Vec<u8> {
    static BYTES: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
    let [v5, v8] = BYTES.get_or_init(|| {
        let dir = temp_dir("small-xpt");
        let t = Table::from_csv("tr.csv", format!("{TR_HEADER}{TR_ROWS}").as_bytes()).unwrap();
        let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
        [xpt::Version::V5, xpt::Version::V8].map(|v| {
            let path = dir.join(format!("{v:?}.xpt"));
            xpt::write(path.to_str().unwrap(), "TR", &t.columns, &rows, v, |n| {
                n.ends_with("STRESN")
            })
            .unwrap();
            std::fs::read(path).unwrap()
        })
    });
    match version {
        xpt::Version::V5 => v5.clone(),
        xpt::Version::V8 => v8.clone(),
    }
}

#[test]
fn every_cut_of_a_transport_file_is_an_error_that_says_where() {
    for version in [xpt::Version::V5, xpt::Version::V8] {
        let bytes = small_xpt(version);
        let whole = xpt::read_bytes(&bytes).unwrap();
        assert_eq!(whole.rows.len(), 15);
        let start = whole.layout.data_start as usize;
        let len = whole.layout.record_length as usize;
        for n in 0..bytes.len() {
            let r = xpt::read_bytes(&bytes[..n]);
            // v5 has no record count: a cut exactly where the records start leaves a valid,
            // empty dataset. Every other cut is an error.
            if version == xpt::Version::V5 && n == start {
                assert_eq!(r.map(|t| t.rows.len()).ok(), Some(0));
                continue;
            }
            let e = r
                .err()
                .unwrap_or_else(|| panic!("{version:?} cut at {n} reads"));
            if n > start && n < start + 15 * len && !(n - start).is_multiple_of(len) {
                let record = (n - start) / len + 1;
                assert!(
                    e.message.starts_with(&format!(
                        "record {record} is incomplete: it starts at byte {}",
                        start + (record - 1) * len
                    )),
                    "{version:?} cut at {n}: {}",
                    e.message
                );
            }
        }
    }
}

#[test]
fn transport_errors_name_record_and_byte() {
    let dir = temp_dir("xpt-located");
    write(&dir, "tu.csv", TU);
    // The small table with an unknown tumour state: the error is at its record and byte.
    let rows = TR_ROWS.replace(
        "NT01,TUMSTATE,PRESENT,,,,INVESTIGATOR,WEEK 12",
        "NT01,TUMSTATE,GONE,,,,INVESTIGATOR,WEEK 12",
    );
    let t = Table::from_csv("tr.csv", format!("{TR_HEADER}{rows}").as_bytes()).unwrap();
    let cells: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
    let path = dir.join("tr.xpt");
    xpt::write(
        path.to_str().unwrap(),
        "TR",
        &t.columns,
        &cells,
        xpt::Version::V8,
        |n| n.ends_with("STRESN"),
    )
    .unwrap();
    let layout = xpt::read(path.to_str().unwrap()).unwrap().layout;
    let s = read(dir.to_str().unwrap(), &Options::default());
    let (_, errors) = evaluate("recist-1.1", &s.cohort);
    assert_eq!(errors.len(), 1);
    let want = format!(
        "tr.xpt, record 12 (byte {}) (column TRSTRESC): unknown tumour state `GONE`",
        layout.offset(12)
    );
    assert!(errors[0].1.contains(&want), "{}", errors[0].1);
    assert_eq!(
        layout.offset(12),
        layout.data_start + 11 * layout.record_length
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// A transport file with bytes changed, removed or added reads to a table or an error:
    /// never a panic, never a hang.
    #[test]
    fn mutated_transport_files_never_panic(
        v8 in proptest::bool::ANY,
        flips in proptest::collection::vec((0usize..4000, proptest::num::u8::ANY), 0..6),
        cut in proptest::option::of(0usize..4000),
        insert in proptest::option::of((0usize..4000, proptest::collection::vec(proptest::num::u8::ANY, 1..100))),
    ) {
        let mut bytes = small_xpt(if v8 { xpt::Version::V8 } else { xpt::Version::V5 });
        for (at, b) in flips {
            if let Some(x) = bytes.get_mut(at) {
                *x = b;
            }
        }
        if let Some((at, more)) = insert {
            let at = at.min(bytes.len());
            bytes.splice(at..at, more);
        }
        if let Some(n) = cut {
            bytes.truncate(n);
        }
        let _ = xpt::read_bytes(&bytes);
    }
}

#[test]
fn reader_filter_and_missing_reader() {
    let s = sdtm::read_dir(
        DIR,
        &Options {
            reader: Some("RADIOLOGIST 3".into()),
            ..opts("onco_recist", None)
        },
    );
    let e = s.unwrap_err();
    assert!(e.message.contains("no rows of reader `RADIOLOGIST 3`"));
    assert_eq!(
        e.help.as_deref(),
        Some("the readers are: INVESTIGATOR, RADIOLOGIST 1, RADIOLOGIST 2")
    );
}

#[test]
fn dtc_parsing_and_imputation() {
    use sdtm::Dtc;
    let d = |s: &str, how| {
        Dtc::parse(s)
            .and_then(|x| x.impute(how))
            .map(|d| d.to_string())
    };
    assert_eq!(d("2014-02", Impute::First).as_deref(), Some("2014-02-01"));
    assert_eq!(d("2014-02", Impute::Middle).as_deref(), Some("2014-02-15"));
    assert_eq!(d("2014", Impute::First).as_deref(), Some("2014-01-01"));
    assert_eq!(d("2014", Impute::Middle).as_deref(), Some("2014-07-01"));
    assert_eq!(
        d("2014-02-03T10:20", Impute::Middle).as_deref(),
        Some("2014-02-03")
    );
    for bad in ["", "14-02", "2014-13", "2014-02-30", "soon", "2014-2"] {
        assert_eq!(Dtc::parse(bad), None, "{bad}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// A TR CSV with bytes changed (quotes, commas, line ends, non-UTF-8 bytes among them) reads
    /// without a panic, its line numbers never go back, and every subject named on a row read
    /// whole is in the cohort: with rows, or with an error.
    #[test]
    fn mutated_sdtm_csv_loses_no_subject(
        edits in proptest::collection::vec(
            (0usize..1200, proptest::sample::select(vec![b'"', b',', b'\n', b'\r', 0xE9, b'X', b'1'])),
            0..6,
        ),
    ) {
        let mut bytes = format!("{TR_HEADER}{TR_ROWS}").into_bytes();
        for (at, b) in edits {
            let at = at.min(bytes.len());
            bytes.insert(at, b);
        }
        let tu = Table::from_csv("tu.csv", TU.as_bytes()).unwrap();
        let Ok(tr) = Table::from_csv("tr.csv", &bytes) else { return Ok(()) };
        let lines: Vec<usize> = tr.rows.iter().map(|r| r.line).collect();
        proptest::prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
        let Ok(s) = sdtm::build(&tu, &tr, None, &Options::default()) else { return Ok(()) };
        let c = tr.col("USUBJID");
        for row in tr.rows.iter().filter(|r| r.problem.is_none()) {
            let Some(subject) = c.and_then(|c| row.cells.get(c)).filter(|s| !s.trim().is_empty()) else { continue };
            proptest::prop_assert!(
                s.cohort.subjects.iter().any(|x| x.subject == subject.trim()),
                "subject {subject} of line {} is missing", row.line
            );
        }
        let checked = check::load("recist-1.1").unwrap();
        if let Ok(binding) = bind::plan(&checked.ruleset, &s.cohort) {
            let eng = Engine::new(&checked.ruleset);
            let n = eval::each_subject(&eng, &binding, &s.cohort, |_, _| ()).len();
            proptest::prop_assert_eq!(n, s.cohort.subjects.len());
        }
    }
}

// Category names as the rulesets write them become CDISC terms by a general rule (kept here:
// category names stay out of src/).
#[test]
fn cdisc_terms_by_rule() {
    for (name, term) in [
        ("non-CR/non-PD", "NON-CR/NON-PD"),
        ("non-iCR/non-iUPD", "NON-iCR/NON-iUPD"),
        ("iUPD", "iUPD"),
        ("CR", "CR"),
        ("yes", "Y"),
        ("No", "N"),
        ("stable disease", "STABLE DISEASE"),
        ("", ""),
    ] {
        assert_eq!(crit::rs_domain::cdisc_term(name), term, "{name}");
    }
}
