//! Scoring criteria against a known truth (`crit compare --truth truth.csv`), for cohorts from
//! `crit simulate` or any table with the same columns (DATA.md, "Simulated cohorts").
//!
//! Per criterion, over the readings (subject × reader) whose subject the truth file knows:
//! - agreement of the best-response class with the true pattern (responder: complete or
//!   partial; stable: stable; progressor: progressive; pseudoprogression: anything but
//!   progressive or not evaluable, since the patient benefits; dissociated: a class named
//!   `dissociated`, counted only for criteria that have one; not-evaluable: not-evaluable or
//!   no response), and the whole pattern × class table;
//! - true pseudoprogressions whose best response is progressive;
//! - true dissociated patterns with a timepoint of class `dissociated` (detection), and other
//!   patterns with one (false detection);
//! - reader-to-reader Cohen's kappa of the best-response class;
//! - the date of the ruleset's progression event (its `event progression`) against the true
//!   progression day: the difference in days, and progressions without a true one or missed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Map, Value};
use time::Date;

use super::model::{Report, SubjectRow, NOT_EVALUABLE, NO_RESPONSE, PROGRESSIVE};
use super::{report_json, report_text, stats};
use crate::data::model::parse_date;

/// The class a true dissociated pattern is detected by.
pub const DISSOCIATED: &str = "dissociated";

/// One subject of the truth file.
#[derive(Clone, Debug, PartialEq)]
pub struct TrueSubject {
    pub pattern: String,
    /// Day of true progression, the treatment start being day 1.
    pub progression_day: Option<i64>,
    pub start: Option<Date>,
}

/// Reads a truth file: `subject`, `pattern`, and optionally `true_progression_day` and
/// `start_date` (needed for the progression dates).
pub fn read(path: &Path) -> Result<BTreeMap<String, TrueSubject>, String> {
    let name = path.display();
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let headers = r
        .headers()
        .map_err(|e| format!("{name}: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect::<Vec<_>>();
    let col = |c: &str| headers.iter().position(|h| h == c);
    let (Some(subject), Some(pattern)) = (col("subject"), col("pattern")) else {
        return Err(format!(
            "{name}: a truth file needs the columns `subject` and `pattern`"
        ));
    };
    let (day, start) = (col("true_progression_day"), col("start_date"));
    let mut out = BTreeMap::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| format!("{name}:{line}: {e}"))?;
        let cell = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).unwrap_or("");
        let id = cell(Some(subject)).to_string();
        let progression_day = match cell(day) {
            "" => None,
            d => Some(d.parse::<i64>().map_err(|_| {
                format!("{name}:{line}: true_progression_day `{d}` is not a whole number of days")
            })?),
        };
        let start = match cell(start) {
            "" => None,
            d => Some(
                parse_date(d)
                    .ok_or_else(|| format!("{name}:{line}: start_date `{d}` is not a date"))?,
            ),
        };
        let t = TrueSubject {
            pattern: cell(Some(pattern)).to_string(),
            progression_day,
            start,
        };
        if out.insert(id.clone(), t).is_some() {
            return Err(format!("{name}:{line}: subject `{id}` appears twice"));
        }
    }
    Ok(out)
}

/// The classes that agree with a true pattern; `None` when the criterion cannot express it.
fn expected(pattern: &str, has_dissociated: bool) -> Option<&'static [&'static str]> {
    match pattern {
        "responder" => Some(&["complete", "partial"]),
        "stable" => Some(&["stable"]),
        "progressor" => Some(&[PROGRESSIVE]),
        "pseudoprogression" => Some(&["complete", "partial", "stable", DISSOCIATED]),
        "dissociated" if has_dissociated => Some(&[DISSOCIATED]),
        "not-evaluable" => Some(&[NOT_EVALUABLE, NO_RESPONSE]),
        _ => None,
    }
}

/// Progression dates against the truth, in days (criterion − truth).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spread {
    pub n: u64,
    pub median: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub mean: Option<f64>,
    /// A progression under the criterion, none in truth.
    pub false_progression: u64,
    /// A true progression up to the reading's last assessment, none under the criterion.
    pub missed: u64,
}

