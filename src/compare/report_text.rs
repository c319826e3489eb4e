//! The text report of `crit compare`, and the side-by-side view of one subject (`--subject`).

use std::fmt::Write;

use super::{aligned_visits, letter, response_at, stats, Outcome, Report, SubjectRow};
use crate::data::model::format_date;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// Lays out rows of cells in columns: the first `left` columns aligned left, the others right.
pub(crate) fn table(rows: &[Vec<String>], left: usize, indent: &str) -> String {
    let ncols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let width = |j: usize| {
        rows.iter()
            .filter_map(|r| r.get(j))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..ncols).map(width).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (j, c) in r.iter().enumerate() {
            let align = if j < left { Align::Left } else { Align::Right };
            let pad = widths[j].saturating_sub(c.chars().count());
            if j > 0 {
                line.push_str("  ");
            }
            match align {
                Align::Left => {
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `37.5 %`
pub fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.1} %", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// `[8.5, 75.5]` (percent)
pub fn pct_ci(ci: Option<(f64, f64)>) -> String {
    ci.map(|(l, h)| format!("[{:.1}, {:.1}]", l * 100.0, h * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// A rate as `3/8  37.5 % [8.5, 75.5]`.
pub fn rate(r: &stats::Rate) -> String {
    format!("{}/{}  {} {}", r.count, r.n, pct(r.value), pct_ci(r.ci))
}

pub fn num3(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

pub fn ci3(ci: Option<(f64, f64)>) -> String {
    ci.map(|(l, h)| format!("[{l:.3}, {h:.3}]"))
        .unwrap_or_else(|| "-".into())
}

pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A category with its class when they differ, e.g. `PD (progressive)`.
pub fn category(o: &Outcome) -> String {
    match &o.best {
        Some(c) if *c != o.best_class => format!("{c} ({})", o.best_class),
        Some(c) => c.to_string(),
        None => "none".into(),
    }
}

fn cell(s: &SubjectRow, i: usize) -> String {
    match &s.per[i] {
        Ok(o) => category(o),
        Err(_) => "data error".into(),
    }
}

fn progression(o: Option<&Outcome>) -> String {
    match o.and_then(|o| o.first_progression.as_ref()) {
        Some((v, d)) => format!("{} {v}", format_date(*d)),
        None => "-".into(),
    }
}

/// A table of subjects: subject, reader, then one cell per criterion.
fn subject_table(
    r: &Report,
    subjects: &[&SubjectRow],
    cell: impl Fn(&SubjectRow, usize) -> String,
) -> String {
    let k = r.criteria.len();
    let mut rows = vec![["subject".to_string(), "reader".into()]
        .into_iter()
        .chain((0..k).map(letter))
        .collect::<Vec<_>>()];
    for s in subjects {
        rows.push(
            [
                s.subject.clone(),
                s.reader.clone().unwrap_or_else(|| "-".into()),
            ]
            .into_iter()
            .chain((0..k).map(|i| cell(s, i)))
            .collect(),
        );
    }
    table(&rows, 2 + k, "  ")
}

/// One line per subject and criterion that disagrees with the first: whether the best response
/// is reclassified or only timepoints differ, where they first differ and why.
fn why(subjects: &[&SubjectRow]) -> String {
    let mut out = String::new();
    for s in subjects {
        for d in &s.divergences {
            let (a, b) = (letter(d.a), letter(d.b));
            let kind = if d.reclassified(s) {
                "reclassified"
            } else {
                "timepoints only"
            };
            let _ = writeln!(out, "  {} {a}–{b}  {kind} · {}", s.name(), d.line([&a, &b]));
        }
    }
    out
}

/// The whole report.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let n_inc = r.included().count();
    let n_exc = r.subjects.len() - n_inc;
    let _ = writeln!(
        out,
        "Comparison of {} criteria on {}",
        r.criteria.len(),
        r.data
    );
    let _ = writeln!(
        out,
        "{} subjects; {n_inc} in the statistics{}",
        r.subjects.len(),
        if n_exc > 0 {
            format!(", {n_exc} excluded for data errors")
        } else {
            String::new()
        }
    );

    out.push_str("\nCriteria\n");
    let rows: Vec<Vec<String>> = r
        .criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let params = c
                .params
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let title = if params.is_empty() {
                c.title.clone()
            } else {
                format!("{}; {params}", c.title)
            };
            vec![letter(i), c.label.clone(), title]
        })
        .collect();
    out.push_str(&table(&rows, 3, "  "));

    out.push_str("\nResponse rates (exact Clopper-Pearson 95 % CI)\n");
    let mut rows = vec![vec![
        "".into(),
        "n".into(),
        "ORR".into(),
        "DCR".into(),
        format!("reclassified vs {}", letter(0)),
    ]];
    for (i, x) in r.rates.iter().enumerate() {
        rows.push(vec![
            letter(i),
            x.orr.n.to_string(),
            rate(&x.orr),
            rate(&x.dcr),
            x.reclassified
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    out.push_str(&table(&rows, 1, "  "));
    out.push_str("  ORR: best responses that count as a response (by default complete + partial); DCR: that count as disease control (by default complete + partial + stable); a category can say otherwise (`counts as ...`).\n");

    if !r.pairs.is_empty() {
        out.push_str("\nAgreement of best-response classes (Cohen's kappa, 95 % CI; exact McNemar test on responders)\n");
        let mut rows = vec![vec![
            "pair".to_string(),
            "n".into(),
            "agreement".into(),
            "kappa".into(),
            "95 % CI".into(),
            "resp. both".into(),
            "1st only".into(),
            "2nd only".into(),
            "neither".into(),
            "McNemar p".into(),
        ]];
        for p in &r.pairs {
            let [[both, a_only], [b_only, neither]] = p.responders;
            rows.push(vec![
                format!("{}-{}", letter(p.a), letter(p.b)),
                p.n().to_string(),
                pct(p.agreement()),
                num3(p.kappa.kappa),
                ci3(p.kappa.ci),
                both.to_string(),
                a_only.to_string(),
                b_only.to_string(),
                neither.to_string(),
                p_value(p.mcnemar_p),
            ]);
        }
        out.push_str(&table(&rows, 1, "  "));
        out.push_str("  Responders (complete or partial) under both criteria of the pair, the 1st or the 2nd only, or neither;\n");
        out.push_str("  the McNemar test uses the discordant pairs (1st only, 2nd only).\n");

        for p in &r.pairs {
            let _ = writeln!(
                out,
                "\nCross-tabulation {} (rows) x {} (columns)",
                letter(p.a),
                letter(p.b)
            );
            let mut rows = vec![std::iter::once(String::new())
                .chain(p.classes.iter().cloned())
                .chain(std::iter::once("total".into()))
                .collect::<Vec<_>>()];
            for (i, c) in p.classes.iter().enumerate() {
                let total: u64 = p.table[i].iter().sum();
                rows.push(
                    std::iter::once(c.clone())
                        .chain(p.table[i].iter().map(|n| n.to_string()))
                        .chain(std::iter::once(total.to_string()))
                        .collect(),
                );
            }
            let mut totals = vec!["total".to_string()];
            totals.extend(
                (0..p.classes.len())
                    .map(|j| p.table.iter().map(|row| row[j]).sum::<u64>().to_string()),
            );
            totals.push(p.n().to_string());
            rows.push(totals);
            out.push_str(&table(&rows, 1, "  "));
        }
    }

    out.push_str("\nReclassified subjects (best-response class differs)\n");
    let differing: Vec<&SubjectRow> = r.included().filter(|s| s.differs()).collect();
    if differing.is_empty() {
        out.push_str("  none\n");
    } else {
        out.push_str(&subject_table(r, &differing, cell));
    }

    out.push_str("\nWhere the criteria first differ, and why (each against A)\n");
    let diverging: Vec<&SubjectRow> = r.included().filter(|s| !s.divergences.is_empty()).collect();
    if diverging.is_empty() {
        out.push_str("  nowhere: every timepoint and best response agrees\n");
    } else {
        out.push_str(&why(&diverging));
    }

    let prog: Vec<&SubjectRow> = r
        .included()
        .filter(|s| {
            let first = s
                .outcome(0)
                .and_then(|o| o.first_progression.as_ref().map(|p| p.1));
            (1..r.criteria.len()).any(|i| {
                s.outcome(i)
                    .and_then(|o| o.first_progression.as_ref().map(|p| p.1))
                    != first
            })
        })
        .collect();
    out.push_str("\nFirst progression that differs\n");
    if prog.is_empty() {
        out.push_str("  none\n");
    } else {
        out.push_str(&subject_table(r, &prog, |s, i| progression(s.outcome(i))));
    }

    out.push_str(&super::survival_report::pfs_text(r, &r.pfs, |rows| {
        table(rows, 1, "  ")
    }));
    if let Some(os) = &r.os {
        out.push_str(&super::survival_report::os_text(r, os, |rows| {
            table(rows, 1, "  ")
        }));
    }

    if n_exc > 0 || !r.file_errors.is_empty() {
        out.push_str("\nExcluded from the statistics (data errors)\n");
        for e in &r.file_errors {
            let _ = writeln!(out, "  {e}");
        }
        for s in r.excluded() {
            for (i, res) in s.per.iter().enumerate() {
                if let Err(m) = res {
                    let _ = writeln!(
                        out,
                        "  {} under {}: {}",
                        s.name(),
                        letter(i),
                        m.replace('\n', "\n    ")
                    );
                }
            }
        }
    }
    out
}

/// One subject (or several readers of one subject) side by side: a table of visits with the
/// response under each criterion, then each criterion's explanation.
pub fn subject_view(r: &Report) -> String {
    let mut out = String::new();
    for s in &r.subjects {
        let _ = writeln!(out, "Subject {}", s.name());
        let mut rows = vec![["visit".to_string(), "date".into()]
            .into_iter()
            .chain((0..r.criteria.len()).map(letter))
            .collect::<Vec<_>>()];
        let visits = aligned_visits(s);
        for (k, (v, d)) in visits.iter().enumerate() {
            let mut row = vec![v.clone(), format_date(*d)];
            for i in 0..r.criteria.len() {
                row.push(match (k, response_at(s, i, *d)) {
                    (0, _) => "baseline".into(),
                    (_, Some(Some(c))) => c.to_string(),
                    (_, Some(None)) => "none".into(),
                    (_, None) => "-".into(),
                });
            }
            rows.push(row);
        }
        rows.push(
            ["best response".to_string(), String::new()]
                .into_iter()
                .chain((0..r.criteria.len()).map(|i| cell(s, i)))
                .collect(),
        );
        rows.push(
            ["first progression".to_string(), String::new()]
                .into_iter()
                .chain((0..r.criteria.len()).map(|i| progression(s.outcome(i))))
                .collect(),
        );
        out.push_str(&table(&rows, 2 + r.criteria.len(), "  "));
        let _ = writeln!(
            out,
            "  best-response classes {}",
            if s.differs() { "differ" } else { "agree" }
        );
        for d in &s.divergences {
            let (a, b) = (letter(d.a), letter(d.b));
            let _ = writeln!(out, "  {a}–{b} first differ at {}", d.line([&a, &b]));
            for (name, reads) in [&a, &b].iter().zip(&d.reads) {
                for line in reads {
                    let _ = writeln!(out, "    {name}: {line}");
                }
            }
        }
        for (i, c) in r.criteria.iter().enumerate() {
            let _ = writeln!(out, "\n{}  {}", letter(i), c.label);
            match &s.per[i] {
                Ok(o) => out.push_str(o.explanation.as_deref().unwrap_or("")),
                Err(m) => {
                    let _ = writeln!(out, "data error: {m}");
                }
            }
        }
        out.push('\n');
    }
    out
}
