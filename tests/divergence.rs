//! Why criteria disagree: on the example cohorts, every reclassified subject has a divergence
//! (the first assessment that differs and the decisive test with both sides' values and params)
//! in the text report, the JSON, the HTML report and the `--subject` view.

mod common;

use crit::compare::{self, report_html, report_text, Divergence, Report};
use crit::data::table;

fn report(cohort: &str, criteria: &[&str]) -> Report {
    common::compare_report(cohort, criteria, compare::Explain::None)
}

fn divergence<'r>(r: &'r Report, subject: &str, b: usize) -> &'r Divergence {
    r.subjects
        .iter()
        .find(|s| s.subject == subject)
        .unwrap_or_else(|| panic!("subject {subject}"))
        .divergences
        .iter()
        .find(|d| (d.a, d.b) == (0, b))
        .unwrap_or_else(|| panic!("{subject}: a divergence of A and criterion {b}"))
}

/// The text of each item of the HTML report's list of divergences (`#why`).
fn html_divergences(r: &Report) -> Vec<String> {
    let html = report_html::render(r);
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, opts).expect("well-formed");
    let why = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("why"))
        .expect("the divergence section");
    let list = why
        .next_siblings()
        .skip(1)
        .find(|n| n.is_element())
        .expect("its list");
    list.children()
        .filter(|n| n.has_tag_name("li"))
        .map(|li| {
            li.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect()
        })
        .collect()
}

/// Every subject whose best-response class differs from the first criterion's has a divergence
/// with that criterion, and it is in the text report, the JSON and the HTML report.
fn every_reclassified_subject_is_explained(r: &Report) {
    let text = report_text::render(r);
    let json = compare::to_json(r);
    let html = html_divergences(r);
    for (k, s) in r.subjects.iter().enumerate() {
        let Some(first) = s.outcome(0) else { continue };
        for i in 1..r.criteria.len() {
            let Some(o) = s.outcome(i) else { continue };
            if o.best_class == first.best_class {
                continue;
            }
            let d = s
                .divergences
                .iter()
                .find(|d| d.b == i)
                .unwrap_or_else(|| panic!("{} under {}: no divergence", s.subject, i));
            let tag = format!("{} A–{}  reclassified · ", s.name(), compare::letter(i));
            assert!(text.contains(&tag), "text report has {tag}:\n{text}");
            let line = d.line(["A", &compare::letter(i)]);
            assert!(text.contains(&line), "text report has the line {line}");
            let found = json["subjects"][k]["divergences"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["line"] == line.as_str()));
            assert!(found, "JSON has the divergence of {}", s.subject);
            let item = format!(
                "{} A–{} reclassified · {line}",
                s.name(),
                compare::letter(i)
            );
            assert!(html.contains(&item), "HTML lists {item}\nin {html:#?}");
        }
    }
}

#[test]
fn a_threshold_variant_names_the_comparison_and_both_params() {
    let r = report(
        "examples/recist-cohort.csv",
        &[
            "recist-1.1",
            "recist-1.1[pd_increase=25%]",
            "recist-1.1[sd_min_interval=56 days]",
        ],
    );
    every_reclassified_subject_is_explained(&r);
    // P04 at week 12: the sum grew from the 55 mm nadir to 66 mm, +11 mm: exactly 20 %, PD
    // under the published threshold, not under 25 % (13.75 mm needed).
    let d = divergence(&r, "P04", 1);
    assert_eq!(d.at.as_ref().map(|a| a.0.as_str()), Some("WEEK 12"));
    assert_eq!(d.responses, ["PD".to_string(), "SD".to_string()]);
    assert_eq!(
        d.condition.as_deref(),
        Some("target PD: sum - nadir(sum) >= nadir(sum) * pd_increase")
    );
    assert_eq!(
        d.values,
        [
            Some("yes, 11.0 mm >= 11.0 mm (pd_increase = 20 %)".to_string()),
            Some("no, 11.0 mm >= 13.75 mm (pd_increase = 25 %)".to_string())
        ]
    );
    assert!(d.reads[0].contains(&"sum = 66.0 mm (T01 45.0 + T02 21.0)".to_string()));
    // With SD needing 56 days, every timepoint agrees but the best response does not: SD at
    // week 6 (42 days) no longer counts.
    let d = divergence(&r, "P04", 2);
    assert_eq!(d.at, None);
    assert_eq!(d.responses, ["SD".to_string(), "PD".to_string()]);
    let c = d.values[1].as_deref().unwrap_or("");
    assert!(
        c.contains("is 42 days after start, needs at least 56 days: counts as NE")
            && c.contains("(sd_min_interval = 56 days)"),
        "{c}"
    );
}

