//! What is known when compiling, before any data is read, so that the compiled definitions
//! (`compile.rs`) leave it out: params and literals; in a body compiled for one lesion's
//! status, nodal flag and role (its `Key`), whatever reads only those; lesion-level
//! definitions that are then constants, or that note nothing and are read in place; the
//! members of groups whose condition reads only nodal flag and role; rule conditions that
//! repeat an earlier rule's. Everything here gives what the tree walker gives: a part is left
//! out only where evaluating it notes nothing (`pure`).

use std::cell::Cell;

use super::{compare_num, is_num, Compiler, BUDGET};
use crate::check::ir::{
    self, Body, CmpOp, DefLevel, ExprKind as K, InputLevel, Lit, ParamValue, Role, Ruleset, Status,
    Ty,
};
use crate::eval::engine::{calc, fixed_where};
use crate::eval::value::{Iv, Tri, Val};

/// A lesion's status (at the assessment), nodal flag and role.
#[derive(Debug, Clone, Copy)]
pub(in crate::eval::engine) struct Key {
    pub status: Status,
    pub nodal: bool,
    pub role: Role,
}

pub(in crate::eval::engine) fn key_index(k: Key) -> usize {
    (k.status as usize * 2 + usize::from(k.nodal)) * Role::ALL.len() + k.role as usize
}

/// Combinations of a lesion's nodal flag and role.
pub(in crate::eval::engine) const NODAL_ROLES: usize = 2 * Role::ALL.len();

pub(in crate::eval::engine) fn nodal_role_index(nodal: bool, role: Role) -> usize {
    usize::from(nodal) * Role::ALL.len() + role as usize
}

/// For each named group of fixed members (`lesions where C`, C on what does not change
/// between assessments), C's value for each nodal flag and role (`nodal_role_index`), where
/// it reads nothing else.
pub(in crate::eval::engine) fn fixed_keys(
    rs: &Ruleset,
    input_pos: &[usize],
    params: &[ParamValue],
) -> Vec<Option<[Tri; NODAL_ROLES]>> {
    let budget = Cell::new(BUDGET);
    let c = Compiler::new(rs, input_pos, params, &budget);
    rs.groups
        .iter()
        .map(|g| {
            let cond = fixed_where(&g.group)?;
            let mut tab = [Tri::Unknown; NODAL_ROLES];
            for nodal in [false, true] {
                for role in Role::ALL {
                    // The status is not read (`fixed_cond`).
                    let k = Key {
                        status: Status::Present,
                        nodal,
                        role,
                    };
                    tab[nodal_role_index(nodal, role)] = c.keyed(k).const_cond(cond)?;
                }
            }
            Some(tab)
        })
        .collect()
}

/// Named group `g`, when it is one of fixed members (`fixed_keys`, `Evaluation::fixed_mask`).
pub(super) fn fixed_group(rs: &Ruleset, g: &ir::Group) -> Option<ir::GroupId> {
    let ir::Group::Named(id) = g else { return None };
    fixed_where(&rs.groups.get(*id)?.group).map(|_| *id)
}

/// Every key, in `key_index` order.
pub(super) fn keys() -> impl Iterator<Item = Key> {
    Status::ALL.into_iter().flat_map(|status| {
        [false, true].into_iter().flat_map(move |nodal| {
            Role::ALL.into_iter().map(move |role| Key {
                status,
                nodal,
                role,
            })
        })
    })
}

/// How deep constants are looked for through lesion-level definitions that read others.
pub(super) const MAX_DEPTH: u8 = 8;

