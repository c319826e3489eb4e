//! The categories each category-valued definition can take, and which of them can be undecided
//! by missing data (and so also take the not-evaluable category): a fixpoint over definitions.

use std::collections::BTreeSet;

use super::ir::{self, CatId, DefLevel, ExprKind as K, Lit, Ty};
use super::unknown::may_be_unknown;

pub(super) fn domains(
    defs: &[ir::Def],
    groups: &[ir::GroupDef],
    unknown: &[bool],
    not_evaluable: Option<CatId>,
) -> (Vec<BTreeSet<CatId>>, Vec<bool>) {
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
                            .is_some_and(|c| may_be_unknown(c, unknown, groups));
                        // Undecided per-lesion classes stay a set of categories (see eval).
                        if undecided && d.level == DefLevel::Assessment {
                            needs_ne[i] = true;
                        }
                    }
                }
                ir::Body::Table(t) => {
                    dom.extend(t.rows.iter().map(|row| row.output));
                    if t.columns.iter().any(|c| may_be_unknown(c, unknown, groups)) {
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
    (domains, needs_ne)
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
