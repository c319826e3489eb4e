//! PFS and landmark OS in the HTML report: tables and Kaplan–Meier plots.

use std::fmt::Write;

use super::charts::{esc, km_plot};
use super::model::{letter, Report};
use super::pfs::{MONTH_12, MONTH_6};
use super::survival_report::{median_text, rate_text};
use crate::survival::TIES;

fn th(cols: &[(&str, bool)]) -> String {
    let mut h = String::from("<table><thead><tr>");
    for (c, num) in cols {
        let _ = write!(
            h,
            "<th{}>{}</th>",
            if *num { r#" class="num""# } else { "" },
            esc(c)
        );
    }
    h.push_str("</tr></thead><tbody>\n");
    h
}

fn tr(cells: &[(String, bool)]) -> String {
    let mut h = String::from("<tr>");
    for (c, num) in cells {
        let _ = write!(
            h,
            "<td{}>{}</td>",
            if *num { r#" class="num""# } else { "" },
            esc(c)
        );
    }
    h.push_str("</tr>\n");
    h
}

fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption>{}</figcaption></figure>\n",
        esc(caption)
    )
}

/// The PFS section, and the OS section when outcomes were given.
pub fn render(r: &Report) -> String {
    let mut h = String::from("<h2>Progression-free survival</h2>\n");
    let p = &r.pfs;
    h.push_str(&th(&[
        ("", false),
        ("n", true),
        ("events", true),
        ("censored", true),
        ("median, days (95 % CI)", true),
        (&format!("PFS at {:.0} days", MONTH_6), true),
        (&format!("PFS at {:.0} days", MONTH_12), true),
    ]));
    for (i, x) in p.criteria.iter().enumerate() {
        h.push_str(&tr(&[
            (format!("{} {}", letter(i), r.criteria[i].label), false),
            (x.n.to_string(), true),
            (x.events.to_string(), true),
            (x.censored.to_string(), true),
            (median_text(x.median.as_ref()), true),
            (rate_text(x.rate_6m.as_ref()), true),
            (rate_text(x.rate_12m.as_ref()), true),
        ]));
    }
    h.push_str("</tbody></table>\n");
    let curves: Vec<(String, &crate::survival::KaplanMeier)> = p
        .criteria
        .iter()
        .enumerate()
        .filter_map(|(i, x)| {
            x.km.as_ref()
                .map(|k| (format!("{} {}", letter(i), r.criteria[i].label), k))
        })
        .collect();
    if !curves.is_empty() {
        h.push_str(&figure(
            &km_plot("Progression-free survival", "days from the start of treatment", &curves),
            "Kaplan–Meier estimate of progression-free survival under each criterion (ticks: censored); numbers at risk below the axis.",
        ));
    }
    if !p.pairs.is_empty() {
        h.push_str(&th(&[
            ("pair", false),
            ("same date", true),
            ("different dates", true),
            ("shift of the 2nd, days (median, range)", true),
            ("event under the 1st only", false),
            ("event under the 2nd only", false),
        ]));
        for x in &p.pairs {
            h.push_str(&tr(&[
                (format!("{}-{}", letter(x.a), letter(x.b)), false),
                (x.same.to_string(), true),
                (x.differ.len().to_string(), true),
                (
                    x.shift()
                        .map(|(m, lo, hi)| format!("{m} ({lo} to {hi})"))
                        .unwrap_or_else(|| "-".into()),
                    true,
                ),
                (super::survival_report::list(&x.only_a), false),
                (super::survival_report::list(&x.only_b), false),
            ]));
        }
        h.push_str("</tbody></table>\n");
    }
    let _ = write!(
        h,
        r#"<p class="note">Progression is each ruleset's progression event (its <code>event progression</code> declaration); subjects without one are censored at their last adequate assessment, and an event after missed assessments at the last adequate assessment before the gap (FDA 2018). Median with the Brookmeyer–Crowley 95 % CI from pointwise {} intervals, as R's survfit.</p>"#,
        p.conf_type.name()
    );
    h.push('\n');
    let Some(os) = &r.os else { return h };
    let _ = writeln!(
        h,
        "<h2>Overall survival by response at the {}-day landmark</h2>",
        os.landmark_days
    );
    for (i, x) in os.criteria.iter().enumerate() {
        let _ = writeln!(h, "<h3>{} {}</h3>", letter(i), esc(&r.criteria[i].label));
        let reference = x
            .reference
            .map(|g| x.groups[g].category.clone())
            .unwrap_or_else(|| "-".into());
        h.push_str(&th(&[
            ("best response at the landmark", false),
            ("n", true),
            ("deaths", true),
            ("median OS, days (95 % CI)", true),
            (&format!("HR vs {reference} (95 % CI)"), true),
            ("p", true),
        ]));
        for (g, grp) in x.groups.iter().enumerate() {
            let (hr, pv) = super::survival_report::hr_cells(x, g);
            h.push_str(&tr(&[
                (format!("{} ({})", grp.category, grp.class), false),
                (grp.n.to_string(), true),
                (grp.deaths.to_string(), true),
                (median_text(Some(&grp.median)), true),
                (hr, true),
                (pv, true),
            ]));
        }
        h.push_str("</tbody></table>\n");
        let _ = writeln!(
            h,
            r#"<p class="note">Log-rank {}; Harrell's C of the category order {}. Left out: {} died or censored before the landmark, {} without an assessment before it.</p>"#,
            x.logrank
                .as_ref()
                .map(|l| {
                    format!(
                        "chi-square {:.2} on {} df, p {}",
                        l.chisq,
                        l.df,
                        super::survival_report::p_text(l.p)
                    )
                })
                .unwrap_or_else(|| "not computable".into()),
            x.concordance
                .map(|c| format!("{:.3}", c.c))
                .unwrap_or_else(|| "-".into()),
            x.before_landmark,
            x.no_assessment
        );
        let curves: Vec<(String, &crate::survival::KaplanMeier)> = x
            .groups
            .iter()
            .map(|g| (format!("{} (n={})", g.category, g.n), &g.km))
            .collect();
        if !curves.is_empty() {
            h.push_str(&figure(
                &km_plot(
                    &format!("Overall survival by best response at the landmark — {}", r.criteria[i].label),
                    "days from the landmark",
                    &curves,
                ),
                "Kaplan–Meier estimate of overall survival from the landmark, by best response up to it.",
            ));
        }
    }
    let _ = writeln!(
        h,
        r#"<p class="note">Outcomes from {}. Survival from the landmark; each category's best response uses the assessments on or before it. Cox model with {TIES} ties, Wald intervals; the reference is the largest category of class progressive. C: share of comparable pairs in which the better-ranked category lived longer (0.5: no discrimination).</p>"#,
        esc(&os.file)
    );
    h
}
