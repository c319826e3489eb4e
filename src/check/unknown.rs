//! Which expressions can be undecided (an interval) because data is missing.

use super::ir::{self, ExprKind as K, Ty};

/// May this expression be undecided (an interval) because data is missing?
pub fn may_be_unknown(e: &ir::Expr, defs_unknown: &[bool], groups: &[ir::GroupDef]) -> bool {
    guarded(e, &[], defs_unknown, groups)
}

/// As `may_be_unknown`, where the `known` values are those a surrounding `known(x) and ...`
/// (or `not known(x) or ...`, or `... if known(x) else ...`) has already shown to be exact.
fn guarded(e: &ir::Expr, known: &[&ir::Expr], du: &[bool], groups: &[ir::GroupDef]) -> bool {
    if known.iter().any(|k| same(k, e)) {
        return false;
    }
    let u = |x: &ir::Expr| guarded(x, known, du, groups);
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Lit(_) | K::Param(_) | K::Field(_) | K::DaysSince(_) => false,
        K::Known(_) | K::Definitely(_) | K::TableCall(..) => false,
        K::Unknown => true,
        K::Input(_) => true,
        K::Def(d) => du[*d],
        K::Neg(x)
        | K::Abs(x)
        | K::Not(x)
        | K::At(x, _)
        | K::Nadir(x, _)
        | K::Last(x)
        | K::Ever(x)
        | K::Later(x)
        | K::In(x, ..) => u(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => u(a) || u(b),
        K::And(xs) | K::Or(xs) => {
            // Evaluated left to right: once `known(x)` holds (in `and`), or `not known(x)` fails
            // (in `or`), later operands see x exact; otherwise the result is already decided.
            let and = matches!(e.kind, K::And(_));
            let mut known: Vec<&ir::Expr> = known.to_vec();
            for x in xs {
                if guarded(x, &known, du, groups) {
                    return true;
                }
                proven_known(x, and, &mut known);
            }
            false
        }
        K::If(c, a, b) => {
            let mut then_known: Vec<&ir::Expr> = known.to_vec();
            proven_known(c, true, &mut then_known);
            u(c) || guarded(a, &then_known, du, groups) || u(b)
        }
        K::Agg(_, elem, g) => elem.as_ref().is_some_and(|x| u(x)) || group_unknown(g, du, groups),
        K::OrganAgg(_, elem, filter) => {
            elem.as_ref().is_some_and(|x| u(x)) || filter.as_ref().is_some_and(|x| u(x))
        }
    }
}

/// The values a condition proves exact when it is true (`holds`) or false (`!holds`).
fn proven_known<'e>(c: &'e ir::Expr, holds: bool, out: &mut Vec<&'e ir::Expr>) {
    match (&c.kind, holds) {
        (K::Known(x), true) => out.push(x),
        (K::Not(x), _) => proven_known(x, !holds, out),
        (K::And(xs), true) | (K::Or(xs), false) => {
            xs.iter().for_each(|x| proven_known(x, holds, out))
        }
        _ => {}
    }
}

/// The same value: a definition or input, at the same reference.
fn same(a: &ir::Expr, b: &ir::Expr) -> bool {
    match (&a.kind, &b.kind) {
        (K::Def(x), K::Def(y)) => x == y,
        (K::Input(x), K::Input(y)) => x == y,
        (K::At(x, r), K::At(y, s)) | (K::Nadir(x, r), K::Nadir(y, s)) => r == s && same(x, y),
        (K::Last(x), K::Last(y)) => same(x, y),
        _ => false,
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

/// Which definitions can be undecided: a fixpoint, as definitions refer to each other in any
/// order.
pub(super) fn undecidable(defs: &[ir::Def], groups: &[ir::GroupDef]) -> Vec<bool> {
    let mut unknown = vec![false; defs.len()];
    loop {
        let mut changed = false;
        for (i, d) in defs.iter().enumerate() {
            if unknown[i] || d.ty == Ty::Cat {
                continue;
            }
            let u = match &d.body {
                ir::Body::Expr(e) => may_be_unknown(e, &unknown, groups),
                ir::Body::Rules(rs) => rs.iter().any(|r| {
                    may_be_unknown(&r.head, &unknown, groups)
                        || r.cond
                            .as_ref()
                            .is_some_and(|c| may_be_unknown(c, &unknown, groups))
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
    unknown
}
