//! The evaluation order of definitions: each comes after what it reads at the same assessment;
//! a circle at one assessment is an error.

use super::ir::{self, DefId, ExprKind as K};
use crate::diag::Diag;

/// Definitions in an order where each comes after what it reads at the same assessment.
pub(super) fn evaluation_order(
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
