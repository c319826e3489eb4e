//! Which expressions can be undecided (an interval) because data is missing.

use super::ir::{self, ExprKind as K, Ty};

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
