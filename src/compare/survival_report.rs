//! PFS and landmark OS in the comparison's text and JSON forms.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::model::{letter, Report};
use super::os::{Os, OsCriterion};
use super::pfs::{Pfs, MONTH_12, MONTH_6};
use crate::survival::{Quantile, Rate, TIES};

fn r6(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1e6).round() / 1e6)
    } else {
        Value::Null
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map(r6).unwrap_or(Value::Null)
}

fn quantile_json(q: Option<&Quantile>) -> Value {
    match q {
        Some(q) => json!({"value": opt(q.estimate), "ci": [opt(q.lower), opt(q.upper)]}),
        None => Value::Null,
    }
}

fn rate_json(r: Option<&Rate>) -> Value {
    match r {
        Some(r) => {
            json!({"days": r6(r.time), "value": r6(r.surv), "ci": [opt(r.lower), opt(r.upper)], "at_risk": r.n_risk})
        }
        None => Value::Null,
    }
}

/// `pfs: {conf_type, criteria: {LABEL: {n, events, censored, median: {value, ci}, rate_6m,
/// rate_12m}}, pairs: [{a, b, same, differ: [{subject, day_a, day_b}], shift_days: {median,
/// min, max}, only_a, only_b}]}`; times are days, day 1 = treatment start.
pub fn pfs_json(r: &Report, p: &Pfs) -> Value {
    let criteria: Map<String, Value> = r
        .criteria
        .iter()
        .zip(&p.criteria)
        .map(|(c, x)| {
            (
                c.label.clone(),
                json!({
                    "n": x.n, "events": x.events, "censored": x.censored,
                    "median": quantile_json(x.median.as_ref()),
                    "rate_6m": rate_json(x.rate_6m.as_ref()),
                    "rate_12m": rate_json(x.rate_12m.as_ref()),
                }),
            )
        })
        .collect();
    let pairs: Vec<Value> = p
        .pairs
        .iter()
        .map(|x| {
            let differ: Vec<Value> = x
                .differ
                .iter()
                .map(|(s, a, b)| json!({"subject": s, "day_a": a, "day_b": b}))
                .collect();
            json!({
                "a": r.criteria[x.a].label, "b": r.criteria[x.b].label,
                "same": x.same, "differ": differ,
                "shift_days": x.shift().map(|(m, lo, hi)| json!({"median": m, "min": lo, "max": hi})),
                "only_a": x.only_a, "only_b": x.only_b,
            })
        })
        .collect();
    json!({"conf_type": p.conf_type.name(), "criteria": criteria, "pairs": pairs})
}

/// `os: {file, landmark_days, conf_type, ties, criteria: {LABEL: {before_landmark,
/// no_assessment, reference, categories: [{category, class, n, deaths, median: {value, ci},
/// hr: {value, ci, p, note}}], logrank: {chisq, df, p}, concordance}}, missing_outcome,
/// unknown_subjects}`; times are days from the landmark.
pub fn os_json(r: &Report, os: &Os) -> Value {
    let criteria: Map<String, Value> = r
        .criteria
        .iter()
        .zip(&os.criteria)
        .map(|(c, x)| (c.label.clone(), os_criterion_json(x)))
        .collect();
    json!({
        "file": os.file, "landmark_days": os.landmark_days, "conf_type": os.conf_type.name(),
        "ties": TIES, "criteria": criteria,
        "missing_outcome": os.missing_outcome, "unknown_subjects": os.unknown_subjects,
    })
}

fn os_criterion_json(x: &OsCriterion) -> Value {
    let cats: Vec<Value> = x
        .groups
        .iter()
        .enumerate()
        .map(|(g, grp)| {
            let hr = x
                .cox
                .as_ref()
                .and_then(|c| c.terms.iter().find(|t| t.group == g))
                .map(|t| json!({"value": opt(t.hr), "ci": [opt(t.lower), opt(t.upper)], "p": opt(t.p), "note": t.note}));
            json!({
                "category": grp.category, "class": grp.class, "n": grp.n, "deaths": grp.deaths,
                "median": quantile_json(Some(&grp.median)),
                "hr": if Some(g) == x.reference { json!("reference") } else { hr.unwrap_or(Value::Null) },
            })
        })
        .collect();
    json!({
        "before_landmark": x.before_landmark,
        "no_assessment": x.no_assessment,
        "reference": x.reference.map(|g| x.groups[g].category.clone()),
        "categories": cats,
        "logrank": x.logrank.as_ref().map(|l| json!({"chisq": r6(l.chisq), "df": l.df, "p": r6(l.p)})),
        "concordance": x.concordance.map(|c| r6(c.c)),
    })
}

fn days(x: Option<f64>) -> String {
    match x {
        Some(v) if v.fract() == 0.0 => format!("{v}"),
        Some(v) => format!("{v:.1}"),
        None => "NR".into(),
    }
}

pub fn median_text(q: Option<&Quantile>) -> String {
    match q {
        Some(q) => format!(
            "{} ({}, {})",
            days(q.estimate),
            days(q.lower),
            days(q.upper)
        ),
        None => "-".into(),
    }
}

