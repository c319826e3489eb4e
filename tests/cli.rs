//! The command line as users and scripts see it: exit codes, streams, and the JSON contract.

mod common;
use common::crit;

fn write_temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("crit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into()
}

#[test]
fn check_shipped_rulesets_is_clean() {
    let (code, _, err) = crit(&["check", "recist-1.1", "criteria/recist-1.1.crit"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("recist-1.1: ok"));
    // `crit check criteria/*.crit`: every shipped file, without an error or a warning.
    let mut files: Vec<String> = std::fs::read_dir("criteria")
        .expect("criteria/")
        .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".crit"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 19, "{files:?}");
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, _, err) = crit(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.lines().count(), 19, "{err}");
    for f in &files {
        assert!(err.contains(&format!("{f}: ok")), "{f}: {err}");
    }
}

#[test]
fn check_reports_a_missing_table_row_and_exits_1() {
    let src = "criteria t \"T\"\ncategories\n  A complete\n  B stable\n  yes\n  no\nresponse r\n  yes when true\n  no otherwise\ntable overall(r)\n  | yes | => A |\nbest response\n  rank A > B\n";
    let path = write_temp("incomplete.crit", src);
    let (code, out, err) = crit(&["check", &path]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "diagnostics go to stderr");
    assert!(
        err.contains("table `overall` has no row for 1 combination"),
        "{err}"
    );
    assert!(
        err.contains("| no | => ? |"),
        "names the missing combination: {err}"
    );
}

#[test]
fn eval_json_follows_the_contract() {
    let (code, out, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["criteria"]["id"], "recist-1.1");
    assert_eq!(v["criteria"]["name"], "RECIST 1.1");
    assert_eq!(v["criteria"]["params"]["pd_increase"], "20 %");
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 8);
    let p04 = subjects.iter().find(|s| s["subject"] == "P04").unwrap();
    assert_eq!(p04["reader"], "CENTRAL");
    assert_eq!(p04["best_response"], "SD");
    assert!(p04["error"].is_null());
    let tp = &p04["timepoints"][1];
    assert_eq!(tp["visit"], "WEEK 12");
    assert_eq!(tp["date"], "2024-05-27");
    assert_eq!(tp["response"], "PD");
    assert_eq!(tp["responses"]["target"], "PD");
    assert_eq!(tp["responses"]["non_target"], "NA");
    assert_eq!(tp["responses"]["new_lesions"], "no");
}

#[test]
fn eval_csv_has_one_row_per_timepoint() {
    let (code, out, _) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("subject,reader,visit,date,response,target,non_target,new_lesions,overall,best_response,error")
    );
    assert_eq!(
        lines.next(),
        Some("P01,CENTRAL,WEEK 8,2024-03-04,PR,PR,non-CR/non-PD,no,PR,PR,")
    );
    assert_eq!(lines.count(), 14);
}

#[test]
fn eval_csv_keeps_subjects_with_data_errors_and_without_follow_up() {
    let data = "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,10\nA,FU,2020-02-26,T1,target,4x\nB,BL,2020-01-01,T1,target,10\nB,FU,2020-02-26,T1,target,6\nC,BL,2020-01-01,T1,target,10\n";
    let path = write_temp("csv-errors.csv", data);
    let (code, out, err) = crit(&["eval", "--criteria", "recist-1.1", &path, "--format", "csv"]);
    assert_eq!(code, 1, "data errors exit 1");
    assert!(err.contains("subject A"), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "header and one row per subject: {out}");
    assert!(rows[0].ends_with(",overall,best_response,error"));
    assert!(
        rows[1].starts_with("A,,,,,,,,,,")
            && rows[1].contains("(column long_axis): `4x` is not a number"),
        "{}",
        rows[1]
    );
    assert_eq!(rows[2], "B,,FU,2020-02-26,PR,PR,NA,no,PR,PR,");
    assert_eq!(
        rows[3], "C,,,,,,,,,NE,",
        "no follow-up: one row, best response NE"
    );
}

