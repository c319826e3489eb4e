//! PFS and landmark OS in `crit compare`, on the example immunotherapy cohort.

use std::process::Command;

fn crit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crit"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const COHORT: &str = "examples/immunotherapy-cohort.csv";
const OUTCOMES: &str = "examples/immunotherapy-outcomes.csv";

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = crit(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn pfs_dates_follow_each_rulesets_progression_event() {
    let v = json(&[
        "compare",
        COHORT,
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--format",
        "json",
    ]);
    let pfs = &v["pfs"];
    // RECIST 1.1: PD at P03 (wk16), P04 (wk12), P07 (wk8), P09 (wk8). iRECIST: none of these
    // iUPDs is confirmed (P09's is reset by iPR; the others are pending at the last scan).
    assert_eq!(pfs["criteria"]["recist-1.1"]["events"], 4);
    assert_eq!(pfs["criteria"]["irecist"]["events"], 0);
    assert_eq!(pfs["criteria"]["irecist"]["censored"], 10);
    let pair = &pfs["pairs"][0];
    assert_eq!(
        pair["only_a"],
        serde_json::json!(["P03", "P04", "P07", "P09"])
    );
    assert_eq!(pair["only_b"], serde_json::json!([]));
    assert_eq!(pfs["conf_type"], "log");
    // The old first-progression column is the event date: P09 under iRECIST has none.
    let p09 = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "P09")
        .unwrap();
    assert_eq!(p09["first_progression"]["recist-1.1"], "2024-04-01");
    assert!(p09["first_progression"]["irecist"].is_null());
}

#[test]
fn landmark_os_by_category_with_outcomes() {
    let v = json(&[
        "compare",
        COHORT,
        "--criteria",
        "recist-1.1",
        "--criteria",
        "dr-recist",
        "--outcomes",
        OUTCOMES,
        "--landmark",
        "12w",
        "--format",
        "json",
    ]);
    let os = &v["os"];
    assert_eq!(os["landmark_days"], 84);
    assert_eq!(os["ties"], "Efron");
    let dr = &os["criteria"]["dr-recist"];
    assert_eq!(dr["before_landmark"], 0);
    assert_eq!(dr["reference"], "PD");
    let cats: Vec<&str> = dr["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    // In the ruleset's ranking order; P10's dissociated response is a category of its own.
    assert!(cats.contains(&"DR"), "{cats:?}");
    let n: u64 = dr["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["n"].as_u64().unwrap())
        .sum();
    assert_eq!(n, 10);
    assert!(dr["concordance"].as_f64().is_some());
    assert!(dr["logrank"]["p"].as_f64().is_some());
}

#[test]
fn html_report_draws_the_pfs_and_os_curves() {
    let (code, out, err) = crit(&[
        "compare",
        COHORT,
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--outcomes",
        OUTCOMES,
        "--format",
        "html",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<h2>Progression-free survival</h2>"));
    assert!(out.contains("Number at risk"));
    assert!(out.contains("Overall survival by response at the 84-day landmark"));
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(&out, opts).expect("well-formed");
}

#[test]
fn bad_outcomes_and_landmarks_are_reported() {
    let (code, _, err) = crit(&[
        "compare",
        COHORT,
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--outcomes",
        OUTCOMES,
        "--landmark",
        "soon",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--landmark soon"), "{err}");
    let dir = std::env::temp_dir().join(format!("crit-outcomes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "subject,os_days,death\nP01,abc,1\nP02,100,2\n").unwrap();
    let (code, _, err) = crit(&[
        "compare",
        COHORT,
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--outcomes",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains(":2: os_days `abc`"), "{err}");
    assert!(err.contains(":3: death is `2`"), "{err}");
}

#[test]
fn irecist_eval_json_censors_p09_at_its_last_adequate_scan() {
    // The command of issue 15: P09's iUPD at WEEK 8 is reset by the iPR at WEEK 16, so iRECIST
    // has no progression; P09 is censored at its last adequate (not NE) assessment.
    let v = json(&["eval", "--criteria", "irecist", COHORT, "--format", "json"]);
    let p09 = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "P09")
        .unwrap();
    let last = p09["timepoints"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let e = &p09["events"]["progression"];
    assert_eq!(e["censored"], true);
    assert_eq!(e["date"], last["date"]);
    assert_eq!(e["visit"], "WEEK 16");
    assert!(e["reason"]
        .as_str()
        .unwrap()
        .contains("censored at the last adequate assessment"));
    // Under RECIST 1.1 the same WEEK 8 scan is the progression.
    let v = json(&[
        "eval",
        "--criteria",
        "recist-1.1",
        COHORT,
        "--format",
        "json",
    ]);
    let p09 = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "P09")
        .unwrap();
    assert_eq!(p09["events"]["progression"]["censored"], false);
    assert_eq!(p09["events"]["progression"]["visit"], "WEEK 8");
}

#[test]
fn ci_transform_is_a_choice_and_is_said() {
    let args = |ci: &'static str| {
        [
            "compare",
            COHORT,
            "--criteria",
            "recist-1.1",
            "--criteria",
            "irecist",
            "--outcomes",
            OUTCOMES,
            "--ci",
            ci,
        ]
    };
    let (code, out, err) = crit(&args("log-log"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("log-log transform"), "{out}");
    let (_, out, _) = crit(&args("log"));
    assert!(out.contains(", log transform"), "{out}");
    let mut a = args("log-log").to_vec();
    a.extend(["--format", "json"]);
    let v = json(&a);
    assert_eq!(v["pfs"]["conf_type"], "log-log");
    assert_eq!(v["os"]["conf_type"], "log-log");
}
