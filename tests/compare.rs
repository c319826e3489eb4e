//! `crit compare`: statistics against hand computations, the text report (snapshot), the JSON
//! contract, the HTML report (well-formed, self-contained, every subject), and the CLI.

use std::process::Command;

use crit::compare::{self, report_html, report_text, stats, Outcome, Spec, SubjectRow};
use crit::data::table;
use time::macros::date;

const COHORT: &str = "examples/recist-cohort.csv";
const CRITERIA: [&str; 3] = [
    "recist-1.1",
    "recist-1.1[pd_increase=25%]",
    "recist-1.1[sd_min_interval=56 days]",
];

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn specs(list: &[&str]) -> Vec<Spec> {
    list.iter()
        .map(|s| compare::parse_spec(s).expect("valid spec"))
        .collect()
}

/// Parses a document as XML; the HTML report starts with `<!DOCTYPE html>`, so DTDs are allowed.
fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
}

fn example_report() -> compare::Report {
    let cohort = table::read_path(COHORT).expect("example cohort reads");
    compare::build(&specs(&CRITERIA), &cohort, false).expect("comparison builds")
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// 2×2 by hand:        B yes  B no
///             A yes     20     5    | 25
///             A no      10    15    | 25
///                       30    20      50
/// po = 35/50 = 0.70; pe = (25·30 + 25·20) / 50² = 1250/2500 = 0.50; kappa = 0.20/0.50 = 0.40.
/// se = sqrt(0.7·0.3 / (50·0.5²)) = sqrt(0.21/12.5) = sqrt(0.0168) = 0.129615;
/// CI = 0.40 ± 1.959964·0.129615 = 0.40 ± 0.254040 = [0.145960, 0.654040].
#[test]
fn kappa_two_by_two_by_hand() {
    let k = stats::cohen_kappa(&[vec![20, 5], vec![10, 15]]);
    assert_eq!(k.n, 50);
    assert!(close(k.po, 0.70, 1e-12));
    assert!(close(k.pe, 0.50, 1e-12));
    assert!(close(k.kappa.unwrap(), 0.40, 1e-12));
    assert!(close(k.se.unwrap(), 0.0168f64.sqrt(), 1e-12));
    let (lo, hi) = k.ci.unwrap();
    assert!(close(lo, 0.145960, 1e-6), "{lo}");
    assert!(close(hi, 0.654040, 1e-6), "{hi}");
}

/// 3×3 by hand:          B1  B2  B3 | rows
///                 A1    10   2   0 |  12
///                 A2     1   8   1 |  10
///                 A3     0   2   6 |   8
///                 cols  11  12   7 |  30
/// po = 24/30 = 0.8; pe = (12·11 + 10·12 + 8·7) / 900 = 308/900 = 0.342222;
/// kappa = (0.8 - 0.342222) / (1 - 0.342222) = (720 - 308) / (900 - 308) = 412/592 = 0.695946.
/// se = sqrt(0.8·0.2 / (30 · (592/900)²)) = sqrt(0.16 / 12.980160) = 0.111025;
/// CI = 0.695946 ± 1.959964·0.111025 = [0.478341, 0.913551].
#[test]
fn kappa_three_by_three_by_hand() {
    let k = stats::cohen_kappa(&[vec![10, 2, 0], vec![1, 8, 1], vec![0, 2, 6]]);
    assert_eq!(k.n, 30);
    assert!(close(k.po, 0.8, 1e-12));
    assert!(close(k.pe, 308.0 / 900.0, 1e-12));
    assert!(close(k.kappa.unwrap(), 412.0 / 592.0, 1e-12));
    assert!(close(k.se.unwrap(), 0.111025, 1e-6));
    let (lo, hi) = k.ci.unwrap();
    assert!(close(lo, 0.478341, 1e-6), "{lo}");
    assert!(close(hi, 0.913551, 1e-6), "{hi}");
}

#[test]
fn kappa_degenerate_tables() {
    // Perfect agreement: kappa 1, interval the single point 1.
    let k = stats::cohen_kappa(&[vec![3, 0], vec![0, 5]]);
    assert_eq!(k.kappa, Some(1.0));
    assert_eq!(k.ci, Some((1.0, 1.0)));
    // Everyone in one category under both: kappa undefined, not NaN.
    let k = stats::cohen_kappa(&[vec![8, 0], vec![0, 0]]);
    assert_eq!(k.kappa, None);
    assert_eq!(k.ci, None);
    // No subjects.
    let k = stats::cohen_kappa(&[]);
    assert_eq!((k.n, k.kappa), (0, None));
}

/// b = 1, c = 6: n = 7, P(X <= 1) = (1 + 7) / 2^7 = 0.0625, p = 0.125.
#[test]
fn mcnemar_exact_by_hand() {
    assert!(close(stats::mcnemar_exact(1, 6), 0.125, 1e-12));
    assert!(close(stats::mcnemar_exact(6, 1), 0.125, 1e-12));
    // b = 0, c = 5: 2 · (1/32) = 0.0625.
    assert!(close(stats::mcnemar_exact(0, 5), 0.0625, 1e-12));
    // b = c = 3: 2 · P(X <= 3 | n = 6) = 2 · 42/64 > 1, so 1.
    assert_eq!(stats::mcnemar_exact(3, 3), 1.0);
    // No discordant pairs.
    assert_eq!(stats::mcnemar_exact(0, 0), 1.0);
}

#[test]
fn clopper_pearson_known_values() {
    let (lo, hi) = stats::clopper_pearson(3, 10, 0.95).unwrap();
    assert!(close(lo, 0.0667, 5e-5), "{lo}");
    assert!(close(hi, 0.6525, 5e-5), "{hi}");
    // x = 0: lower bound 0, upper 1 - 0.025^(1/10) = 0.308497.
    let (lo, hi) = stats::clopper_pearson(0, 10, 0.95).unwrap();
    assert_eq!(lo, 0.0);
    assert!(close(hi, 1.0 - 0.025f64.powf(0.1), 1e-6), "{hi}");
    // x = n: mirror image.
    let (lo, hi) = stats::clopper_pearson(10, 10, 0.95).unwrap();
    assert!(close(lo, 0.025f64.powf(0.1), 1e-6), "{lo}");
    assert_eq!(hi, 1.0);
    assert_eq!(stats::clopper_pearson(0, 0, 0.95), None);
    assert_eq!(stats::clopper_pearson(3, 2, 0.95), None);
}

// ---------------------------------------------------------------------------------------------
// Criteria on the command line
// ---------------------------------------------------------------------------------------------

#[test]
fn specs_with_overrides() {
    let s = compare::parse_spec("recist-1.1[pd_increase=25%, pd_min_increase=0mm]").unwrap();
    assert_eq!(s.id, "recist-1.1");
    assert_eq!(s.label, "recist-1.1[pd_increase=25%, pd_min_increase=0mm]");
    assert_eq!(s.overrides, vec!["pd_increase=25%", "pd_min_increase=0mm"]);
    let s = compare::parse_spec("criteria/my draft.crit").unwrap();
    assert_eq!(
        (s.id.as_str(), s.overrides.len()),
        ("criteria/my draft.crit", 0)
    );
    assert!(compare::parse_spec("recist-1.1[pd_increase=25%").is_err());
    assert!(compare::parse_spec("recist-1.1[pd_increase]").is_err());
    assert!(compare::parse_spec("[a=1]").is_err());
    assert!(compare::parse_spec("").is_err());
}

// ---------------------------------------------------------------------------------------------
// The example cohort
// ---------------------------------------------------------------------------------------------

#[test]
fn text_report_on_the_example_cohort() {
    let r = example_report();
    insta::assert_snapshot!("text_report", report_text::render(&r));
}

#[test]
fn example_statistics() {
    let r = example_report();
    assert_eq!(r.subjects.len(), 8);
    assert_eq!(r.included().count(), 8);
    // P04: SD at week 6 (42 days) then +20 % over the nadir at week 12. With 25 % the
    // progression goes away; with SD needing 56 days the best response becomes PD.
    let p04 = r.subjects.iter().find(|s| s.subject == "P04").unwrap();
    let best: Vec<_> = (0..3)
        .map(|i| p04.outcome(i).unwrap().best.clone().unwrap())
        .collect();
    assert_eq!(best[0], best[1]);
    assert_ne!(
        p04.outcome(0).unwrap().best_class,
        p04.outcome(2).unwrap().best_class
    );
    assert_eq!(
        p04.outcome(0)
            .unwrap()
            .first_progression
            .as_ref()
            .map(|p| p.1),
        Some(date!(2024 - 05 - 27))
    );
    assert_eq!(p04.outcome(1).unwrap().first_progression, None);
    assert!(p04.differs());
    // Reclassified relative to the first criterion.
    assert_eq!(
        r.rates.iter().map(|x| x.reclassified).collect::<Vec<_>>(),
        vec![None, Some(0), Some(1)]
    );
    // A vs C: 7 of 8 agree.
    let ac = r.pairs.iter().find(|p| (p.a, p.b) == (0, 2)).unwrap();
    assert_eq!(ac.n(), 8);
    assert!(close(ac.agreement().unwrap(), 7.0 / 8.0, 1e-12));
    // Best change of the sum: P02 has 33 + 16 (node, short axis) = 49 mm at baseline and
    // 0 + 7 = 7 mm at week 16: (7 - 49) / 49 = -85.71 %.
    let p02 = r
        .subjects
        .iter()
        .find(|s| s.subject == "P02")
        .unwrap()
        .outcome(0)
        .unwrap();
    assert!(
        close(p02.best_change.unwrap(), -42.0 / 49.0 * 100.0, 1e-9),
        "{:?}",
        p02.best_change
    );
}

#[test]
fn json_contract_keys() {
    let r = example_report();
    let v = compare::to_json(&r);
    let crit = &v["criteria"][1];
    assert_eq!(crit["label"], "recist-1.1[pd_increase=25%]");
    assert_eq!(crit["id"], "recist-1.1");
    assert_eq!(crit["params"]["pd_increase"], "25 %");
    assert_eq!(v["criteria"][0]["params"], serde_json::json!({}));
    assert_eq!(v["criteria"][2]["params"]["sd_min_interval"], "56 days");
    let s = &v["subjects"][3];
    assert_eq!(s["subject"], "P04");
    assert_eq!(s["reader"], "CENTRAL");
    for label in CRITERIA {
        assert!(s["best"][label].is_string(), "best[{label}]");
    }
    assert_eq!(s["first_progression"]["recist-1.1"], "2024-05-27");
    assert!(s["first_progression"]["recist-1.1[pd_increase=25%]"].is_null());
    assert_eq!(s["differs"], true);
    let p = &v["pairs"][0];
    for key in [
        "a",
        "b",
        "n",
        "agreement",
        "kappa",
        "kappa_ci",
        "crosstab",
        "mcnemar_p",
    ] {
        assert!(!p[key].is_null(), "pairs[0].{key}");
    }
    assert_eq!(p["kappa_ci"].as_array().map(|a| a.len()), Some(2));
    for label in CRITERIA {
        for rate in ["orr", "dcr"] {
            assert!(
                v["rates"][label][rate]["value"].is_number(),
                "rates[{label}].{rate}.value"
            );
            assert_eq!(
                v["rates"][label][rate]["ci"].as_array().map(|a| a.len()),
                Some(2)
            );
        }
    }
    assert_eq!(v["rates"]["recist-1.1"]["orr"]["value"], 0.5);
}

#[test]
fn html_report_is_well_formed_self_contained_and_complete() {
    let r = example_report();
    let html = report_html::render(&r);
    let doc = parse_xml(&html).expect("the HTML report is well-formed XML");
    let svgs: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg"))
        .collect();
    // forest, 3 heatmaps, 2 Sankey, 1 waterfall (three variants of one sum), 3 spiders, 1
    // swimmer, 1 PFS Kaplan–Meier.
    assert_eq!(svgs.len(), 12);
    for svg in &svgs {
        assert_eq!(
            svg.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        // Each one stands on its own as an SVG document.
        let text = &html[svg.range()];
        roxmltree::Document::parse(text).expect("every <svg> is well-formed on its own");
        assert!(svg.attribute("width").is_some() && svg.attribute("height").is_some());
    }
    for tag in ["script", "link", "img", "iframe"] {
        assert!(
            !doc.descendants().any(|n| n.has_tag_name(tag)),
            "no <{tag}>"
        );
    }
    assert!(!html.contains("url("), "no external resources in CSS");
    let text: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    for s in &r.subjects {
        assert!(
            text.contains(&s.subject),
            "subject {} is in the report",
            s.subject
        );
    }
    for c in CRITERIA {
        assert!(text.contains(c), "criterion {c} is in the report");
    }
}

#[test]
fn csv_has_one_row_per_subject() {
    let r = example_report();
    let csv = compare::to_csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 8);
    assert!(lines[0].starts_with("subject,reader,best:recist-1.1,"));
    assert!(lines[0].ends_with(",differs"));
    assert_eq!(lines[4], "P04,CENTRAL,SD,SD,PD,2024-05-27,,2024-05-27,true");
}

// ---------------------------------------------------------------------------------------------
// Classes, custom classes and excluded subjects (no ruleset needed)
// ---------------------------------------------------------------------------------------------

fn outcome(best: &str, class: &str) -> Outcome {
    let (response, control) = crit::check::ir::counts_of_class(Some(class));
    Outcome {
        best: Some(best.into()),
        best_class: class.into(),
        best_response: response,
        best_control: control,
        baseline_visit: "BASELINE".into(),
        baseline_date: date!(2024 - 01 - 01),
        start: date!(2024 - 01 - 01),
        timepoints: vec![],
        first_progression: None,
        best_change: None,
        explanation: None,
        progression: None,
        landmark: None,
    }
}

fn criterion(label: &str) -> compare::CriterionInfo {
    compare::CriterionInfo {
        label: label.into(),
        id: label.into(),
        title: label.into(),
        params: vec![],
        all_params: vec![],
        has_sum: false,
        charted: None,
        lines: vec![],
        classes: vec![],
    }
}

#[test]
fn custom_classes_and_excluded_subjects() {
    let row = |id: &str, a: Result<Outcome, String>, b: Result<Outcome, String>| SubjectRow {
        subject: id.into(),
        reader: None,
        per: vec![a, b],
        divergences: vec![],
    };
    let subjects = vec![
        row(
            "S1",
            Ok(outcome("X1", "progressive")),
            Ok(outcome("Y1", "dissociated")),
        ),
        row(
            "S2",
            Ok(outcome("X2", "partial")),
            Ok(outcome("Y2", "partial")),
        ),
        row(
            "S3",
            Ok(outcome("X3", "stable")),
            Ok(outcome("Y3", "stable")),
        ),
        row("S4", Ok(outcome("X2", "partial")), Err("bad row".into())),
        row(
            "S5",
            Ok(outcome("X4", "complete")),
            Ok(outcome("Y4", "complete")),
        ),
    ];
    let r = compare::summarize(
        "mem".into(),
        vec![criterion("first"), criterion("second")],
        subjects,
        vec![],
    );
    // The subject with a data error is excluded from every statistic and listed.
    assert_eq!(
        r.excluded().map(|s| s.subject.as_str()).collect::<Vec<_>>(),
        vec!["S4"]
    );
    assert_eq!(r.pairs[0].n(), 4);
    assert_eq!(r.rates[0].orr.n, 4);
    // Custom classes follow the standard ones.
    assert_eq!(
        r.classes,
        vec![
            "complete",
            "partial",
            "stable",
            "progressive",
            "dissociated"
        ]
    );
    // DCR counts complete + partial + stable only: the dissociated response does not count.
    assert_eq!((r.rates[1].orr.count, r.rates[1].dcr.count), (2, 3));
    assert_eq!((r.rates[0].orr.count, r.rates[0].dcr.count), (2, 3));
    assert_eq!(r.rates[1].reclassified, Some(1));
    // Responders: S2, S5 under both; none discordant.
    assert_eq!(r.pairs[0].responders, [[2, 0], [0, 2]]);
    let text = report_text::render(&r);
    assert!(text.contains("S4 under B: bad row"), "{text}");
    let html = report_html::render(&r);
    parse_xml(&html).expect("well-formed with excluded subjects and custom classes");
    assert!(html.contains("S4"));
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

fn crit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crit"))
        .args(args)
        .output()
        .expect("crit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_compare_formats() {
    let base = [
        "compare",
        COHORT,
        "--criteria",
        CRITERIA[0],
        "--criteria",
        CRITERIA[2],
    ];
    let (code, out, err) = crit(&[&base[..], &["--format", "csv"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 9);
    let (code, out, _) = crit(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["pairs"].as_array().map(|a| a.len()), Some(1));
    let (code, out, _) = crit(&[&base[..], &["--subject", "P04"]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("WEEK 12"), "{out}");
    assert!(out.contains("best-response classes differ"), "{out}");
    assert!(out.contains("RECIST 1.1 — subject P04"), "{out}");
}

#[test]
fn cli_compare_writes_html_to_a_file() {
    let path = std::env::temp_dir().join(format!("crit-compare-{}.html", std::process::id()));
    let p = path.to_string_lossy().into_owned();
    let (code, out, err) = crit(&[
        "compare",
        COHORT,
        "-c",
        CRITERIA[0],
        "-c",
        CRITERIA[1],
        "--format",
        "html",
        "--output",
        &p,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let html = std::fs::read_to_string(&path).expect("report written");
    let _ = std::fs::remove_file(&path);
    parse_xml(&html).expect("well-formed");
}

#[test]
fn cli_compare_usage_errors() {
    let (code, _, err) = crit(&["compare", COHORT, "--criteria", "recist-1.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at least two"), "{err}");
    let (code, _, err) = crit(&[
        "compare",
        COHORT,
        "-c",
        "recist-1.1",
        "-c",
        "recist-1.1[pd_increse=25%]",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pd_increase"), "did you mean: {err}");
    let (code, _, err) = crit(&["compare", COHORT, "-c", "recist-1.1", "-c", "recist-1.1"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = crit(&[
        "compare",
        COHORT,
        "-c",
        "recist-1.1",
        "-c",
        "recist-1.1[pd_increase=25%]",
        "--subject",
        "P99",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("P99"), "{err}");
}

#[test]
fn cli_compare_excludes_subjects_with_data_errors() {
    let text = std::fs::read_to_string(COHORT).unwrap();
    // A negative diameter for P03 at baseline: P03 gets a data error, the others are evaluated.
    let bad = text.replacen(
        "P03,CENTRAL,BASELINE,2024-01-15,T01,target,lung,,30,,",
        "P03,CENTRAL,BASELINE,2024-01-15,T01,target,lung,,-30,,",
        1,
    );
    assert_ne!(bad, text);
    let path = std::env::temp_dir().join(format!("crit-compare-bad-{}.csv", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let p = path.to_string_lossy().into_owned();
    let (code, out, err) = crit(&[
        "compare",
        &p,
        "-c",
        CRITERIA[0],
        "-c",
        CRITERIA[1],
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("P03"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON still written");
    assert_eq!(v["subjects"].as_array().map(|a| a.len()), Some(8));
    assert_eq!(v["pairs"][0]["n"], 7);
    assert_eq!(v["excluded"][0]["subject"], "P03");
    assert!(v["subjects"][2]["error"].is_object());
}

#[test]
fn cohort_with_a_second_reader_and_a_subject_without_follow_up() {
    let mut text = std::fs::read_to_string(COHORT).unwrap();
    // A second reader for P01, and P09 with a baseline only.
    let p01: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("P01,CENTRAL,"))
        .map(|l| l.replacen("P01,CENTRAL,", "P01,LOCAL,", 1))
        .collect();
    for l in p01 {
        text.push_str(&l);
        text.push('\n');
    }
    text.push_str("P09,CENTRAL,BASELINE,2024-02-05,T01,target,liver,,30,,\n");
    let path = std::env::temp_dir().join(format!("crit-compare-edge-{}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let cohort = table::read_path(&path.to_string_lossy()).expect("reads");
    let _ = std::fs::remove_file(&path);
    let r = compare::build(&specs(&CRITERIA[..2]), &cohort, false).expect("builds");
    assert_eq!(r.subjects.len(), 10);
    assert!(r.several_readers);
    // A baseline only: no follow-up, best response not evaluable; the subject stays in the
    // denominators as a non-responder.
    let p09 = r.subjects.iter().find(|s| s.subject == "P09").unwrap();
    let o = p09.outcome(0).unwrap();
    assert!(o.timepoints.is_empty());
    assert_eq!(&*o.best_class, "not-evaluable");
    assert_eq!(r.rates[0].orr.n, 10);
    assert_eq!(r.rates[0].orr.count, 5, "P01 counts once per reader");
    let html = report_html::render(&r);
    let doc = parse_xml(&html).expect("well-formed");
    let text: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert!(
        text.contains("P01 (LOCAL)"),
        "charts name the reader when there are several"
    );
    assert!(text.contains("P09"));
    let txt = report_text::render(&r);
    assert!(txt.contains("not-evaluable"), "{txt}");
}

// ---------------------------------------------------------------------------------------------
// The criteria library on one cohort
// ---------------------------------------------------------------------------------------------

/// Has every column the shipped rulesets read (see the README's table of criteria).
const LIBRARY: &str = "examples/library-cohort.csv";

/// Every shipped ruleset runs on the library cohort: every input has its column, each subject is
/// evaluated under all of them without a data error, and the subjects built to set the criteria
/// apart (described in the README, "Shipped rulesets") get the best responses their papers give.
#[test]
fn library_cohort_runs_every_shipped_ruleset() {
    let ids: Vec<&str> = crit::registry::shipped()
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(ids.len(), 19, "{ids:?}");
    // The cohort has a column for every input of every ruleset, and no measurement that none reads.
    let header = std::fs::read_to_string(LIBRARY).expect("library cohort");
    let columns: Vec<&str> = header
        .lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(|c| c.split('[').next().unwrap_or(c))
        .collect();
    let mut inputs = vec![];
    for id in &ids {
        let checked = crit::check::load(id).unwrap_or_else(|_| panic!("{id} checks"));
        for input in &checked.ruleset.inputs {
            assert!(
                columns.contains(&input.name.as_str()),
                "{id} reads {}",
                input.name
            );
            inputs.push(input.name.clone());
        }
    }
    let lesion_fields = [
        "subject", "visit", "date", "lesion", "role", "organ", "nodal", "status",
    ];
    for c in columns.iter().filter(|c| !lesion_fields.contains(c)) {
        assert!(inputs.iter().any(|i| i == c), "no ruleset reads {c}");
    }

    let cohort = table::read_path(LIBRARY).expect("library cohort reads");
    let r = compare::build(&specs(&ids), &cohort, false).expect("comparison builds");
    assert_eq!(r.subjects.len(), 10);
    for s in &r.subjects {
        assert!(s.included(), "{}: {:?}", s.subject, s.per);
    }
    let best = |subject: &str, id: &str| -> String {
        let i = ids.iter().position(|x| *x == id).expect("shipped id");
        let row = r
            .subjects
            .iter()
            .find(|s| s.subject == subject)
            .expect("subject");
        row.outcome(i)
            .and_then(|o| o.best.as_deref())
            .unwrap_or_default()
            .to_string()
    };
    let expected: [(&str, &str, &str); 24] = [
        // R01 shrinks everywhere: products 1800 -> 312 mm² (-83 %), SULpeak 8.0 -> 1.8 (below
        // the liver's 2.0), Deauville 5 -> 2.
        ("R01", "recist-1.1", "PR"),
        ("R01", "who", "PR"),
        ("R01", "percist-1.0", "CMR"),
        ("R01", "lugano-pet", "CMR"),
        // P02 grows 20 % with a new lesion at week 8, then shrinks: RECIST 1.1 stops at PD; the
        // immune criteria do not confirm it and keep the response that follows.
        ("P02", "recist-1.1", "PD"),
        ("P02", "irecist", "iPR"),
        ("P02", "irrc", "irPR"),
        ("P02", "irrecist", "irPR"),
        ("P02", "imrecist", "PR"),
        // One new lesion is not progression under PERCIMT (four are), the PET criteria's PMD.
        ("P02", "percimt", "SMD"),
        ("P02", "percist-1.0", "PMD"),
        // D03: one target -50 %, the other +50 %: dissociated; Lugano CT judges the growing
        // lesion alone (PD), RECIST 1.1 the sum (-21 %: SD), Choi the size (-21 %: PR).
        ("D03", "dr-recist", "DR"),
        ("D03", "recist-1.1", "SD"),
        ("D03", "lugano-ct", "PD"),
        ("D03", "choi", "PR"),
        // H04: the same size, the viable tumour gone: mRECIST CR, RECIST 1.1 SD.
        ("H04", "mrecist", "CR"),
        ("H04", "recist-1.1", "SD"),
        // G05: mean density 75 -> 55 HU (-27 %), size +4 % then +12 %: Choi PR, RECIST 1.1 SD.
        ("G05", "choi", "PR"),
        ("G05", "recist-1.1", "SD"),
        // N06: two new bone lesions on the first reassessment, two more 8 weeks later (2+2).
        ("N06", "pcwg3-bone", "PD"),
        ("N06", "irecist", "iCPD"),
        // L07: nodes back to normal, an enlarged spleen back to 12 cm: CR; WHO's products of
        // nodes never reach 0 (PR).
        ("L07", "lugano-ct", "CR"),
        ("L07", "who", "PR"),
        // B08: products -60 % on a lower corticosteroid dose, clinically improved, sustained 8 weeks.
        ("B08", "rano", "PR"),
    ];
    for (subject, id, want) in expected {
        assert_eq!(best(subject, id), want, "{subject} under {id}");
    }
    // M10: new FDG-avid marrow disease at week 16 is progression under Lugano PET only.
    assert_eq!(best("M10", "lugano-pet"), "PMD");
    assert_eq!(best("M10", "recist-1.1"), "PR");

    // The command line runs the same comparison.
    let mut args = vec!["compare", LIBRARY, "--format", "json"];
    for id in &ids {
        args.extend(["--criteria", id]);
    }
    let (code, out, err) = crit(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["criteria"].as_array().map(|a| a.len()), Some(19));
    assert_eq!(v["pairs"].as_array().map(|a| a.len()), Some(19 * 18 / 2));
}

// ---------------------------------------------------------------------------------------------
// What a category counts as in ORR and DCR
// ---------------------------------------------------------------------------------------------

/// WE-DR1's target lesions: A 40 -> 24 (-40 %), B 20 -> 26 (+30 %), C 30 -> 30: RECIST 1.1 SD,
/// dr-recist DR. DR has its own class (`dissociated`) but its category says `counts as disease
/// control`, so DCR is the same under both criteria and ORR counts neither.
#[test]
fn category_flags_decide_orr_and_dcr_not_the_class() {
    let csv = "subject,visit,date,lesion,role,long_axis\n\
               P1,BL,2020-01-01,A,target,40\nP1,BL,2020-01-01,B,target,20\nP1,BL,2020-01-01,C,target,30\n\
               P1,W8,2020-02-26,A,target,24\nP1,W8,2020-02-26,B,target,26\nP1,W8,2020-02-26,C,target,30\n";
    let cohort = table::read_csv("dr.csv", csv).unwrap();
    let r = compare::build(&specs(&["recist-1.1", "dr-recist"]), &cohort, false).unwrap();
    let o = r.subjects[0].outcome(1).unwrap();
    assert_eq!(o.best.as_deref(), Some("DR"));
    assert_eq!(&*o.best_class, "dissociated");
    assert!(o.best_control && !o.best_response);
    assert_eq!(
        r.subjects[0].outcome(0).unwrap().best.as_deref(),
        Some("SD")
    );
    assert_eq!((r.rates[0].orr.count, r.rates[0].dcr.count), (0, 1));
    assert_eq!((r.rates[1].orr.count, r.rates[1].dcr.count), (0, 1));
}

/// A category's `counts as ...` replaces its class's default.
#[test]
fn counts_clause_is_parsed_and_overrides_the_class() {
    let src = "criteria x \"X\" extends recist-1.1\n\
               categories\n  \
               MR  partial  \"minor response\"  counts as disease control\n  \
               XR  \"both\" counts as response and disease control\n  \
               ZR  complete counts as nothing\n";
    let c = crit::check::check_text("x.crit", src)
        .unwrap_or_else(|d| panic!("{}", crit::diag::render_plain(&d)));
    let cat = |n: &str| c.ruleset.categories[c.ruleset.category_id(n).unwrap()].clone();
    assert_eq!((cat("MR").response, cat("MR").control), (false, true));
    assert_eq!((cat("XR").response, cat("XR").control), (true, true));
    assert_eq!((cat("ZR").response, cat("ZR").control), (false, false));
    assert_eq!((cat("PR").response, cat("PR").control), (true, true));
    assert_eq!((cat("SD").response, cat("SD").control), (false, true));
    assert_eq!((cat("PD").response, cat("PD").control), (false, false));
}

/// Criteria that read the same inputs from the same columns bind a subject once (compare shares
/// the bound subject); criteria that read other inputs do not.
#[test]
fn bindings_are_shared_only_between_criteria_that_bind_alike() {
    use crit::data::bind;
    let cohort = table::read_path("examples/pet-cohort.csv").expect("PET cohort reads");
    let load = |id: &str| crit::check::load(id).unwrap_or_else(|_| panic!("{id} loads"));
    let (recist, irecist, percist) = (load("recist-1.1"), load("irecist"), load("percist-1.0"));
    let plan = |c: &crit::check::Checked| bind::plan(&c.ruleset, &cohort).expect("columns found");
    let (br, bi, bp) = (plan(&recist), plan(&irecist), plan(&percist));
    assert!(br.same_as(&recist.ruleset, &bi, &irecist.ruleset));
    assert!(bi.same_as(&irecist.ruleset, &br, &recist.ruleset));
    assert!(!br.same_as(&recist.ruleset, &bp, &percist.ruleset));
    // Shared or not, every subject binds to the same assessments under both.
    for raw in &cohort.subjects {
        let a = bind::bind(&recist.ruleset, &br, &cohort.file, raw).expect("binds");
        let b = bind::bind(&irecist.ruleset, &bi, &cohort.file, raw).expect("binds");
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", raw.subject);
    }
}
