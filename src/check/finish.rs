//! After names and types: which categories each response can take and which can be undecided
//! by missing data, the checks that need both (tables, category comparisons, `overall`, best
//! response), the evaluation order, and the assembled IR.

use super::consistency::{check_best, check_category_uses, check_rules, names};
use super::domains::domains;
use super::ir::{self, CatId, DefLevel, ExprKind as K, Ty};
use super::merge::Merged;
use super::order::{check_depths, check_groups, evaluation_order, Place};
use super::resolved::Resolved;
use super::tables;
use super::unknown::undecidable;
use super::walk::for_each_expr;
use crate::diag::Diag;
use crate::syntax::ast::ItemKind;

/// The event that progression-free survival is built on.
pub const PROGRESSION_EVENT: &str = "progression";

pub(super) fn finish(m: &Merged, r: Resolved, out: &mut Vec<Diag>) -> Option<ir::Ruleset> {
    let mut diags: Vec<Diag> = vec![];
    let mut groups: Vec<ir::GroupDef> = r
        .groups
        .iter()
        .map(|g| {
            g.clone().unwrap_or(ir::GroupDef {
                name: String::new(),
                group: ir::Group::All,
                description: None,
            })
        })
        .collect();
    let group_places: Vec<Place> = r
        .group_slot
        .iter()
        .map(|&si| (m.slots[si].item.name.span, m.slots[si].src))
        .collect();
    // First, as every later pass follows groups through each other.
    let group_depth = check_groups(&mut groups, &group_places, &m.sources, &mut diags);

    let not_evaluable: Option<CatId> = m
        .categories
        .iter()
        .position(|c| c.class.as_deref() == Some("not-evaluable"));
    let nes: Vec<usize> = m
        .categories
        .iter()
        .enumerate()
        .filter(|(_, c)| c.class.as_deref() == Some("not-evaluable"))
        .map(|(i, _)| i)
        .collect();
    if nes.len() > 1 {
        let c = &m.categories[nes[1]];
        diags.push(
            Diag::error(
                "crit::categories",
                "more than one category has the class `not-evaluable`",
            )
            .label(c.span, "a second one")
            .help("one category stands for \"not evaluable\"; give the others another class")
            .with_src(&m.sources[c.src]),
        );
    }

    let mut defs: Vec<ir::Def> = r
        .def_slot
        .iter()
        .enumerate()
        .map(|(id, &si)| {
            let slot = &m.slots[si];
            let item = &slot.item;
            let text = m.sources[slot.src].inner();
            ir::Def {
                name: if slot.hidden {
                    format!("{} ({})", item.name.node, slot.origin)
                } else {
                    item.name.node.clone()
                },
                level: r.def_level[id],
                body: r.bodies[id].clone().unwrap_or(ir::Body::Rules(vec![])),
                ty: r.def_ty[id],
                domain: vec![],
                is_response: matches!(item.kind, ItemKind::Response(_) | ItemKind::Table(_))
                    && !slot.hidden,
                hidden: slot.hidden,
                description: item.description.clone(),
                cite: item.cite.clone(),
                src: slot.src,
                origin: slot.origin.clone(),
                overrides: slot.overrides.clone(),
                parent: slot.super_slot.and_then(|s| r.slot_def[s]),
                span: item.name.span,
                line: ir::line_of(text, item.span.start),
            }
        })
        .collect();

    check_depths(&defs, &group_depth, &m.sources, &mut diags);
    // Every later pass reads categories, and a category name that did not resolve stands for the
    // first one: without categories there is nothing more to check.
    if m.categories.is_empty() {
        let (span, src) = m
            .slots
            .first()
            .map_or((Default::default(), m.sources.len() - 1), |s| {
                (s.item.name.span, s.src)
            });
        diags.push(
            Diag::error("crit::categories", "the ruleset declares no categories")
                .label(span, "no `categories` block declares what responses can be")
                .help("declare them in a `categories` block, one per line with its class, e.g. `CR complete`, `PD progressive`, `NE not-evaluable`")
                .with_src(&m.sources[src]),
        );
        out.append(&mut diags);
        return None;
    }
    let unknown = undecidable(&defs, &groups);
    let (domains, needs_ne) = domains(&defs, &groups, &unknown, not_evaluable);
    for (i, d) in defs.iter_mut().enumerate() {
        d.domain = domains[i].iter().copied().collect();
        if needs_ne[i] && not_evaluable.is_none() && !d.hidden {
            diags.push(
                Diag::error("crit::categories", format!("`{}` can be undecided when data is missing, but no category is not-evaluable", d.name))
                    .label(d.span, "can be undecided")
                    .help("declare one under `categories`, e.g. `NE not-evaluable \"not evaluable\"`")
                    .with_src(&m.sources[d.src]),
            );
        }
    }

    // Checks over every definition.
    for d in &defs {
        let src = &m.sources[d.src];
        match &d.body {
            ir::Body::Table(t) => tables::check_table(d, t, &defs, &m.categories, src, &mut diags),
            ir::Body::Rules(rs) => check_rules(rs, src, &mut diags),
            ir::Body::Expr(_) => {}
        }
        for_each_expr(&d.body, &mut |e| {
            check_category_uses(e, &defs, &m.categories, src, &mut diags)
        });
    }

    // The response named `overall`.
    let overall = defs.iter().position(|d| d.name == "overall" && !d.hidden);
    let overall = match overall {
        Some(o) if defs[o].ty == Ty::Cat && defs[o].level == DefLevel::Assessment => Some(o),
        Some(o) => {
            diags.push(
                Diag::error(
                    "crit::overall",
                    "`overall` must be a response (a category per assessment)",
                )
                .label(defs[o].span, "defined here")
                .help("write `response overall ...` or `table overall(...)`")
                .with_src(&m.sources[defs[o].src]),
            );
            None
        }
        None => {
            diags.push(
                Diag::error("crit::overall", "the ruleset has no response named `overall`")
                    .label(m.slots.first().map(|s| s.item.name.span).unwrap_or_default(), "")
                    .help("the timepoint response is the one named `overall`: add `response overall` or `table overall(...)`")
                    .with_src(m.sources.last().unwrap()),
            );
            None
        }
    };

    // Temporal references to runs of `overall` categories.
    if let Some(o) = overall {
        let dom: Vec<CatId> = defs[o].domain.clone();
        for d in &defs {
            let src = &m.sources[d.src];
            for_each_expr(&d.body, &mut |e| {
                let r = match &e.kind {
                    K::At(_, r) | K::DaysSince(r) | K::Nadir(_, r) => r,
                    _ => return,
                };
                if let ir::Ref::StartOf(c) = r {
                    if !dom.contains(c) {
                        diags.push(
                            Diag::error("crit::category", format!("`start of {}`: `overall` never is {}", m.categories[*c].name, m.categories[*c].name))
                                .label(e.span, "this run can never start")
                                .help(format!("`start of C` follows runs of the overall response; its categories are: {}", names(&dom, &m.categories)))
                                .with_src(src),
                        );
                    }
                }
            });
        }
    }

    let best = match (r.best, overall) {
        (Some(b), Some(o)) => {
            check_best(&b, &defs[o], &m.categories, &m.sources[b.src], &mut diags);
            Some(b)
        }
        (None, _) => {
            diags.push(
                Diag::error("crit::best", "the ruleset has no `best response` block")
                    .label(m.slots.first().map(|s| s.item.name.span).unwrap_or_default(), "")
                    .help("add `best response` with at least a `rank` line, e.g. `rank CR > PR > SD > PD > NE`")
                    .with_src(m.sources.last().unwrap()),
            );
            None
        }
        _ => None,
    };

    // A ruleset that can call progression says when progression happens.
    if !r.events.iter().any(|e| e.name == PROGRESSION_EVENT) {
        if let Some(c) = m
            .categories
            .iter()
            .find(|c| c.class.as_deref() == Some("progressive"))
        {
            diags.push(
                Diag::error(
                    "crit::event",
                    format!(
                        "`{}` is progressive, but the ruleset declares no progression event",
                        c.name
                    ),
                )
                .label(c.span, "a progressive category")
                .help(format!(
                    "declare when progression happens, dated at the assessment it finds, e.g.\n  event progression \"Progression\"\n    first {}\n(`first A followed by B` for a progression that a later assessment confirms, `first A pending at end when PARAM` for one still unconfirmed at the last assessment)",
                    c.name
                ))
                .with_src(&m.sources[c.src]),
            );
        }
    }

    let order = evaluation_order(&defs, &groups, &group_places, &m.sources, &mut diags);
    let responses = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_response)
        .map(|(i, _)| i)
        .collect();

    let chart_lines = m
        .chart
        .as_ref()
        .map(|(c, si)| chart_lines(c, &r.params, &m.sources[*si], &mut diags))
        .unwrap_or_default();
    let chart = m.chart.as_ref().and_then(|(chart, si)| {
        let name = &chart.value;
        let found = defs.iter().position(|d| !d.hidden && d.name == name.node);
        let ok = found.filter(|&d| {
            matches!(defs[d].ty, ir::Ty::Num { .. }) && defs[d].level == ir::DefLevel::Assessment
        });
        if ok.is_none() {
            let (message, help) = match found {
                Some(_) => (
                    format!(
                        "`chart {}`: `{}` is not a number of each assessment",
                        name.node, name.node
                    ),
                    "chart a value that is a number per assessment, such as a sum of diameters"
                        .to_string(),
                ),
                None => (
                    format!("`chart {}`: no value named `{}`", name.node, name.node),
                    crate::diag::suggest(&name.node, defs.iter().map(|d| d.name.as_str()), || {
                        "chart a value the ruleset defines".into()
                    }),
                ),
            };
            diags.push(
                Diag::error("crit::chart", message)
                    .label(name.span, "charted here")
                    .help(help)
                    .with_src(&m.sources[*si]),
            );
        }
        ok
    });

    let had_errors = diags.iter().any(|d| d.is_error());
    out.extend(diags);
    if had_errors || out.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(ir::Ruleset {
        id: m.id.clone(),
        title: m.title.clone(),
        version: m.version.clone(),
        cites: m.cites.clone(),
        chart,
        chart_lines,
        sources: m.sources.clone(),
        categories: m
            .categories
            .iter()
            .map(|c| ir::Category {
                name: c.name.clone(),
                class: c.class.clone(),
                description: c.description.clone(),
                response: c.response,
                control: c.control,
            })
            .collect(),
        not_evaluable,
        params: r.params,
        inputs: r.inputs,
        groups,
        defs,
        order,
        overall: overall?,
        responses,
        best: best?,
        events: r.events,
        rejects: r.rejects,
    })
}