/// The scores of one criterion.
#[derive(Clone, Debug)]
pub struct Score {
    pub label: String,
    pub readings: u64,
    pub agreement: stats::Rate,
    /// Pattern → class → readings.
    pub table: BTreeMap<String, BTreeMap<String, u64>>,
    pub pseudo_as_progression: stats::Rate,
    /// `None` when the criterion has no dissociated class.
    pub dissociated_detected: Option<stats::Rate>,
    pub dissociated_false: Option<stats::Rate>,
    /// Reader pairs with the kappa of their best-response classes.
    pub readers: Vec<(String, String, stats::Kappa)>,
    pub spread: Spread,
}

/// Everything `--truth` adds to a report.
#[derive(Clone, Debug)]
pub struct Scores {
    pub file: String,
    /// True pattern → readings.
    pub patterns: BTreeMap<String, u64>,
    pub criteria: Vec<Score>,
    /// Subjects of the data that the truth file does not have.
    pub unknown: Vec<String>,
    /// Subjects of the truth file not in the data.
    pub unused: u64,
}

/// Quantile (linear interpolation between order statistics, R's type 7) of sorted values.
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

fn score(r: &Report, i: usize, truth: &BTreeMap<String, TrueSubject>) -> Score {
    let c = &r.criteria[i];
    let has_dissociated = c.classes.iter().any(|(_, k)| k == DISSOCIATED);
    let scored: Vec<(&SubjectRow, &TrueSubject)> = r
        .included()
        .filter_map(|s| truth.get(&s.subject).map(|t| (s, t)))
        .collect();
    let mut table: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut agree, mut defined) = (0, 0);
    let (mut pseudo, mut pseudo_pd) = (0, 0);
    let (mut dr, mut dr_hit, mut other, mut other_hit) = (0, 0, 0, 0);
    let mut deltas = vec![];
    let mut spread = Spread::default();
    for (s, t) in &scored {
        let Some(o) = s.outcome(i) else { continue };
        *table
            .entry(t.pattern.clone())
            .or_default()
            .entry(o.best_class.to_string())
            .or_default() += 1;
        if let Some(classes) = expected(&t.pattern, has_dissociated) {
            defined += 1;
            agree += u64::from(classes.contains(&&*o.best_class));
        }
        if t.pattern == "pseudoprogression" {
            pseudo += 1;
            pseudo_pd += u64::from(&*o.best_class == PROGRESSIVE);
        }
        let flagged = o.timepoints.iter().any(|tp| &*tp.class == DISSOCIATED);
        if t.pattern == DISSOCIATED {
            dr += 1;
            dr_hit += u64::from(flagged);
        } else {
            other += 1;
            other_hit += u64::from(flagged);
        }
        let day = |d: Date| t.start.map(|s| (d - s).whole_days() + 1);
        let last = o.timepoints.last().and_then(|tp| day(tp.date));
        match (
            o.first_progression.as_ref().and_then(|p| day(p.1)),
            t.progression_day,
        ) {
            (Some(d), Some(truth)) => deltas.push((d - truth) as f64),
            (Some(_), None) => spread.false_progression += 1,
            (None, Some(truth)) if last.is_some_and(|l| truth <= l) => spread.missed += 1,
            _ => {}
        }
    }
    deltas.sort_by(f64::total_cmp);
    spread.n = deltas.len() as u64;
    spread.median = quantile(&deltas, 0.5);
    spread.q1 = quantile(&deltas, 0.25);
    spread.q3 = quantile(&deltas, 0.75);
    spread.mean = (!deltas.is_empty()).then(|| deltas.iter().sum::<f64>() / deltas.len() as f64);
    Score {
        label: c.label.clone(),
        readings: scored.len() as u64,
        agreement: stats::rate(agree, defined),
        table,
        pseudo_as_progression: stats::rate(pseudo_pd, pseudo),
        dissociated_detected: has_dissociated.then(|| stats::rate(dr_hit, dr)),
        dissociated_false: has_dissociated.then(|| stats::rate(other_hit, other)),
        readers: reader_kappas(r, i, truth),
        spread,
    }
}