#[test]
fn eval_summary_is_one_line_per_subject() {
    let (code, out, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--format",
        "summary",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(
        lines[3],
        "P04 (CENTRAL): best SD; progression WEEK 12 2024-05-27; WEEK 6 SD, WEEK 12 PD"
    );
    assert_eq!(
        lines[4],
        "P05 (CENTRAL): best PR; no progression; WEEK 8 NE, WEEK 16 PR"
    );
    // The bracket form works on eval as on compare: at 25 % P04's WEEK 12 is no longer PD.
    let (code, out, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1[pd_increase=25%]",
        "examples/recist-cohort.csv",
        "--format",
        "summary",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("P04 (CENTRAL): best SD; no progression; WEEK 6 SD, WEEK 12 SD\n"),
        "{out}"
    );
}

#[test]
fn swapped_arguments_are_said_so() {
    let (code, _, err) = crit(&["check", "examples/recist-cohort.csv"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("looks like lesion data, not a ruleset"),
        "{err}"
    );
    assert!(err.contains("crit validate --criteria"), "{err}");
    let (code, out, err) = crit(&[
        "eval",
        "--criteria",
        "examples/recist-cohort.csv",
        "recist-1.1",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(
            "the arguments look swapped: --criteria recist-1.1 examples/recist-cohort.csv"
        ),
        "{err}"
    );
    let (code, _, err) = crit(&[
        "compare",
        "criteria/recist-1.1.crit",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("looks like a ruleset, not lesion data"),
        "{err}"
    );
}

#[test]
fn compare_set_applies_to_every_criterion_and_the_criterions_own_wins() {
    let (code, out, err) = crit(&[
        "compare",
        "examples/recist-cohort.csv",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "recist-1.1[pd_increase=20%]",
        "--set",
        "pd_increase=25%",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["criteria"][0]["all_params"]["pd_increase"], "25 %");
    assert_eq!(v["criteria"][1]["all_params"]["pd_increase"], "20 %");
    // P04 progresses at WEEK 12 under 20 % only.
    let p04 = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "P04")
        .unwrap();
    assert_eq!(
        p04["first_progression"]["recist-1.1"],
        serde_json::Value::Null
    );
    assert_eq!(
        p04["first_progression"]["recist-1.1[pd_increase=20%]"],
        "2024-05-27"
    );
    let (code, _, err) = crit(&[
        "compare",
        "examples/recist-cohort.csv",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "percist-1.0",
        "--set",
        "pd_increase=25%",
    ]);
    assert_eq!(code, 2, "a param one criterion lacks is an error");
    assert!(
        err.contains("`percist-1.0` has no param `pd_increase`"),
        "{err}"
    );
}

#[test]
fn every_option_is_documented() {
    use clap::CommandFactory;
    let cli = crit::cli::Cli::command();
    for sub in cli.get_subcommands() {
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            assert!(
                arg.get_help().is_some() || arg.get_long_help().is_some(),
                "`crit {} --{id}` has no help",
                sub.get_name()
            );
        }
    }
}

#[test]
fn bad_data_fails_its_subject_only() {
    let data = "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,10\nA,FU,2020-02-26,T1,target,-3\nB,BL,2020-01-01,T1,target,10\nB,FU,2020-02-26,T1,target,6\nC,BL,2020-13-01,T1,target,10\n";
    let path = write_temp("bad.csv", data);
    let (code, out, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        &path,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "data errors exit 1");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 3, "no subject is dropped");
    assert!(subjects[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("bad.csv:3 (column long_axis): negative long_axis `-3`"));
    assert!(subjects[0]["best_response"].is_null());
    assert_eq!(subjects[1]["best_response"], "PR");
    assert!(subjects[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("date `2020-13-01` is not a valid date"));
    assert!(err.contains("subject A"), "{err}");
}

#[test]
fn missing_required_column_is_a_file_error() {
    let path = write_temp(
        "nolong.csv",
        "subject,visit,date,lesion,role\nA,BL,2020-01-01,T1,target\n",
    );
    let (code, out, err) = crit(&["eval", "--criteria", "recist-1.1", &path]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("reads `long_axis` (mm), but the table has no such column"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = crit(&["eval"]);
    assert_eq!(code, 2);
    let (code, _, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--set",
        "pd_increse=25%",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `pd_increase`?"), "{err}");
    let (code, _, err) = crit(&[
        "eval",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--set",
        "pd_increase=25 mm",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is in %, not mm"), "{err}");
}

#[test]
fn explain_shows_one_subject_with_verbose_reasons() {
    let (code, out, _) = crit(&[
        "explain",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--subject",
        "P05",
        "--verbose",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (code, _, err) = crit(&[
        "explain",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
        "--subject",
        "P5",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no subject `P5`"), "{err}");
}

#[test]
fn list_names_shipped_rulesets() {
    let (code, out, _) = crit(&["list"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("recist-1.1\tRECIST 1.1\t1.1\tEisenhauer")),
        "{out}"
    );
    // The 7 first rulesets and the 12 of the criteria library, each with its citation.
    assert_eq!(out.lines().count(), 19, "{out}");
    for line in out.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert!(fields[3].len() > 20, "no citation: {line}");
    }
    for id in [
        "who", "irrc", "irrecist", "imrecist", "mrecist", "choi", "ipercist", "percimt",
    ]
    .into_iter()
    .chain(["rano", "lugano-pet", "lugano-ct", "pcwg3-bone"])
    {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{id}\t"))),
            "{id}: {out}"
        );
    }
}

#[test]
fn unknown_ruleset_suggests_a_shipped_one() {
    let (code, _, err) = crit(&[
        "eval",
        "--criteria",
        "recist-11",
        "examples/recist-cohort.csv",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `recist-1.1`?"), "{err}");
}

#[test]
fn one_table_with_ct_and_pet_columns_runs_under_both() {
    let best = |criteria: &str| -> Vec<(String, String)> {
        let (code, out, err) = crit(&[
            "eval",
            "--criteria",
            criteria,
            "examples/pet-cohort.csv",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{criteria}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["subject"].as_str().unwrap().to_string(),
                    s["best_response"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        best("recist-1.1"),
        pairs(&[
            ("M01", "PR"),
            ("M02", "PD"),
            ("M03", "SD"),
            ("M04", "SD"),
            ("M05", "SD")
        ])
    );
    assert_eq!(
        best("percist-1.0"),
        pairs(&[
            ("M01", "CMR"),
            ("M02", "PMD"),
            ("M03", "PMD"),
            ("M04", "NE"),
            ("M05", "SMD")
        ])
    );
    assert_eq!(
        best("impercist5"),
        pairs(&[
            ("M01", "CMR"),
            ("M02", "SMD"),
            ("M03", "SMD"),
            ("M04", "NE"),
            ("M05", "SMD")
        ])
    );
}

#[test]
fn eval_text_ends_with_the_cohort_line_for_added_categories() {
    let data = "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,40\nA,BL,2020-01-01,T2,target,20\nA,FU,2020-02-26,T1,target,24\nA,FU,2020-02-26,T2,target,26\nB,BL,2020-01-01,T1,target,40\nB,FU,2020-02-26,T1,target,20\n";
    let path = write_temp("dr.csv", data);
    let (code, out, _) = crit(&["eval", "--criteria", "dr-recist", &path]);
    assert_eq!(code, 0);
    assert!(out.trim_end().ends_with("cohort: DR (dissociated) in 1 of 2 subjects at least once; at those timepoints recist-1.1 said SD ×1"), "{out}");
}

#[test]
fn readme_dr_variant_is_two_params_on_dr_recist() {
    let (code, _, err) = crit(&["check", "examples/dr-variant.crit"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = crit(&[
        "eval",
        "--criteria",
        "examples/dr-variant.crit",
        "examples/immunotherapy-cohort.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["criteria"]["params"]["dr_strict"], "false");
    assert_eq!(
        v["criteria"]["params"]["dr_new_lesions_progressing"],
        "true"
    );
    let p10 = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "P10")
        .unwrap();
    assert_eq!(p10["best_response"], "DR");
}

#[test]
fn compare_set_moves_the_waterfall_reference_lines() {
    let out_path = write_temp("lines.html", "");
    let (code, _, err) = crit(&[
        "compare",
        "examples/recist-cohort.csv",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "recist-1.1[pr_decrease=35%]",
        "--set",
        "pd_increase=25%",
        "--format",
        "html",
        "--output",
        &out_path,
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        html.contains("Dashed lines: <b>A</b> −30 % (<code>pr_decrease</code>) and +25 % (<code>pd_increase</code>); <b>B</b> −35 % (<code>pr_decrease</code>) and +25 % (<code>pd_increase</code>)."),
        "the caption gives the values in effect"
    );
    assert!(html.contains("\n+25 %\n</text>") && !html.contains("\n+20 %\n</text>"));
}

#[test]
fn compare_recist_irecist_and_dr_in_one_command() {
    let out_path = write_temp("report.html", "");
    let (code, _, err) = crit(&[
        "compare",
        "examples/immunotherapy-cohort.csv",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--criteria",
        "dr-recist",
        "--format",
        "html",
        "--output",
        &out_path,
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&out_path).unwrap();
    assert!(html.contains("<svg") && html.contains("P09") && html.contains("P10"));
    let (code, out, _) = crit(&[
        "compare",
        "examples/immunotherapy-cohort.csv",
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--criteria",
        "dr-recist",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let best = |s: &str, label: &str| {
        v["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["subject"] == s)
            .unwrap()["best"][label]
            .clone()
    };
    // Pseudoprogression: RECIST stops at the first PD, iRECIST resets to iPR.
    assert_eq!(best("P09", "recist-1.1"), "PD");
    assert_eq!(best("P09", "irecist"), "iPR");
    // Dissociated response: RECIST SD, dr-recist DR.
    assert_eq!(best("P10", "recist-1.1"), "SD");
    assert_eq!(best("P10", "dr-recist"), "DR");
    assert_eq!(v["pairs"].as_array().unwrap().len(), 3);
}

#[test]
fn json_input_gives_the_same_results_as_csv() {
    let json = r#"{"subjects": [{"subject": "A", "reader": "R1", "assessments": [
        {"visit": "BL", "date": "2020-01-01", "lesions": [{"lesion": "T1", "role": "target", "long_axis": 33}]},
        {"visit": "FU", "date": "2020-02-26", "lesions": [{"lesion": "T1", "role": "target", "long_axis": 23.1}]}]}]}"#;
    let path = write_temp("cohort.json", json);
    let (code, out, err) = crit(&["eval", "--criteria", "recist-1.1", &path, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().nth(1),
        Some("A,R1,FU,2020-02-26,PR,PR,NA,no,PR,PR,")
    );
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let path = write_temp("bom.csv", "\u{feff}subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,33\nA,FU,2020-02-26,T1,target,23.1\n");
    let (code, out, err) = crit(&["eval", "--criteria", "recist-1.1", &path, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("A,,FU,2020-02-26,PR"), "{out}");
    let rule = write_temp(
        "bom.crit",
        "\u{feff}criteria bom \"Bom\" extends recist-1.1\n",
    );
    let (code, _, err) = crit(&["check", &rule]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_categorical_value_outside_its_list_is_a_data_error_naming_the_values() {
    let csv = "subject,visit,date,lesion,role,arm,clinical_status,deauville\n\
               A,bl,2024-01-01,L1,target,control,stable,5\n\
               A,w6,2024-02-12,L1,target,control,better,3\n\
               B,bl,2024-01-01,L1,target,control,stable,4\n\
               B,w6,2024-02-12,L1,target,control,stable,6\n\
               C,bl,2024-01-01,L1,target,control,stable,4\n\
               C,w6,2024-02-12,L1,target,control,worse,4\n";
    let path = write_temp("categorical.csv", csv);
    let rs = "tests/cases/eval/lang/categorical.crit";
    let (code, out, err) = crit(&["eval", "--criteria", rs, &path, "--format", "csv"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("`better` is not a value of clinical_status")
            && err.contains("improved, stable, worse"),
        "names the allowed values: {err}"
    );
    assert!(
        err.contains("`6` is not a value of deauville") && err.contains("1, 2, 3, 4, 5"),
        "{err}"
    );
    assert!(
        out.contains("C,,w6,2024-02-12,bad"),
        "other subjects go on: {out}"
    );
    let with_unit = csv.replace("clinical_status,", "clinical_status[mm],");
    let path = write_temp("categorical-unit.csv", &with_unit);
    let (code, _, err) = crit(&["eval", "--criteria", rs, &path]);
    assert_eq!(code, 1);
    assert!(
        err.contains("has a unit, but `clinical_status` is categorical"),
        "{err}"
    );
}

#[test]
fn the_output_is_the_same_for_any_number_of_threads() {
    // Enough subjects for several batches, with readers and a data error among them.
    let mut data =
        String::from("subject,reader,visit,date,lesion,role,organ,long_axis,short_axis\n");
    for s in 0..700 {
        for r in ["A", "B"] {
            let shrink = 40 - (s % 25);
            data.push_str(&format!("S{s:04},{r},BL,2024-01-01,T1,target,liver,40,\n"));
            data.push_str(&format!(
                "S{s:04},{r},BL,2024-01-01,T2,target,lymph node,22,15\n"
            ));
            data.push_str(&format!(
                "S{s:04},{r},W8,2024-02-26,T1,target,liver,{shrink},\n"
            ));
            let short = if s == 333 { "x" } else { "9" };
            data.push_str(&format!(
                "S{s:04},{r},W8,2024-02-26,T2,target,lymph node,14,{short}\n"
            ));
        }
    }
    let path = write_temp("threads.csv", &data);
    for format in ["json", "csv", "text"] {
        let run = |n: &str| {
            crit(&[
                "eval",
                "--criteria",
                "recist-1.1",
                &path,
                "--format",
                format,
                "--threads",
                n,
            ])
        };
        let (c1, one, e1) = run("1");
        let (c2, two, e2) = run("2");
        let (c3, three, _) = run("3");
        assert_eq!((c1, c2, c3), (1, 1, 1), "a data error exits 1");
        assert!(
            one == two && two == three,
            "{format}: the same bytes on 1, 2 and 3 threads"
        );
        assert_eq!(e1, e2);
        assert!(one.contains("S0699"), "{format}: the last subject is there");
    }
}

#[test]
fn validate_reads_and_binds_without_evaluating() {
    let (code, out, err) = crit(&[
        "validate",
        "--criteria",
        "recist-1.1",
        "examples/recist-cohort.csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("subjects") && out.contains("no data errors"),
        "{out}"
    );
    let path = write_temp(
        "validate.csv",
        "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,10\nB,BL,2020-02-30,T1,target,10\n",
    );
    let (code, out, err) = crit(&["validate", "--criteria", "recist-1.1", &path]);
    assert_eq!(code, 1);
    assert!(
        out.contains("2 subjects (1 rows)") && out.contains("1 with data errors"),
        "{out}"
    );
    assert!(
        err.contains("subject B: date `2020-02-30` is not a valid date"),
        "{err}"
    );
}

#[test]
fn scattered_rows_are_said_once_and_give_the_grouped_results() {
    let grouped = "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,10\nA,FU,2020-02-26,T1,target,6\nB,BL,2020-01-01,T1,target,10\nB,FU,2020-02-26,T1,target,13\n";
    let scattered = "subject,visit,date,lesion,role,long_axis\nA,BL,2020-01-01,T1,target,10\nB,BL,2020-01-01,T1,target,10\nA,FU,2020-02-26,T1,target,6\nB,FU,2020-02-26,T1,target,13\n";
    let g = write_temp("grouped.csv", grouped);
    let s = write_temp("scattered.csv", scattered);
    let (_, a, ea) = crit(&["eval", "--criteria", "recist-1.1", &g, "--format", "csv"]);
    let (_, b, eb) = crit(&["eval", "--criteria", "recist-1.1", &s, "--format", "csv"]);
    assert_eq!(a, b);
    assert!(!ea.contains("not together"), "{ea}");
    assert_eq!(eb.matches("are not together").count(), 1, "{eb}");
}