#[test]
fn dissociated_and_immunotherapy_criteria_name_the_lesions() {
    let r = report(
        "examples/immunotherapy-cohort.csv",
        &["recist-1.1", "irecist", "dr-recist"],
    );
    every_reclassified_subject_is_explained(&r);
    // P10: RECIST 1.1 SD at week 8, dissociated response under dr-recist: one target shrank by
    // 40 %, another grew by 50 %.
    let d = divergence(&r, "P10", 2);
    assert_eq!(d.at.as_ref().map(|a| a.0.as_str()), Some("WEEK 8"));
    assert_eq!(d.responses, ["SD".to_string(), "DR".to_string()]);
    assert_eq!(d.rules[1], "rule 1 (DR)");
    assert!(d.only[0].is_empty(), "the added rule is the reason");
    let only = d.only[1].join("; ");
    assert!(
        only.contains("responding_targets >= dr_min_responding: yes, 1 >= 1")
            && only.contains("responding_targets = 1: T01 change -40.0 % (40.0 → 24.0 mm)")
            && only.contains("progressing_targets = 1: T02 change +50.0 % (20.0 → 30.0 mm)")
            && only.contains("dr_respond = 30 %"),
        "{only}"
    );
    // P09: pseudoprogression. Both call week 8 progression (PD, iUPD) and week 16 a partial
    // response; RECIST stops at the PD, iRECIST does not stop at an unconfirmed iUPD.
    let d = divergence(&r, "P09", 1);
    assert_eq!(d.at, None);
    assert_eq!(d.responses, ["PD".to_string(), "iPR".to_string()]);
    assert_eq!(
        d.values[0].as_deref(),
        Some("stopped after WEEK 8 2024-04-01: later timepoints do not count")
    );
    assert_eq!(
        d.values[1].as_deref(),
        Some("iUPD at WEEK 8 2024-04-01 does not stop the count (stop after first iCPD)")
    );
}

#[test]
fn pet_criteria_name_the_metric_each_reads() {
    let r = report("examples/pet-cohort.csv", &["percist-1.0", "impercist5"]);
    every_reclassified_subject_is_explained(&r);
    // M03 week 8: the hottest lesion rose from 9.1 to 12.6 SUL (+3.5 SUL, more than 30 % of
    // 9.1 = 2.73): PMD; the sum of the hottest lesions rose 13.9 → 17.8 SUL, +3.9 SUL, not more
    // than 30 % (4.17 SUL): SMD under imPERCIST5.
    let d = divergence(&r, "M03", 1);
    assert_eq!(d.responses, ["PMD".to_string(), "SMD".to_string()]);
    let a = d.only[0].join("; ");
    assert!(
        a.contains("pmd_delta > pmd_reference * pmd_increase: yes, 3.5 SUL > 2.73 SUL (pmd_increase = 30 %)")
            && a.contains("hottest = 12.6 SUL (largest T01"),
        "{a}"
    );
    let b = d.only[1].join("; ");
    assert!(
        b.contains("not overall PMD: sum5 - baseline(sum5) > baseline(sum5) * sum_increase: no, 3.9 SUL > 4.17 SUL (sum_increase = 30 %)"),
        "{b}"
    );
    // Under RECIST 1.1 and PERCIST 1.0 the same table disagrees too; every such subject is
    // explained.
    every_reclassified_subject_is_explained(&report(
        "examples/pet-cohort.csv",
        &["recist-1.1", "percist-1.0", "dr-percist"],
    ));
}

#[test]
fn the_subject_view_shows_the_divergence_before_the_explanations() {
    let cohort = table::read_path("examples/recist-cohort.csv").expect("reads");
    let mut cohort = cohort;
    cohort.subjects.retain(|s| s.subject == "P04");
    let specs: Vec<_> = ["recist-1.1", "recist-1.1[pd_increase=25%]"]
        .iter()
        .map(|c| compare::parse_spec(c).unwrap())
        .collect();
    let r = compare::build(&specs, &cohort, true).expect("builds");
    let view = report_text::subject_view(&r);
    let why = view
        .find("A–B first differ at WEEK 12 2024-05-27")
        .unwrap_or_else(|| panic!("{view}"));
    let explanation = view.find("RECIST 1.1 — subject P04").expect("explanation");
    assert!(why < explanation, "{view}");
    assert!(view.contains("(pd_increase = 25 %)"));
    let json = compare::subject_json(&r);
    assert_eq!(
        json["subjects"][0]["divergences"][0]["values"]["recist-1.1[pd_increase=25%]"],
        "no, 11.0 mm >= 13.75 mm (pd_increase = 25 %)"
    );
}