impl<'r> Compiler<'r, '_> {
    /// `e` as its closure evaluates it: without the constants of `and` / `or` that change
    /// nothing (`cond`), when one operand is left.
    pub(super) fn folded<'e>(&self, e: &'e ir::Expr) -> &'e ir::Expr {
        match &e.kind {
            K::And(xs) | K::Or(xs) => {
                let neutral = Tri::from(matches!(e.kind, K::And(_)));
                let mut left = xs.iter().filter(|x| self.const_cond(x) != Some(neutral));
                match (left.next(), left.next()) {
                    (Some(x), None) => self.folded(x),
                    _ => e,
                }
            }
            _ => e,
        }
    }

    /// This compiler for what reads other lesions or other assessments.
    pub(super) fn plain(&self) -> Self {
        Compiler { key: None, ..*self }
    }

    /// This compiler for a lesion of key `k` (at the same assessment).
    pub(super) fn keyed(&self, k: Key) -> Self {
        Compiler {
            key: Some(k),
            ..*self
        }
    }

    /// A number known before any data is read: literals, params, and arithmetic on them
    /// that notes no problem. `None`: not known, or no value.
    pub(super) fn const_num(&self, e: &ir::Expr) -> Option<Iv> {
        match &e.kind {
            K::Num(d) => Some(Iv::exact(*d)),
            K::Param(p) => match &self.params[*p] {
                ParamValue::Num(d) => Some(Iv::exact(*d)),
                _ => None,
            },
            K::Neg(x) => Some(self.const_num(x)?.negate()),
            K::Abs(x) => Some(self.const_num(x)?.abs()),
            K::Bin(op, a, b) => match calc(*op, self.const_num(a)?, self.const_num(b)?) {
                (Some(r), None) => Some(r),
                _ => None,
            },
            K::Def(d) => match self.def_const(*d)? {
                Val::Num(iv) => Some(iv),
                _ => None,
            },
            _ => None,
        }
    }

    /// What lesion-level definition `d` is for the lesion compiled for (`key`): its
    /// expression, or the head of the rule known to apply there (those before it known not
    /// to), with the compiler to read it (one level deeper).
    pub(super) fn applies(&self, d: usize) -> Option<(Self, &'r ir::Expr)> {
        let def = &self.rs.defs[d];
        if def.level != DefLevel::Lesion || self.key.is_none() || self.depth >= MAX_DEPTH {
            return None;
        }
        let left = self.budget.get().checked_sub(1)?;
        self.budget.set(left);
        let c = Compiler {
            depth: self.depth + 1,
            ..*self
        };
        let head = match &def.body {
            Body::Expr(e) => e,
            Body::Rules(rules) => c.known_rule(rules)?,
            Body::Table(_) => return None,
        };
        Some((c, head))
    }

    /// The head of the first rule whose condition is known to hold, where those before it
    /// are known not to.
    pub(super) fn known_rule(&self, rules: &'r [ir::Rule]) -> Option<&'r ir::Expr> {
        for r in rules {
            match r.cond.as_ref().map(|x| self.const_cond(x)) {
                None | Some(Some(Tri::True)) => return Some(&r.head),
                Some(Some(Tri::False)) => {}
                _ => return None,
            }
        }
        None
    }

    /// Lesion-level definition `d` for the lesion compiled for (`key`), as the expression to
    /// evaluate in place of reading its value, where that notes nothing (inputs, constants,
    /// comparisons and connectives of them: no arithmetic, which would be noted as `d`'s):
    /// `size` of a node is its short axis; `normal` of a node `size < node_normal`.
    pub(super) fn inline(&self, d: usize) -> Option<(Self, &'r ir::Expr)> {
        let (c, head) = self.applies(d)?;
        c.quiet(head).then_some((c, head))
    }

    /// Whether evaluating `e` for the lesion compiled for notes nothing and reads only the
    /// lesion's inputs, fields and lesion-level definitions that do the same.
    pub(super) fn quiet(&self, e: &ir::Expr) -> bool {
        match &e.kind {
            K::Num(_) | K::Bool(_) | K::Unknown | K::Lit(_) | K::Param(_) | K::Field(_) => true,
            K::Input(i) => self.rs.inputs[*i].level == InputLevel::Lesion,
            K::Def(d) => self.def_const(*d).is_some() || self.inline(*d).is_some(),
            K::Not(x) | K::Known(x) | K::Definitely(x) | K::Neg(x) | K::Abs(x) => self.quiet(x),
            K::In(x, ..) => self.quiet(x),
            K::Cmp(_, a, b) => self.quiet(a) && self.quiet(b),
            K::And(xs) | K::Or(xs) => xs.iter().all(|x| self.quiet(x)),
            _ => false,
        }
    }

    /// The value of lesion-level definition `d` for the lesion compiled for (`key`), when
    /// that is known before any data is read: a rule whose condition is known to hold (those
    /// before it known not to) with a constant head, or a constant expression.
    pub(super) fn def_const(&self, d: usize) -> Option<Val> {
        let (c, head) = self.applies(d)?;
        match head.ty {
            Ty::Num { .. } => c.const_num(head).map(Val::Num),
            Ty::Bool => c.const_cond(head).map(Val::Bool),
            _ => None,
        }
    }

    /// A condition known before any data is read (true, false or unknown), as the tree
    /// walker gives it: params, literals, comparisons of known numbers, and connectives whose
    /// result is known, where what is left out of them notes nothing (`pure`).
    pub(super) fn const_cond(&self, e: &ir::Expr) -> Option<Tri> {
        if let Some(v) = self.key.and_then(|k| key_cond(k, e)) {
            return Some(v);
        }
        match &e.kind {
            K::Def(d) => match self.def_const(*d)? {
                Val::Bool(b) => Some(b),
                _ => None,
            },
            K::Bool(b) => Some(Tri::from(*b)),
            K::Param(p) => Some(match &self.params[*p] {
                ParamValue::Bool(b) => Tri::from(*b),
                _ => Tri::False,
            }),
            K::Not(x) => Some(self.const_cond(x)?.negate()),
            K::Cmp(op, a, b) if is_num(a) && is_num(b) => {
                Some(compare_num(*op, self.const_num(a)?, self.const_num(b)?))
            }
            K::And(xs) | K::Or(xs) => {
                let (neutral, decisive) = if matches!(e.kind, K::And(_)) {
                    (Tri::True, Tri::False)
                } else {
                    (Tri::False, Tri::True)
                };
                let mut known = true;
                for x in xs {
                    match self.const_cond(x) {
                        Some(v) if v == decisive => return Some(decisive),
                        Some(v) if v == neutral => {}
                        Some(_) => known = false,
                        None if pure(self.rs, x) => known = false,
                        None => return None,
                    }
                }
                known.then_some(neutral)
            }
            _ => None,
        }
    }
}