pub fn rate_text(r: Option<&Rate>) -> String {
    let p = |x: Option<f64>| x.map(|v| format!("{:.0}", v * 100.0)).unwrap_or("-".into());
    match r {
        Some(r) => format!("{} % ({}, {})", p(Some(r.surv)), p(r.lower), p(r.upper)),
        None => "-".into(),
    }
}

/// A p-value as printed: three decimals, or `< 0.001`.
/// A landmark group's hazard ratio against the reference category, with its CI, and its p
/// (text and HTML reports write the same cells).
pub(super) fn hr_cells(x: &OsCriterion, g: usize) -> (String, String) {
    if Some(g) == x.reference {
        return ("reference".to_string(), String::new());
    }
    let term = x
        .cox
        .as_ref()
        .and_then(|c| c.terms.iter().find(|t| t.group == g));
    match term {
        Some(t) => match (t.hr, t.lower, t.upper) {
            (Some(h), Some(l), Some(u)) => (
                format!("{h:.2} ({l:.2}, {u:.2})"),
                t.p.map(p_text).unwrap_or_default(),
            ),
            (Some(h), _, _) => (format!("{h:.2} (no deaths)"), String::new()),
            _ => ("-".into(), t.note.unwrap_or("").to_string()),
        },
        None => ("-".into(), String::new()),
    }
}

pub(super) fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The PFS section of the text report.
pub fn pfs_text(r: &Report, p: &Pfs, table: impl Fn(&[Vec<String>]) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nProgression-free survival (days from the start; Kaplan-Meier, median with Brookmeyer-Crowley 95 % CI, {} transform)",
        p.conf_type.name()
    );
    let mut rows = vec![vec![
        "".to_string(),
        "n".into(),
        "events".into(),
        "censored".into(),
        "median (95 % CI)".into(),
        format!("{:.0} days", MONTH_6),
        format!("{:.0} days", MONTH_12),
    ]];
    for (i, x) in p.criteria.iter().enumerate() {
        rows.push(vec![
            letter(i),
            x.n.to_string(),
            x.events.to_string(),
            x.censored.to_string(),
            median_text(x.median.as_ref()),
            rate_text(x.rate_6m.as_ref()),
            rate_text(x.rate_12m.as_ref()),
        ]);
    }
    out.push_str(&table(&rows));
    out.push_str(
        "  NR: not reached. Rates at 6 and 12 months with 95 % CI; '-' past the last follow-up.\n",
    );
    for x in &p.pairs {
        let (a, b) = (letter(x.a), letter(x.b));
        let _ = writeln!(
            out,
            "  {a}-{b}: same date {}, different dates {}{}, event under {a} only {}, under {b} only {}",
            x.same,
            x.differ.len(),
            x.shift()
                .map(|(m, lo, hi)| format!(" ({b} - {a}: median {m} days, {lo} to {hi})"))
                .unwrap_or_default(),
            list(&x.only_a),
            list(&x.only_b),
        );
    }
    let _ = r;
    out
}

/// How many, and the first few: `3 (P03, P04, P09)`.
pub(super) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "0".into()
    } else if names.len() <= 8 {
        format!("{} ({})", names.len(), names.join(", "))
    } else {
        format!("{} ({}, …)", names.len(), names[..8].join(", "))
    }
}

/// The OS section of the text report.
pub fn os_text(r: &Report, os: &Os, table: impl Fn(&[Vec<String>]) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nOverall survival by best response at the {}-day landmark ({}; days from the landmark)",
        os.landmark_days, os.file
    );
    for (i, x) in os.criteria.iter().enumerate() {
        let _ = writeln!(
            out,
            "{} {}: left out {} (died or censored before the landmark), {} (no assessment before it)",
            letter(i),
            r.criteria[i].label,
            x.before_landmark,
            x.no_assessment
        );
        let reference = x.reference.map(|g| x.groups[g].category.clone());
        let mut rows = vec![vec![
            "category".to_string(),
            "n".into(),
            "deaths".into(),
            "median OS (95 % CI)".into(),
            format!(
                "HR vs {} (95 % CI)",
                reference.clone().unwrap_or_else(|| "-".into())
            ),
            "p".into(),
        ]];
        for (g, grp) in x.groups.iter().enumerate() {
            let (hr, p) = hr_cells(x, g);
            rows.push(vec![
                format!("{} ({})", grp.category, grp.class),
                grp.n.to_string(),
                grp.deaths.to_string(),
                median_text(Some(&grp.median)),
                hr,
                p,
            ]);
        }
        out.push_str(&table(&rows));
        let _ = writeln!(
            out,
            "  log-rank {}; Harrell's C of the category order {}",
            x.logrank
                .as_ref()
                .map(|l| format!(
                    "chi-square {:.2} on {} df, p {}",
                    l.chisq,
                    l.df,
                    p_text(l.p)
                ))
                .unwrap_or_else(|| "not computable (fewer than two categories or no death)".into()),
            x.concordance
                .map(|c| format!("{:.3}", c.c))
                .unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(
        out,
        "  Cox model with {TIES} ties; Wald 95 % CI. C: share of comparable pairs in which the better-ranked category lived longer (0.5 = no discrimination)."
    );
    out
}
