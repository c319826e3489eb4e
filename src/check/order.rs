//! After names and types: which categories each response can take, which expressions can be
//! undecided by missing data, checks that need both (tables, category comparisons, best
//! response), and the evaluation order of definitions.

use std::collections::BTreeSet;

use super::ir::{self, CatId, DefId, DefLevel, ExprKind as K, Lit, Ty};
use super::resolve::Resolver;
use super::tables;
use crate::diag::Diag;
use crate::syntax::ast::ItemKind;

/// May this expression be undecided (an interval) because data is missing?
pub fn may_be_unknown(e: &ir::Expr, defs_unknown: &[bool], groups: &[ir::GroupDef]) -> bool {
    let u = |x: &ir::Expr| may_be_unknown(x, defs_unknown, groups);
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Lit(_) | K::Param(_) | K::Field(_) | K::DaysSince(_) => false,
        K::Known(_) | K::Definitely(_) | K::TableCall(..) => false,
        K::Input(_) => true,
        K::Def(d) => defs_unknown[*d],
        K::Neg(x)
        | K::Abs(x)
        | K::Not(x)
        | K::At(x, _)
        | K::Nadir(x, _)
        | K::Last(x)
        | K::Ever(x)
        | K::In(x, ..) => u(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => u(a) || u(b),
        K::And(xs) | K::Or(xs) => xs.iter().any(u),
        K::If(c, a, b) => u(c) || u(a) || u(b),
        K::Agg(_, elem, g) => {
            elem.as_ref().is_some_and(|x| u(x)) || group_unknown(g, defs_unknown, groups)
        }
        K::OrganAgg(_, elem, filter) => {
            elem.as_ref().is_some_and(|x| u(x)) || filter.as_ref().is_some_and(|x| u(x))
        }
    }
}

fn group_unknown(g: &ir::Group, du: &[bool], groups: &[ir::GroupDef]) -> bool {
    match g {
        ir::Group::All => false,
        ir::Group::Named(id) => group_unknown(&groups[*id].group, du, groups),
        ir::Group::Where(b, c) => group_unknown(b, du, groups) || may_be_unknown(c, du, groups),
        ir::Group::Except(b, other) => {
            group_unknown(b, du, groups) || group_unknown(&groups[*other].group, du, groups)
        }
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            group_unknown(of, du, groups)
                || may_be_unknown(n, du, groups)
                || may_be_unknown(key, du, groups)
                || per_organ
                    .as_ref()
                    .is_some_and(|p| may_be_unknown(p, du, groups))
        }
    }
}