/// What a lesion's status, nodal flag or role compared with a literal is for that lesion
/// (with a slot at the assessment), as the compiled condition gives it.
pub(super) fn key_cond(k: Key, e: &ir::Expr) -> Option<Tri> {
    let same = match &e.kind {
        K::Field(ir::Field::Nodal) => k.nodal,
        K::Cmp(op, a, b) => {
            let same = match (&a.kind, &b.kind) {
                (K::Field(ir::Field::Role), K::Lit(Lit::Role(r)))
                | (K::Lit(Lit::Role(r)), K::Field(ir::Field::Role)) => k.role == *r,
                (K::Field(ir::Field::Status), K::Lit(Lit::Status(s)))
                | (K::Lit(Lit::Status(s)), K::Field(ir::Field::Status)) => k.status == *s,
                _ => return None,
            };
            same == (*op == CmpOp::Eq)
        }
        K::In(x, items, negated) if matches!(x.kind, K::Field(ir::Field::Status)) => {
            let mut hit = false;
            for lit in items {
                let Lit::Status(s) = lit else { return None };
                hit |= *s == k.status;
            }
            hit != *negated
        }
        _ => return None,
    };
    Some(Tri::from(same))
}

/// Whether two expressions are the same, wherever they are written (types follow).
pub(super) fn same_expr(a: &ir::Expr, b: &ir::Expr) -> bool {
    let all = |xs: &[ir::Expr], ys: &[ir::Expr]| {
        xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_expr(x, y))
    };
    let opt = |x: &Option<Box<ir::Expr>>, y: &Option<Box<ir::Expr>>| match (x, y) {
        (Some(x), Some(y)) => same_expr(x, y),
        (None, None) => true,
        _ => false,
    };
    match (&a.kind, &b.kind) {
        (K::Num(x), K::Num(y)) => x == y && x.scale() == y.scale(),
        (K::Bool(x), K::Bool(y)) => x == y,
        (K::Unknown, K::Unknown) => true,
        (K::Lit(x), K::Lit(y)) => x == y,
        (K::Param(x), K::Param(y)) | (K::Input(x), K::Input(y)) | (K::Def(x), K::Def(y)) => x == y,
        (K::Field(x), K::Field(y)) => x == y,
        (K::Neg(x), K::Neg(y))
        | (K::Not(x), K::Not(y))
        | (K::Last(x), K::Last(y))
        | (K::Ever(x), K::Ever(y))
        | (K::Later(x), K::Later(y))
        | (K::Known(x), K::Known(y))
        | (K::Definitely(x), K::Definitely(y))
        | (K::Abs(x), K::Abs(y)) => same_expr(x, y),
        (K::Bin(o, x1, x2), K::Bin(p, y1, y2)) => o == p && same_expr(x1, y1) && same_expr(x2, y2),
        (K::Cmp(o, x1, x2), K::Cmp(p, y1, y2)) => o == p && same_expr(x1, y1) && same_expr(x2, y2),
        (K::Min2(x1, x2), K::Min2(y1, y2)) | (K::Max2(x1, x2), K::Max2(y1, y2)) => {
            same_expr(x1, y1) && same_expr(x2, y2)
        }
        (K::In(x, xs, n), K::In(y, ys, m)) => n == m && xs == ys && same_expr(x, y),
        (K::And(xs), K::And(ys)) | (K::Or(xs), K::Or(ys)) => all(xs, ys),
        (K::If(x1, x2, x3), K::If(y1, y2, y3)) => {
            same_expr(x1, y1) && same_expr(x2, y2) && same_expr(x3, y3)
        }
        (K::Agg(f, x, g), K::Agg(h, y, k)) => f == h && opt(x, y) && same_group(g, k),
        (K::OrganAgg(f, x1, x2), K::OrganAgg(h, y1, y2)) => f == h && opt(x1, y1) && opt(x2, y2),
        (K::At(x, r), K::At(y, s)) | (K::Nadir(x, r), K::Nadir(y, s)) => r == s && same_expr(x, y),
        (K::DaysSince(r), K::DaysSince(s)) => r == s,
        (K::TableCall(d, xs), K::TableCall(e, ys)) => d == e && all(xs, ys),
        _ => false,
    }
}