/// The params of `chart NAME lines ...`: each must be a param in percent (a line is drawn at
/// its value, negated for `-P`).
fn chart_lines(
    chart: &crate::syntax::ast::Chart,
    params: &[ir::Param],
    src: &crate::diag::Source,
    diags: &mut Vec<Diag>,
) -> Vec<(ir::ParamId, bool)> {
    let mut lines = vec![];
    for (name, down) in &chart.lines {
        let found = params.iter().position(|p| p.name == name.node);
        let (message, help) = match found {
            Some(p) if matches!(params[p].ty, Ty::Num { pct: true, .. }) => {
                lines.push((p, *down));
                continue;
            }
            Some(p) => (
                format!(
                    "`chart {} lines`: `{}` is not a param in percent",
                    chart.value.node, name.node
                ),
                format!(
                    "a reference line is a percent change, such as `param pr_decrease = 30 %`; `{}` is {}",
                    name.node,
                    match (&params[p].ty, &params[p].unit) {
                        (Ty::Bool, _) => "true or false".to_string(),
                        (_, Some(u)) => format!("in {u}"),
                        (_, None) => "a plain number".to_string(),
                    }
                ),
            ),
            None => (
                format!(
                    "`chart {} lines`: no param named `{}`",
                    chart.value.node, name.node
                ),
                crate::diag::suggest(&name.node, params.iter().map(|p| p.name.as_str()), || {
                    "name params in percent, `-` before a decrease: `lines -pr_decrease, +pd_increase`".into()
                }),
            ),
        };
        diags.push(
            Diag::error("crit::chart", message)
                .label(name.span, "a reference line")
                .help(help)
                .with_src(src),
        );
    }
    lines
}