/// Cohen's kappa of the best-response classes for every pair of readers, over the subjects
/// both read.
fn reader_kappas(
    r: &Report,
    i: usize,
    truth: &BTreeMap<String, TrueSubject>,
) -> Vec<(String, String, stats::Kappa)> {
    let mut by_subject: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    let mut readers: BTreeSet<&str> = BTreeSet::new();
    for s in r.included().filter(|s| truth.contains_key(&s.subject)) {
        if let (Some(reader), Some(o)) = (s.reader.as_deref(), s.outcome(i)) {
            readers.insert(reader);
            by_subject
                .entry(&s.subject)
                .or_default()
                .insert(reader, &*o.best_class);
        }
    }
    let readers: Vec<&str> = readers.into_iter().collect();
    let idx = |c: &str| r.classes.iter().position(|k| k == c).unwrap_or(0);
    let mut out = vec![];
    for (a, ra) in readers.iter().enumerate() {
        for rb in &readers[a + 1..] {
            let mut table = vec![vec![0u64; r.classes.len().max(1)]; r.classes.len().max(1)];
            for m in by_subject.values() {
                if let (Some(x), Some(y)) = (m.get(ra), m.get(rb)) {
                    table[idx(x)][idx(y)] += 1;
                }
            }
            out.push((ra.to_string(), rb.to_string(), stats::cohen_kappa(&table)));
        }
    }
    out
}

/// Scores every criterion of a report against the truth file.
pub fn scores(r: &Report, path: &Path) -> Result<Scores, String> {
    let truth = read(path)?;
    let in_data: BTreeSet<&str> = r.subjects.iter().map(|s| s.subject.as_str()).collect();
    let unknown: Vec<String> = in_data
        .iter()
        .filter(|s| !truth.contains_key(**s))
        .map(|s| s.to_string())
        .collect();
    let unused = truth
        .keys()
        .filter(|k| !in_data.contains(k.as_str()))
        .count() as u64;
    let mut patterns = BTreeMap::new();
    for s in r.included() {
        if let Some(t) = truth.get(&s.subject) {
            *patterns.entry(t.pattern.clone()).or_default() += 1;
        }
    }
    Ok(Scores {
        file: path.display().to_string(),
        patterns,
        criteria: (0..r.criteria.len()).map(|i| score(r, i, &truth)).collect(),
        unknown,
        unused,
    })
}

fn days(x: Option<f64>) -> String {
    // Rounded first, so that a small negative value is +0, not -0.
    x.map(|x| format!("{:+.0}", x.round() + 0.0))
        .unwrap_or_else(|| "-".into())
}

fn kappa_cell(k: &[(String, String, stats::Kappa)]) -> String {
    match k {
        [] => "-".into(),
        [(_, _, k)] => format!("{} {}", report_text::num3(k.kappa), report_text::ci3(k.ci)),
        many => {
            let v: Vec<f64> = many.iter().filter_map(|(_, _, k)| k.kappa).collect();
            let mean = (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            format!("{} (mean of {} pairs)", report_text::num3(mean), many.len())
        }
    }
}

fn opt_rate(r: &Option<stats::Rate>) -> String {
    r.as_ref()
        .map(report_text::rate)
        .unwrap_or_else(|| "- (no dissociated class)".into())
}

/// The rows of the summary table (shared by text and HTML).
fn summary_rows(t: &Scores) -> Vec<Vec<String>> {
    t.criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let s = &c.spread;
            vec![
                super::letter(i),
                report_text::rate(&c.agreement),
                report_text::rate(&c.pseudo_as_progression),
                opt_rate(&c.dissociated_detected),
                opt_rate(&c.dissociated_false),
                kappa_cell(&c.readers),
                format!("{} [{}, {}]", days(s.median), days(s.q1), days(s.q3)),
                s.n.to_string(),
                s.false_progression.to_string(),
                s.missed.to_string(),
            ]
        })
        .collect()
}

const HEAD: [&str; 10] = [
    "",
    "agreement with truth",
    "pseudoprogression → progressive",
    "dissociated detected",
    "false dissociated",
    "reader kappa",
    "progression date − true date, days: median [IQR]",
    "readings with both dates",
    "progression, none in truth",
    "true progression missed",
];

