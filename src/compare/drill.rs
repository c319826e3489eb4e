//! The HTML report's drill-down: a section per subject with its responses side by side, visit by
//! visit, where and why the criteria first differ, and each criterion's explanation.

use std::fmt::Write;

use super::charts::{esc, Palette};
use super::model::{aligned_visits, letter, select, Report, SubjectRow, DRILL_MAX};
use super::report_html::{chip, table, Col};
use crate::data::model::format_date;

/// The anchor of subject `j` (its index in the report).
pub fn anchor(j: usize) -> String {
    format!("s{}", j + 1)
}

/// The subjects that get a section: indices into the report's subjects.
pub fn drilled(r: &Report) -> Vec<usize> {
    select(&r.subjects, DRILL_MAX)
}

/// How the criteria see a subject: `reclassified` (best-response classes differ), `timepoints
/// only`, or agreeing.
pub fn disagreement(s: &SubjectRow) -> Option<&'static str> {
    if !s.included() {
        None
    } else if s.differs() {
        Some("reclassified")
    } else if s.changes() {
        Some("timepoints only")
    } else {
        None
    }
}

fn change(c: Option<f64>) -> String {
    match c {
        Some(v) => format!(r#" <span class="chg">{v:+.1} %</span>"#),
        None => String::new(),
    }
}

/// One subject's section.
fn section(r: &Report, p: &Palette, j: usize) -> String {
    let s = &r.subjects[j];
    let k = r.criteria.len();
    let mut h = format!(r#"<section class="subject" id="{}">"#, anchor(j));
    let kind = match disagreement(s) {
        Some(d) => format!(" <i>{d}</i>"),
        None if !s.included() => r#" <span class="error">data error</span>"#.into(),
        None => " <i>criteria agree</i>".into(),
    };
    let _ = writeln!(h, "<h3>{}{kind}</h3>", esc(&s.name()));

    let names: Vec<String> = (0..k)
        .map(|i| format!("{} <code>{}</code>", letter(i), esc(&r.criteria[i].label)))
        .collect();
    let head: Vec<Col> = [Col("visit", false), Col("date", false)]
        .into_iter()
        .chain(names.iter().map(|n| Col(n, false)))
        .collect();
    let visits = aligned_visits(s);
    let mut rows: Vec<(Option<&'static str>, Vec<String>)> = vec![];
    for (n, (visit, date)) in visits.iter().enumerate() {
        let mut cells = vec![esc(visit), format_date(*date)];
        let mut classes = vec![];
        for i in 0..k {
            let Some(o) = s.outcome(i) else {
                cells.push("—".into());
                continue;
            };
            if n == 0 {
                cells.push("baseline".into());
                continue;
            }
            cells.push(match o.timepoints.iter().find(|t| t.date == *date) {
                Some(t) => {
                    classes.push(&*t.class);
                    let ends = if t.ends { " ■" } else { "" };
                    let name = t.category.as_deref().unwrap_or("none");
                    format!("{}{ends}{}", chip(p, &t.class, name), change(t.change))
                }
                None => "—".into(),
            });
        }
        let differ = classes.windows(2).any(|w| w[0] != w[1]);
        rows.push((differ.then_some("differs"), cells));
    }
    let mut best = vec!["<b>best response</b>".to_string(), String::new()];
    best.extend((0..k).map(|i| match &s.per[i] {
        Ok(o) => format!(
            "{}{}",
            chip(p, &o.best_class, o.best.as_deref().unwrap_or("none")),
            change(o.best_change)
        ),
        Err(_) => r#"<span class="error">data error</span>"#.into(),
    }));
    rows.push((s.differs().then_some("differs"), best));
    h.push_str(&table(&head, rows));

    if !s.divergences.is_empty() {
        h.push_str("<ul class=\"why\">\n");
        for d in &s.divergences {
            let (a, b) = (letter(d.a), letter(d.b));
            let _ = write!(h, "<li>{a}–{b}: {}", esc(&d.line([&a, &b])));
            let reads: Vec<String> = [&a, &b]
                .iter()
                .zip(&d.reads)
                .flat_map(|(name, reads)| reads.iter().map(move |l| format!("{name}: {l}")))
                .collect();
            if !reads.is_empty() {
                let _ = write!(h, "<br/><small>reads {}</small>", esc(&reads.join("; ")));
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n");
    }
    for (i, c) in r.criteria.iter().enumerate() {
        let body = match &s.per[i] {
            Ok(o) => match &o.explanation {
                Some(e) => format!("<pre>{}</pre>", esc(e.trim_end())),
                None => continue,
            },
            Err(m) => format!(r#"<p class="error">{}</p>"#, esc(m)),
        };
        let _ = writeln!(
            h,
            "<details><summary>{} <code>{}</code>: explanation</summary>{body}</details>",
            letter(i),
            esc(&c.label)
        );
    }
    h.push_str("<p class=\"back\"><a href=\"#subjects\">↑ subjects</a></p></section>\n");
    h
}

/// The drill-down: a section per subject (at most [`DRILL_MAX`]: those the criteria disagree
/// about first).
pub fn render(r: &Report, p: &Palette, drilled: &[usize]) -> String {
    let mut h = String::from("<h2 id=\"drill\">Subject by subject</h2>\n");
    let n = r.subjects.len();
    let _ = write!(
        h,
        "<p class=\"note\">Each subject's timepoint responses side by side (percent change of the sum from baseline beside each; ■ the assessment after which the best response stops counting; rows whose classes differ are shaded), where and why the criteria first differ, and each criterion's explanation (open it)."
    );
    if drilled.len() < n {
        let _ = write!(
            h,
            " Showing {} of {n} subjects: every subject the criteria disagree about (best response or any timepoint) first, then the others in cohort order; <code>crit compare --subject ID</code> shows any subject.",
            drilled.len()
        );
    }
    h.push_str("</p>\n");
    for &j in drilled {
        h.push_str(&section(r, p, j));
    }
    h
}
