//! The HTML report of `crit compare`: one self-contained file (inline CSS and SVG, no script,
//! nothing fetched), well-formed XML (XHTML syntax) so that it can be checked and embedded.

use std::fmt::Write;

use super::charts::{self, esc, Palette};
use super::drill;
use super::report_text::{ci3, num3, p_value, pct, pct_ci};
use super::{letter, stats, Report, SubjectRow};
use crate::data::model::format_date;

const CSS: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: #222; margin: 2rem auto; max-width: 1360px; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; }
p.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { padding: 0.3rem 0.7rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: #fff4e5; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.88em; }
.chip { display: inline-block; padding: 0 0.45rem; border-radius: 0.6rem; font-size: 0.85rem; white-space: nowrap; }
.grid { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 0.3rem; background: #fff; display: inline-block; }
figcaption { width: 0; min-width: 100%; box-sizing: border-box; font-size: 0.85rem; color: #555; padding: 0.3rem 0.5rem 0.2rem; }
svg { max-width: 100%; height: auto; display: block; }
.legend span { margin-right: 1rem; }
.note { color: #555; font-size: 0.88rem; max-width: 60rem; }
.error { color: #a03000; }
tr.tpdiffers td { background: #f6f1fb; }
.chg { color: #555; font-size: 0.82rem; font-variant-numeric: tabular-nums; }
section.subject { border-top: 1px solid #e3e3e3; padding: 0.4rem 0 0.6rem; }
section.subject:target { background: #fffbe6; }
section.subject h3 { font-size: 1.05rem; margin: 0.6rem 0 0.2rem; }
ul.why li { margin-bottom: 0.3rem; }
details { margin: 0.25rem 0; }
summary { cursor: pointer; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.82rem; line-height: 1.35; }
p.back { font-size: 0.85rem; margin: 0.3rem 0; }
";

pub(super) fn chip(p: &Palette, class: &str, text: &str) -> String {
    let c = p.colour(class);
    let l = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    let fg = if l < 140.0 { "#FFFFFF" } else { "#222222" };
    format!(
        r#"<span class="chip" style="background: {}; color: {fg}" title="{}">{}</span>"#,
        p.hex(class),
        esc(class),
        esc(text)
    )
}

fn best_cell(p: &Palette, s: &SubjectRow, i: usize) -> String {
    match &s.per[i] {
        Ok(o) => chip(p, &o.best_class, o.best.as_deref().unwrap_or("none")),
        Err(_) => r#"<span class="error">data error</span>"#.into(),
    }
}

/// A column of an HTML table: its heading, and whether it holds numbers (right-aligned).
#[derive(Clone, Copy)]
pub(super) struct Col<'a>(pub &'a str, pub bool);

/// An HTML table: headings, then rows of cells already in HTML, each row with an optional class.
pub(super) fn table(
    head: &[Col],
    rows: impl IntoIterator<Item = (Option<&'static str>, Vec<String>)>,
) -> String {
    let num = |j: usize| head.get(j).is_some_and(|c| c.1);
    let mut h = String::from("<table><thead><tr>");
    for c in head {
        let _ = write!(
            h,
            "<th{}>{}</th>",
            if c.1 { r#" class="num""# } else { "" },
            c.0
        );
    }
    h.push_str("</tr></thead><tbody>\n");
    for (class, cells) in rows {
        match class {
            Some(c) => {
                let _ = write!(h, r#"<tr class="{c}">"#);
            }
            None => h.push_str("<tr>"),
        }
        for (j, c) in cells.iter().enumerate() {
            let _ = write!(
                h,
                "<td{}>{c}</td>",
                if num(j) { r#" class="num""# } else { "" }
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h
}

/// A chart with its caption; `class` names the kind of chart.
pub(super) fn figure(class: &str, svg: &str, caption: &str) -> String {
    format!("<figure class=\"{class}\">{svg}<figcaption>{caption}</figcaption></figure>\n")
}

/// Where and why the criteria first differ, one line per subject and criterion against A.
/// What a waterfall's dashed lines are: each criterion's `chart ... lines` params with their
/// values (once when the criteria of the group agree), or that there are none.
fn lines_caption(r: &Report, group: &[usize]) -> String {
    let of = |i: usize| {
        r.criteria[i]
            .lines
            .iter()
            .map(|(name, v)| {
                let v = if v.round() == 0.0 {
                    "0".to_string()
                } else {
                    format!("{v:+.0}").replace('-', "−")
                };
                format!("{v} % (<code>{}</code>)", esc(name))
            })
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let same = group
        .iter()
        .all(|&i| r.criteria[i].lines == r.criteria[group[0]].lines);
    if group.iter().all(|&i| r.criteria[i].lines.is_empty()) {
        let whose = if group.len() > 1 {
            "these rulesets name"
        } else {
            "the ruleset names"
        };
        format!("No reference lines: {whose} no params for them (<code>chart NAME lines -P, +Q</code>).")
    } else if same {
        format!("Dashed lines: {}.", of(group[0]))
    } else {
        let each: Vec<String> = group
            .iter()
            .map(|&i| {
                let l = of(i);
                format!(
                    "<b>{}</b> {}",
                    letter(i),
                    if l.is_empty() { "none".into() } else { l }
                )
            })
            .collect();
        format!("Dashed lines: {}.", each.join("; "))
    }
}

fn divergences(r: &Report, drilled: &[usize]) -> String {
    let mut h = String::from("<h2 id=\"why\">Where the criteria first differ, and why</h2>\n");
    let rows: Vec<(usize, &SubjectRow, &super::Divergence)> = r
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| s.included())
        .flat_map(|(j, s)| s.divergences.iter().map(move |d| (j, s, d)))
        .collect();
    if rows.is_empty() {
        h.push_str("<p>Nowhere: every timepoint and best response agrees.</p>\n");
        return h;
    }
    h.push_str("<ul class=\"why\">\n");
    for (j, s, d) in rows {
        let (a, b) = (letter(d.a), letter(d.b));
        let kind = if d.reclassified(s) {
            "reclassified"
        } else {
            "timepoints only"
        };
        let name = match drilled.binary_search(&j) {
            Ok(_) => format!("<a href=\"#{}\">{}</a>", drill::anchor(j), esc(&s.name())),
            Err(_) => esc(&s.name()),
        };
        let _ = writeln!(
            h,
            "<li><b>{name}</b> {a}–{b} <i>{kind}</i> · {}</li>",
            esc(&d.line([&a, &b]))
        );
    }
    h.push_str("</ul>\n");
    h
}

/// Renders the report.
pub fn render(r: &Report) -> String {
    let palette = Palette::new(&r.classes);
    let k = r.criteria.len();
    let n_inc = r.included().count();
    let n_exc = r.subjects.len() - n_inc;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(h, "<title>crit compare — {}</title>", esc(&r.data));
    let _ = writeln!(h, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(h, "<h1>Comparison of {k} response criteria</h1>");
    let _ = writeln!(
        h,
        r#"<p class="sub">Data <code>{}</code> · {} subjects · {n_inc} in the statistics{}</p>"#,
        esc(&r.data),
        r.subjects.len(),
        if n_exc > 0 {
            format!(" · {n_exc} excluded for data errors")
        } else {
            String::new()
        }
    );

    h.push_str("<h2>Criteria</h2>\n");
    let rows = r.criteria.iter().enumerate().map(|(i, c)| {
        let params = c
            .params
            .iter()
            .map(|(n, v)| format!("<code>{}</code> = {}", esc(n), esc(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let cells = vec![
            format!("<b>{}</b>", letter(i)),
            format!("<code>{}</code>", esc(&c.label)),
            format!("{} (<code>{}</code>)", esc(&c.title), esc(&c.id)),
            if params.is_empty() {
                "—".into()
            } else {
                params
            },
        ];
        (None, cells)
    });
    let head = [
        Col("", false),
        Col("label", false),
        Col("ruleset", false),
        Col("overrides", false),
    ];
    h.push_str(&table(&head, rows));
    h.push_str(r#"<p class="legend">Response classes: "#);
    for c in palette.classes() {
        let _ = write!(h, "<span>{}</span>", chip(&palette, c, c));
    }
    h.push_str("</p>\n");

    h.push_str("<h2>Response rates</h2>\n");
    let reclassified = format!("reclassified vs {}", letter(0));
    let head = [
        Col("", false),
        Col("n", true),
        Col("ORR", true),
        Col("95 % CI", true),
        Col("DCR", true),
        Col("95 % CI", true),
        Col(&reclassified, true),
    ];
    let rows = r.rates.iter().enumerate().map(|(i, x)| {
        let rate = |x: &stats::Rate| format!("{}/{} ({})", x.count, x.n, pct(x.value));
        let cells = vec![
            format!("<b>{}</b>", letter(i)),
            x.orr.n.to_string(),
            rate(&x.orr),
            pct_ci(x.orr.ci),
            rate(&x.dcr),
            pct_ci(x.dcr.ci),
            x.reclassified
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
        ];
        (None, cells)
    });
    h.push_str(&table(&head, rows));
    h.push_str(&figure("rates", &charts::rates_forest(r), "Objective response rate (best responses that count as a response) and disease control rate (that count as disease control), exact Clopper–Pearson 95 % intervals."));

    if !r.pairs.is_empty() {
        h.push_str("<h2>Agreement</h2>\n");
        let head = [
            Col("pair", false),
            Col("n", true),
            Col("agreement", true),
            Col("kappa", true),
            Col("95 % CI", true),
            Col("responders: both", true),
            Col("first only", true),
            Col("second only", true),
            Col("neither", true),
            Col("McNemar p", true),
            Col("timepoints differ", true),
            Col("subjects", true),
        ];
        let rows = r.pairs.iter().map(|p| {
            let [[both, a_only], [b_only, neither]] = p.responders;
            let cells = vec![
                format!("<b>{} – {}</b>", letter(p.a), letter(p.b)),
                p.n().to_string(),
                pct(p.agreement()),
                num3(p.kappa.kappa),
                ci3(p.kappa.ci),
                both.to_string(),
                a_only.to_string(),
                b_only.to_string(),
                neither.to_string(),
                esc(&p_value(p.mcnemar_p)),
                format!("{}/{}", p.timepoints.differ, p.timepoints.compared),
                p.timepoints.subjects.to_string(),
            ];
            (None, cells)
        });
        h.push_str(&table(&head, rows));
        h.push_str("<p class=\"note\">Agreement and Cohen's kappa compare best-response classes; the kappa interval uses Cohen's large-sample standard error. The McNemar test (exact, two-sided) compares responders (complete or partial) on the discordant pairs. Timepoints differ: assessments whose timepoint response classes differ, of those with a response under both; subjects: how many subjects have at least one.</p>\n");

        h.push_str("<h2>Cross-tabulations</h2>\n<div class=\"grid\">\n");
        for (pi, p) in r.pairs.iter().enumerate() {
            let caption = format!("Best-response classes: <b>{}</b> <code>{}</code> (rows) by <b>{}</b> <code>{}</code> (columns). Outlined: agreement.", letter(p.a), esc(&r.criteria[p.a].label), letter(p.b), esc(&r.criteria[p.b].label));
            h.push_str(&figure("heatmap", &charts::heatmap(r, pi), &caption));
        }
        h.push_str("</div>\n");

        h.push_str("<h2>Reclassification</h2>\n<div class=\"grid\">\n");
        for (pi, p) in r.pairs.iter().enumerate().filter(|(_, p)| p.a == 0) {
            let caption = format!("From <b>{}</b> <code>{}</code> (left) to <b>{}</b> <code>{}</code> (right); ribbon width is the number of subjects, darker ribbons change class.", letter(p.a), esc(&r.criteria[p.a].label), letter(p.b), esc(&r.criteria[p.b].label));
            h.push_str(&figure(
                "sankey",
                &charts::sankey(r, pi, &palette),
                &caption,
            ));
        }
        h.push_str("</div>\n");
    }

    let with_sum: Vec<usize> = (0..k).filter(|&i| r.criteria[i].has_sum).collect();
    let named = |i: usize| {
        format!(
            "<b>{}</b> <code>{}</code>",
            letter(i),
            esc(&r.criteria[i].label)
        )
    };
    let waterfalls: Vec<(Vec<usize>, String)> = charts::sum_groups(r)
        .into_iter()
        .filter_map(|g| charts::waterfall(r, &g, &palette).map(|s| (g, s)))
        .collect();
    let without: Vec<usize> = (0..k).filter(|&i| !r.criteria[i].has_sum).collect();
    if !waterfalls.is_empty() || !without.is_empty() {
        h.push_str("<h2 id=\"waterfall\">Waterfall plots</h2>\n<div class=\"grid\">\n");
        for (g, svg) in &waterfalls {
            let who = g.iter().map(|&i| named(i)).collect::<Vec<_>>().join(", ");
            let metric = esc(r.criteria[g[0]].charted.as_deref().unwrap_or("sum"));
            let shared = if g.len() > 1 {
                format!(" These criteria read the same <code>{metric}</code>, so it is drawn once: one bar per criterion, left to right, each coloured by that criterion's best-response class.")
            } else {
                String::new()
            };
            let caption = format!("{who}: per subject, the most negative percent change of <code>{metric}</code> from baseline over the assessments that count for the best response (up to and including the one that ends it, such as a progression), coloured by best-response class. {}{shared}", lines_caption(r, g));
            let _ = writeln!(
                h,
                "<figure class=\"waterfall\" data-criteria=\"{}\">{svg}<figcaption>{caption}</figcaption></figure>",
                g.iter().map(|&i| letter(i)).collect::<Vec<_>>().join(" ")
            );
        }
        h.push_str("</div>\n");
        for &i in &without {
            let _ = writeln!(
                h,
                "<p class=\"note nowaterfall\">No waterfall for {}: the ruleset names no number to chart (a <code>chart NAME</code> declaration, or a value named <code>{}</code>), so its metric cannot be shown as a change from baseline.</p>",
                named(i),
                super::SUM_VALUE
            );
        }
    }
    let spiders: Vec<(usize, (String, usize, usize))> = with_sum
        .iter()
        .filter_map(|&i| charts::spider(r, i, &palette).map(|s| (i, s)))
        .collect();
    if !spiders.is_empty() {
        h.push_str("<h2>Spider plots</h2>\n<div class=\"grid\">\n");
        for (i, (svg, shown, total)) in &spiders {
            let sample = if shown < total {
                format!(" Showing {shown} of {total} subjects: those whose timepoint responses differ between criteria first, then the others in cohort order.")
            } else {
                String::new()
            };
            let caption = format!("<b>{}</b> <code>{}</code>: percent change of <code>{}</code> over time; lines coloured by best-response class, dots by timepoint response class.{sample}", letter(*i), esc(&r.criteria[*i].label), esc(r.criteria[*i].charted.as_deref().unwrap_or("sum")));
            h.push_str(&figure("spider", svg, &caption));
        }
        h.push_str("</div>\n");
    }
    if let Some((svg, shown, total)) = charts::swimmer(r, &palette) {
        h.push_str("<h2 id=\"swimmer\">Swimmer plot</h2>\n");
        let lanes = (0..k)
            .map(|i| {
                format!(
                    "<b>{}</b> <code>{}</code>",
                    letter(i),
                    esc(&r.criteria[i].label)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sample = if shown < total {
            format!(" Showing {shown} of {total} subjects: those whose timepoint responses differ between criteria first, then the others in cohort order.")
        } else {
            String::new()
        };
        h.push_str(&figure("swimmer", &svg, &format!("Each subject has one lane per criterion ({lanes}); each segment ends at an assessment and shows its timepoint response class; segments after the assessment that ends the best response (◆, such as a progression) are pale, since they do not count; ◇ marks a progression the count goes on after (not confirmed, such as an unconfirmed progression); ▶ marks a lane nothing ended (ongoing). Subjects whose best-response classes differ are named in red.{sample}")));
    }

    h.push_str(&super::survival_html::render(r));
    let drilled = drill::drilled(r);
    h.push_str("<h2 id=\"subjects\">Subjects</h2>\n");
    let heads: Vec<String> = (0..k)
        .map(|i| format!("best {}", letter(i)))
        .chain((0..k).map(|i| format!("first progression {}", letter(i))))
        .collect();
    let head: Vec<Col> = [Col("subject", false), Col("reader", false)]
        .into_iter()
        .chain(heads.iter().map(|t| Col(t, false)))
        .chain(std::iter::once(Col("criteria differ", false)))
        .collect();
    let rows = r.subjects.iter().enumerate().map(|(j, s)| {
        let kind = drill::disagreement(s);
        let name = match drilled.binary_search(&j) {
            Ok(_) => format!("<a href=\"#{}\">{}</a>", drill::anchor(j), esc(&s.subject)),
            Err(_) => esc(&s.subject),
        };
        let mut cells = vec![name, esc(s.reader.as_deref().unwrap_or("—"))];
        cells.extend((0..k).map(|i| best_cell(&palette, s, i)));
        cells.extend((0..k).map(|i| {
            s.outcome(i)
                .and_then(|o| o.first_progression.as_ref())
                .map(|(v, d)| format!("{} ({})", format_date(*d), esc(v)))
                .unwrap_or_else(|| "—".into())
        }));
        cells.push(
            match (s.included(), kind) {
                (false, _) => r#"<span class="error">excluded</span>"#,
                (true, Some(k)) => k,
                (true, None) => "no",
            }
            .into(),
        );
        let class = match kind {
            Some("reclassified") => Some("differs"),
            Some(_) => Some("tpdiffers"),
            None => None,
        };
        (class, cells)
    });
    h.push_str(&table(&head, rows));
    if drilled.len() < r.subjects.len() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} of {} subjects link to their section below: those the criteria disagree about first.</p>",
            drilled.len(),
            r.subjects.len()
        );
    }

    h.push_str(&divergences(r, &drilled));
    h.push_str(&drill::render(r, &palette, &drilled));

    if n_exc > 0 || !r.file_errors.is_empty() {
        h.push_str("<h2>Excluded from the statistics</h2>\n<ul>\n");
        for e in &r.file_errors {
            let _ = writeln!(h, "<li class=\"error\">{}</li>", esc(e));
        }
        for s in r.excluded() {
            for (i, res) in s.per.iter().enumerate() {
                if let Err(m) = res {
                    let _ = writeln!(
                        h,
                        "<li><b>{}</b> under {}: <span class=\"error\">{}</span></li>",
                        esc(&s.name()),
                        letter(i),
                        esc(m)
                    );
                }
            }
        }
        h.push_str("</ul>\n");
    }

    h.push_str("<h2>Methods</h2>\n<p class=\"note\">Each criterion was evaluated on every subject; comparisons use the class of each category (a category without a class compares by its name). ");
    h.push_str("ORR counts best responses whose category counts as a response, DCR those that count as disease control: by default complete and partial responses count as both and stable disease as disease control; a ruleset's category can say otherwise (<code>counts as ...</code>). ");
    h.push_str("Intervals for rates are exact Clopper–Pearson 95 % intervals. Cohen's kappa is given with a Wald 95 % interval from Cohen's (1960) large-sample standard error sqrt(po(1 − po) / (n (1 − pe)²)). ");
    h.push_str("The McNemar test is the exact two-sided binomial test on the discordant responder pairs. Subjects with a data error under any criterion are excluded from the statistics; with several readers, each subject and reader counts as one unit. ");
    h.push_str("The sum is the ruleset's value named <code>sum</code>; its best change is the most negative percent change from baseline over the follow-up assessments.</p>\n");
    h.push_str("</body>\n</html>\n");
    h
}