const NOTES: &str = "Agreement: the best-response class against the true pattern (responder: complete or partial; stable: stable; progressor: progressive; pseudoprogression: any response but progressive or not evaluable, as the patient benefits; dissociated: a dissociated class, for criteria that have one; not-evaluable: not evaluable or none). Dissociated detected: true dissociated patterns with a timepoint of class dissociated; false: other patterns with one. Reader kappa: Cohen's kappa of the best-response classes between readers. Progression dates: the date of each ruleset's progression event (RECIST 1.1 the first PD; iRECIST the first iUPD that an iCPD confirms, dated at the iUPD — an iUPD reset, or unconfirmed at the last scan, is none) minus the true progression day, day 1 being the treatment start; 'progression, none in truth': progression under the criterion without one in truth; 'true progression missed': a true progression before the reading's last assessment that the criterion did not call. Units are readings (subject × reader).";

fn pattern_line(t: &Scores) -> String {
    t.patterns
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text section.
pub fn text(r: &Report, t: &Scores) -> String {
    let mut out = String::new();
    let total: u64 = t.patterns.values().sum();
    let _ = writeln!(
        out,
        "\nScored against the truth ({}: {total} readings: {})",
        t.file,
        pattern_line(t)
    );
    let mut rows = vec![HEAD.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    rows.extend(summary_rows(t));
    // One line per criterion is too wide: print the table transposed, a row per measure.
    let mut transposed: Vec<Vec<String>> = vec![];
    for j in 0..HEAD.len() {
        transposed.push(rows.iter().map(|r| r[j].clone()).collect());
    }
    out.push_str(&report_text::table(&transposed, 1, "  "));
    for (i, c) in t.criteria.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nTrue pattern (rows) x best-response class under {} ({})",
            super::letter(i),
            c.label
        );
        let classes: Vec<&String> = r.classes.iter().collect();
        let mut rows = vec![std::iter::once(String::new())
            .chain(classes.iter().map(|k| k.to_string()))
            .chain(std::iter::once("total".to_string()))
            .collect::<Vec<_>>()];
        for (p, counts) in &c.table {
            let mut row = vec![p.clone()];
            row.extend(
                classes
                    .iter()
                    .map(|k| counts.get(*k).copied().unwrap_or(0).to_string()),
            );
            row.push(counts.values().sum::<u64>().to_string());
            rows.push(row);
        }
        out.push_str(&report_text::table(&rows, 1, "  "));
    }
    let _ = writeln!(out, "\n  {NOTES}");
    if !t.unknown.is_empty() {
        let shown: Vec<&str> = t.unknown.iter().take(10).map(|s| s.as_str()).collect();
        let _ = writeln!(
            out,
            "  Not in the truth file (not scored): {} subject(s): {}{}",
            t.unknown.len(),
            shown.join(", "),
            if t.unknown.len() > 10 { ", …" } else { "" }
        );
    }
    if t.unused > 0 {
        let _ = writeln!(
            out,
            "  In the truth file but not in the data: {} subject(s)",
            t.unused
        );
    }
    out
}

fn rate_json(r: &stats::Rate) -> Value {
    json!({"value": report_json::opt_round(r.value), "ci": report_json::ci_json(r.ci), "count": r.count, "n": r.n})
}

/// The JSON value (`truth` in the report): `file`, `patterns: {pattern: readings}`,
/// `criteria: {LABEL: {readings, agreement, pseudoprogression_as_progression,
/// dissociated_detected, dissociated_false, reader_kappa: [{a, b, n, kappa, ci}], progression:
/// {n, median, q1, q3, mean, false_progression, missed}, table: {pattern: {class: n}}}}`,
/// `unknown_subjects`, `unused_subjects`.
pub fn json(t: &Scores) -> Value {
    let criteria: Map<String, Value> = t
        .criteria
        .iter()
        .map(|c| {
            let s = &c.spread;
            let v = json!({
                "readings": c.readings,
                "agreement": rate_json(&c.agreement),
                "pseudoprogression_as_progression": rate_json(&c.pseudo_as_progression),
                "dissociated_detected": c.dissociated_detected.as_ref().map(rate_json),
                "dissociated_false": c.dissociated_false.as_ref().map(rate_json),
                "reader_kappa": c.readers.iter().map(|(a, b, k)| json!({
                    "a": a, "b": b, "n": k.n,
                    "kappa": report_json::opt_round(k.kappa), "ci": report_json::ci_json(k.ci)
                })).collect::<Vec<_>>(),
                "progression": {
                    "n": s.n, "median": s.median, "q1": s.q1, "q3": s.q3,
                    "mean": report_json::opt_round(s.mean),
                    "false_progression": s.false_progression, "missed": s.missed
                },
                "table": c.table,
            });
            (c.label.clone(), v)
        })
        .collect();
    json!({
        "file": t.file,
        "patterns": t.patterns,
        "criteria": criteria,
        "unknown_subjects": t.unknown,
        "unused_subjects": t.unused,
    })
}