pub(super) fn same_group(a: &ir::Group, b: &ir::Group) -> bool {
    use ir::Group as G;
    match (a, b) {
        (G::All, G::All) => true,
        (G::Named(x), G::Named(y)) => x == y,
        (G::Where(x, c), G::Where(y, d)) => same_group(x, y) && same_expr(c, d),
        (G::Except(x, i), G::Except(y, j)) => i == j && same_group(x, y),
        _ => false,
    }
}

/// Whether evaluating `e` notes nothing and evaluates nothing that would note something
/// (arithmetic, aggregates, a lesion-level value evaluated where first read, an input read
/// where its column is absent), so that leaving it out, or evaluating it later, changes
/// nothing but its own value. Reads of assessment-level values, at this assessment or
/// earlier ones, are allowed. (An expression is at most `syntax::MAX_DEPTH` deep.)
pub(super) fn pure(rs: &Ruleset, e: &ir::Expr) -> bool {
    let p = |x: &ir::Expr| pure(rs, x);
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Unknown | K::Lit(_) | K::Param(_) | K::Field(_) => true,
        K::DaysSince(_) => true,
        K::Def(d) => rs.defs[*d].level == DefLevel::Assessment,
        K::Not(x) | K::Known(x) | K::Definitely(x) | K::In(x, ..) => p(x),
        K::At(x, _) | K::Nadir(x, _) | K::Last(x) | K::Ever(x) => p(x),
        K::Cmp(_, a, b) => p(a) && p(b),
        K::And(xs) | K::Or(xs) => xs.iter().all(p),
        K::If(c, a, b) => p(c) && p(a) && p(b),
        _ => false,
    }
}