pub(super) fn finish(r: Resolver<'_>, best: Option<ir::Best>) -> Option<ir::Ruleset> {
    let m = r.m;
    let mut diags: Vec<Diag> = vec![];
    let groups: Vec<ir::GroupDef> = r
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

    // Which definitions can be undecided: fixpoint (definitions refer to each other in any order).
    let mut unknown = vec![false; defs.len()];
    loop {
        let mut changed = false;
        for (i, d) in defs.iter().enumerate() {
            if unknown[i] || d.ty == Ty::Cat {
                continue;
            }
            let u = match &d.body {
                ir::Body::Expr(e) => may_be_unknown(e, &unknown, &groups),
                ir::Body::Rules(rs) => rs.iter().any(|r| {
                    may_be_unknown(&r.head, &unknown, &groups)
                        || r.cond
                            .as_ref()
                            .is_some_and(|c| may_be_unknown(c, &unknown, &groups))
                }),
                ir::Body::Table(_) => false,
            };
            if u {
                unknown[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    // Domains of category-valued definitions: fixpoint as well.
    let mut domains: Vec<BTreeSet<CatId>> = vec![BTreeSet::new(); defs.len()];
    let mut needs_ne: Vec<bool> = vec![false; defs.len()];
    loop {
        let mut changed = false;
        for (i, d) in defs.iter().enumerate() {
            if d.ty != Ty::Cat {
                continue;
            }
            let mut dom = domains[i].clone();
            match &d.body {
                ir::Body::Rules(rs) => {
                    for rule in rs {
                        expr_domain(&rule.head, &domains, &mut dom);
                        let undecided = rule
                            .cond
                            .as_ref()
                            .is_some_and(|c| may_be_unknown(c, &unknown, &groups));
                        // Undecided per-lesion classes stay a set of categories (see eval).
                        if undecided && d.level == DefLevel::Assessment {
                            needs_ne[i] = true;
                        }
                    }
                }
                ir::Body::Table(t) => {
                    dom.extend(t.rows.iter().map(|row| row.output));
                    if t.columns
                        .iter()
                        .any(|c| may_be_unknown(c, &unknown, &groups))
                    {
                        needs_ne[i] = true;
                    }
                }
                ir::Body::Expr(e) => expr_domain(e, &domains, &mut dom),
            }
            if needs_ne[i] {
                if let Some(ne) = not_evaluable {
                    dom.insert(ne);
                }
            }
            if dom != domains[i] {
                domains[i] = dom;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
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

    let best = match (best, overall) {
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

    let order = evaluation_order(&defs, &groups, &m.sources, &mut diags);
    let responses = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_response)
        .map(|(i, _)| i)
        .collect();

    let had_errors = diags.iter().any(|d| d.is_error());
    r.diags.extend(diags);
    if had_errors || r.diags.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(ir::Ruleset {
        id: m.id.clone(),
        title: m.title.clone(),
        version: m.version.clone(),
        cites: m.cites.clone(),
        sources: m.sources.clone(),
        categories: m
            .categories
            .iter()
            .map(|c| ir::Category {
                name: c.name.clone(),
                class: c.class.clone(),
                description: c.description.clone(),
            })
            .collect(),
        not_evaluable,
        params: r.params.clone(),
        inputs: r.inputs.clone(),
        groups,
        defs,
        order,
        overall: overall?,
        responses,
        best: best?,
    })
}

fn names(cats: &[CatId], all: &[super::merge::MergedCategory]) -> String {
    cats.iter()
        .map(|c| all[*c].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn expr_domain(e: &ir::Expr, domains: &[BTreeSet<CatId>], out: &mut BTreeSet<CatId>) {
    match &e.kind {
        K::Lit(Lit::Cat(c)) => {
            out.insert(*c);
        }
        K::Def(d) | K::TableCall(d, _) => out.extend(domains[*d].iter().copied()),
        K::If(_, a, b) => {
            expr_domain(a, domains, out);
            expr_domain(b, domains, out);
        }
        K::At(x, _) | K::Last(x) => expr_domain(x, domains, out),
        _ => {}
    }
}

pub fn for_each_expr(body: &ir::Body, f: &mut dyn FnMut(&ir::Expr)) {
    match body {
        ir::Body::Expr(e) => walk(e, f),
        ir::Body::Rules(rs) => {
            for r in rs {
                walk(&r.head, f);
                if let Some(c) = &r.cond {
                    walk(c, f);
                }
            }
        }
        ir::Body::Table(t) => t.columns.iter().for_each(|c| walk(c, f)),
    }
}

pub fn walk(e: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    f(e);
    match &e.kind {
        K::Neg(x)
        | K::Abs(x)
        | K::Not(x)
        | K::At(x, _)
        | K::Nadir(x, _)
        | K::Last(x)
        | K::Ever(x)
        | K::Known(x)
        | K::Definitely(x)
        | K::In(x, ..) => walk(x, f),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            walk(a, f);
            walk(b, f);
        }
        K::And(xs) | K::Or(xs) | K::TableCall(_, xs) => xs.iter().for_each(|x| walk(x, f)),
        K::If(c, a, b) => {
            walk(c, f);
            walk(a, f);
            walk(b, f);
        }
        K::Agg(_, elem, g) => {
            if let Some(x) = elem {
                walk(x, f);
            }
            walk_group(g, f);
        }
        K::OrganAgg(_, elem, filter) => {
            for x in elem.iter().chain(filter.iter()) {
                walk(x, f);
            }
        }
        _ => {}
    }
}

fn walk_group(g: &ir::Group, f: &mut dyn FnMut(&ir::Expr)) {
    match g {
        ir::Group::Where(b, c) => {
            walk_group(b, f);
            walk(c, f);
        }
        ir::Group::Except(b, _) => walk_group(b, f),
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            walk(n, f);
            walk_group(of, f);
            walk(key, f);
            if let Some(p) = per_organ {
                walk(p, f);
            }
        }
        _ => {}
    }
}

/// The category-valued definition an expression reads, if any.
fn cat_source(e: &ir::Expr) -> Option<DefId> {
    match &e.kind {
        K::Def(d) => Some(*d),
        K::At(x, _) | K::Last(x) => cat_source(x),
        _ => None,
    }
}

fn check_category_uses(
    e: &ir::Expr,
    defs: &[ir::Def],
    cats: &[super::merge::MergedCategory],
    src: &crate::diag::Source,
    diags: &mut Vec<Diag>,
) {
    let (lhs, lits): (&ir::Expr, Vec<(CatId, ir::Span)>) = match &e.kind {
        K::Cmp(ir::CmpOp::Eq | ir::CmpOp::Ne, a, b) => match &b.kind {
            K::Lit(Lit::Cat(c)) => (a, vec![(*c, b.span)]),
            _ => return,
        },
        K::In(a, items, _) => (
            a,
            items
                .iter()
                .filter_map(|l| {
                    if let Lit::Cat(c) = l {
                        Some((*c, e.span))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
        _ => return,
    };
    let Some(d) = cat_source(lhs) else { return };
    let def = &defs[d];
    if def.ty != Ty::Cat {
        return;
    }
    for (c, span) in lits {
        if !def.domain.contains(&c) {
            diags.push(
                Diag::error(
                    "crit::category",
                    format!("`{}` is never {}", def.name, cats[c].name),
                )
                .label(span, "this comparison is always false")
                .help(format!(
                    "`{}` is one of: {}",
                    def.name,
                    names(&def.domain, cats)
                ))
                .with_src(src),
            );
        }
    }
}

fn check_rules(rules: &[ir::Rule], src: &crate::diag::Source, diags: &mut Vec<Diag>) {
    let text = src.inner();
    let mut seen: Vec<(String, usize)> = vec![];
    let mut after_otherwise = false;
    for r in rules {
        if after_otherwise {
            diags.push(
                Diag::warning("crit::unreachable", "this rule can never apply")
                    .label(r.span, "comes after a rule that always applies")
                    .help("rules are tried in order and `otherwise` always applies: move this rule above it, or delete it")
                    .with_src(src),
            );
            continue;
        }
        match &r.cond {
            None => after_otherwise = true,
            Some(c) => {
                if matches!(c.kind, K::Bool(false)) {
                    diags.push(
                        Diag::warning("crit::unreachable", "this rule can never apply")
                            .label(c.span, "always false")
                            .help("delete the rule or fix its condition")
                            .with_src(src),
                    );
                }
                let key: String = text[c.span.start..c.span.end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some((_, line)) = seen.iter().find(|(k, _)| *k == key) {
                    diags.push(
                        Diag::warning("crit::unreachable", "this rule can never apply")
                            .label(
                                c.span,
                                format!(
                                    "same condition as the rule on line {line}, which comes first"
                                ),
                            )
                            .help("rules are tried in order: the earlier rule always wins here")
                            .with_src(src),
                    );
                } else {
                    seen.push((key, r.line));
                }
            }
        }
    }
}

fn check_best(
    b: &ir::Best,
    overall: &ir::Def,
    cats: &[super::merge::MergedCategory],
    src: &crate::diag::Source,
    diags: &mut Vec<Diag>,
) {
    let missing: Vec<CatId> = overall
        .domain
        .iter()
        .copied()
        .filter(|c| !b.rank.contains(c))
        .collect();
    if !missing.is_empty() {
        let text = src.inner();
        let start = text
            .lines()
            .take(b.line - 1)
            .map(|l| l.len() + 1)
            .sum::<usize>();
        diags.push(
            Diag::error(
                "crit::best",
                format!(
                    "the best-response rank leaves out {}",
                    names(&missing, cats)
                ),
            )
            .label(
                ir::Span::new(start, start + 13),
                "rank declared in this block",
            )
            .help(format!(
                "`overall` can be any of {}; rank them all, best first",
                names(&overall.domain, cats)
            ))
            .with_src(src),
        );
    }
}

/// Definitions in an order where each comes after what it reads at the same assessment.
fn evaluation_order(
    defs: &[ir::Def],
    groups: &[ir::GroupDef],
    sources: &[crate::diag::Source],
    diags: &mut Vec<Diag>,
) -> Vec<DefId> {
    let deps: Vec<Vec<DefId>> = defs
        .iter()
        .map(|d| {
            let mut out = vec![];
            match &d.body {
                ir::Body::Expr(e) => same_time_deps(e, groups, &mut out),
                ir::Body::Rules(rs) => rs.iter().for_each(|r| {
                    same_time_deps(&r.head, groups, &mut out);
                    if let Some(c) = &r.cond {
                        same_time_deps(c, groups, &mut out);
                    }
                }),
                ir::Body::Table(t) => t
                    .columns
                    .iter()
                    .for_each(|c| same_time_deps(c, groups, &mut out)),
            }
            out
        })
        .collect();
    let mut state = vec![0u8; defs.len()];
    let mut order = vec![];
    let mut stack = vec![];
    fn visit(
        i: DefId,
        deps: &[Vec<DefId>],
        state: &mut [u8],
        order: &mut Vec<DefId>,
        stack: &mut Vec<DefId>,
        cycle: &mut Option<Vec<DefId>>,
    ) {
        if state[i] == 2 {
            return;
        }
        if state[i] == 1 {
            if cycle.is_none() {
                let pos = stack.iter().position(|&s| s == i).unwrap_or(0);
                *cycle = Some(stack[pos..].iter().copied().chain([i]).collect());
            }
            return;
        }
        state[i] = 1;
        stack.push(i);
        for &d in &deps[i] {
            visit(d, deps, state, order, stack, cycle);
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
    }
    let mut cycle = None;
    for i in 0..defs.len() {
        visit(i, &deps, &mut state, &mut order, &mut stack, &mut cycle);
    }
    if let Some(c) = cycle {
        let d = &defs[c[0]];
        let path: Vec<&str> = c.iter().map(|&i| defs[i].name.as_str()).collect();
        diags.push(
            Diag::error("crit::cycle", format!("definitions depend on each other in a circle: {}", path.join(" -> ")))
                .label(d.span, "part of the circle")
                .help("at one assessment each value must be computable before the ones that use it; refer to an earlier assessment with `previous(...)` or `last(...)` to break the circle")
                .with_src(&sources[d.src]),
        );
    }
    order
}

/// Definitions read at the same assessment (references to strictly earlier ones are not edges).
fn same_time_deps(e: &ir::Expr, groups: &[ir::GroupDef], out: &mut Vec<DefId>) {
    match &e.kind {
        K::Def(d) => out.push(*d),
        K::At(x, ir::Ref::Baseline) => same_time_deps(x, groups, out),
        K::At(..) | K::Nadir(..) | K::Last(_) | K::Ever(_) | K::DaysSince(_) => {}
        K::Neg(x) | K::Abs(x) | K::Not(x) | K::Known(x) | K::Definitely(x) | K::In(x, ..) => {
            same_time_deps(x, groups, out)
        }
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            same_time_deps(a, groups, out);
            same_time_deps(b, groups, out);
        }
        K::And(xs) | K::Or(xs) | K::TableCall(_, xs) => {
            xs.iter().for_each(|x| same_time_deps(x, groups, out))
        }
        K::If(c, a, b) => {
            same_time_deps(c, groups, out);
            same_time_deps(a, groups, out);
            same_time_deps(b, groups, out);
        }
        K::Agg(_, elem, g) => {
            if let Some(x) = elem {
                same_time_deps(x, groups, out);
            }
            group_deps(g, groups, out);
        }
        K::OrganAgg(_, elem, filter) => {
            for x in elem.iter().chain(filter.iter()) {
                same_time_deps(x, groups, out);
            }
        }
        _ => {}
    }
}

fn group_deps(g: &ir::Group, groups: &[ir::GroupDef], out: &mut Vec<DefId>) {
    match g {
        ir::Group::All => {}
        ir::Group::Named(id) => group_deps(&groups[*id].group, groups, out),
        ir::Group::Where(b, c) => {
            group_deps(b, groups, out);
            same_time_deps(c, groups, out);
        }
        ir::Group::Except(b, other) => {
            group_deps(b, groups, out);
            group_deps(&groups[*other].group, groups, out);
        }
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            same_time_deps(n, groups, out);
            group_deps(of, groups, out);
            same_time_deps(key, groups, out);
            if let Some(p) = per_organ {
                same_time_deps(p, groups, out);
            }
        }
    }
}