/// The HTML section, placed after the agreement between criteria.
pub fn html(r: &Report, t: &Scores) -> String {
    let esc = super::charts::esc;
    let mut h = String::from("<h2>Operating characteristics against the truth</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"sub\">Truth <code>{}</code> · {}</p>",
        esc(&t.file),
        esc(&pattern_line(t))
    );
    h.push_str("<table><thead><tr>");
    for (j, c) in HEAD.iter().enumerate() {
        let _ = write!(
            h,
            "<th{}>{}</th>",
            if j > 0 { " class=\"num\"" } else { "" },
            esc(c)
        );
    }
    h.push_str("</tr></thead><tbody>\n");
    for row in summary_rows(t) {
        h.push_str("<tr>");
        for (j, c) in row.iter().enumerate() {
            let _ = write!(
                h,
                "<td{}>{}</td>",
                if j > 0 { " class=\"num\"" } else { "" },
                esc(c)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n<div class=\"grid\">\n");
    for (i, c) in t.criteria.iter().enumerate() {
        let _ = write!(
            h,
            "<table><thead><tr><th>{} {} — true pattern</th>",
            super::letter(i),
            esc(&c.label)
        );
        for k in &r.classes {
            let _ = write!(h, "<th class=\"num\">{}</th>", esc(k));
        }
        h.push_str("</tr></thead><tbody>\n");
        for (p, counts) in &c.table {
            let _ = write!(h, "<tr><td>{}</td>", esc(p));
            for k in &r.classes {
                let _ = write!(
                    h,
                    "<td class=\"num\">{}</td>",
                    counts.get(k).copied().unwrap_or(0)
                );
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</div>\n");
    let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(NOTES));
    if !t.unknown.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note error\">Not in the truth file (not scored): {}</p>",
            esc(&t.unknown.join(", "))
        );
    }
    h
}

/// Adds the truth section to a rendered report (text or HTML; CSV is per subject and stays as
/// it is). JSON is written again with its `truth` member, whatever `out` holds.
pub fn attach(r: &Report, t: &Scores, format: super::Format, out: String) -> String {
    match format {
        super::Format::Text => out + &text(r, t),
        // The report written again with its truth member (in key order, as the rest).
        super::Format::Json => super::write_json(r, vec![("truth", json(t))]),
        super::Format::Html => {
            let section = html(r, t);
            // After the agreement between criteria, before the tables and plots.
            let at = ["<h2>Cross-tabulations</h2>", "<h2>Methods</h2>"]
                .iter()
                .find_map(|h| out.find(h))
                .or_else(|| out.rfind("</body>"));
            match at {
                Some(at) => format!("{}{section}{}", &out[..at], &out[at..]),
                None => out + &section,
            }
        }
        super::Format::Csv => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_r_type_7() {
        // R: quantile(c(-7, 0, 3, 14, 42), c(.25, .5, .75)) gives 0, 3, 14.
        let v = [-7.0, 0.0, 3.0, 14.0, 42.0];
        assert_eq!(quantile(&v, 0.25), Some(0.0));
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 0.75), Some(14.0));
        // quantile(c(1, 2, 3, 4), .5) = 2.5; quantile(c(1,2,3,4), .25) = 1.75.
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), Some(1.75));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn expected_classes() {
        assert_eq!(expected("dissociated", false), None);
        assert_eq!(expected("dissociated", true), Some(&[DISSOCIATED][..]));
        assert!(expected("pseudoprogression", false)
            .unwrap()
            .contains(&"stable"));
        assert_eq!(expected("something else", true), None);
    }
}