/// Whether evaluating assessment-level definition `d` notes nothing, whenever it is done
/// (`pure`: every rule's condition and head, or its expression; a table is not).
pub(in crate::eval::engine) fn notes_nothing(rs: &Ruleset, d: &ir::Def) -> bool {
    let pure = |e: &ir::Expr| pure(rs, e);
    match &d.body {
        Body::Expr(e) => pure(e),
        Body::Rules(rules) => rules
            .iter()
            .all(|r| r.cond.as_ref().is_none_or(pure) && pure(&r.head)),
        Body::Table(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RECIST 1.1's `pr_confirmed` (a comparison of a category and of days) notes nothing and
    /// is evaluated where read; `sum` (an aggregate, which may overflow) at every assessment.
    #[test]
    fn recist_values_that_note_nothing() {
        let checked = crate::check::load("recist-1.1").unwrap_or_else(|_| panic!("loads"));
        let rs = &checked.ruleset;
        let def = |n: &str| &rs.defs[rs.defs.iter().position(|d| d.name == n).unwrap()];
        assert!(notes_nothing(rs, def("pr_confirmed")));
        assert!(!notes_nothing(rs, def("sum")));
        assert!(!notes_nothing(rs, def("overall")), "a table");
    }

    /// What RECIST 1.1's lesion-level definitions are for a lesion of a given status, nodal
    /// flag and role: a constant, or an expression read in place (no kept value).
    #[test]
    fn recist_lesion_values_in_place() {
        let checked = crate::check::load("recist-1.1").unwrap_or_else(|_| panic!("loads"));
        let rs = &checked.ruleset;
        let def = |n: &str| rs.defs.iter().position(|d| d.name == n).unwrap();
        let (input_pos, params) = super::super::tests::defaults(rs);
        let budget = Cell::new(BUDGET);
        let c = Compiler::new(rs, &input_pos, &params, &budget);
        let at = |status, nodal, role| {
            c.keyed(Key {
                status,
                nodal,
                role,
            })
        };
        let absent = at(Status::Absent, false, Role::Target);
        assert_eq!(
            absent.def_const(def("size")),
            Some(Val::Num(Iv::exact(rust_decimal::Decimal::ZERO)))
        );
        assert_eq!(absent.def_const(def("normal")), Some(Val::Bool(Tri::True)));
        let node = at(Status::Present, true, Role::Target);
        assert_eq!(node.def_const(def("normal")), None);
        let (_, e) = node
            .inline(def("normal"))
            .expect("a node's normal read in place");
        // (nodal and size < node_normal) or (not nodal and size = 0 mm): for a node, the
        // comparison of its size is all that is left to read.
        assert!(matches!(e.kind, K::Or(_)));
        assert!(node.quiet(e));
        let (_, size) = node
            .inline(def("size"))
            .expect("a node's size read in place");
        assert!(matches!(size.kind, K::Input(_)));
        let new = at(Status::Present, false, Role::New);
        assert_eq!(
            new.def_const(def("small_node")),
            Some(Val::Bool(Tri::False))
        );
        assert_eq!(new.def_const(def("present")), Some(Val::Bool(Tri::True)));
        // Without a key nothing is assumed about the lesion.
        assert_eq!(c.def_const(def("size")), None);
        assert!(c.inline(def("size")).is_none());
    }

    #[test]
    fn keys_in_index_order() {
        for (i, k) in keys().enumerate() {
            assert_eq!(key_index(k), i, "{k:?}");
        }
        assert_eq!(keys().count(), Status::ALL.len() * 2 * Role::ALL.len());
    }
}
