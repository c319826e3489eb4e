//! Numbers for exact operands only: most of a cohort's arithmetic and comparisons read exact
//! values (every measurement recorded), and for those a decimal is worked out without the
//! intervals, bounds and problems of the general closures (`Compiler::num`). Where any
//! operand is not exact, has no value, or the arithmetic would note a problem, the exact form
//! gives `None` and the general one works the node out again from the start: the exact form
//! notes nothing and keeps nothing that the general one would not (lazy values and nadirs are
//! kept alike by both), so the result is the general one's, decimal for decimal.

use rust_decimal::Decimal;

use super::known::{fixed_group, same_expr};
use super::{compare_exact, is_num, read_input, Compiler, CondFn, Evaluation, Fun};
use crate::check::ir::{
    self, AggFn, BinOp, CmpOp, DefId, DefLevel, ExprKind as K, GroupId, InputLevel,
};
use crate::eval::engine::{exact_calc, Scope};
use crate::eval::value::{Tri, Val};

/// An exact number, or `None`: the general form decides.
type ExactFn<'r> = Fun<'r, Option<Decimal>>;

/// An exact form: the commonest operands read in place (no call to make, no closure to
/// find), anything else through a closure.
pub(super) enum Exact<'r> {
    Const(Decimal),
    /// An assessment-level definition's value at the assessment.
    Value(DefId),
    /// The nadir from the baseline of an assessment-level definition.
    Nadir(DefId, &'r ir::Expr),
    /// A lesion's measurement (input, position among the lesion's values).
    Input(usize, usize),
    /// The number of members of a group listed once per subject (`Evaluation::listed`).
    Count(GroupId),
    Fn(ExactFn<'r>),
}

impl Exact<'_> {
    #[inline(always)]
    pub(super) fn get(&self, ev: &Evaluation<'_>, t: usize, l: Scope) -> Option<Decimal> {
        match self {
            Exact::Const(d) => Some(*d),
            Exact::Value(d) => match ev.value(t, *d) {
                Val::Num(iv) => iv.same_bits(),
                _ => None,
            },
            Exact::Nadir(d, x) => match l {
                Scope::Assessment => ev.nadir_from_baseline(t, *d, x)?.0.same_bits(),
                _ => None,
            },
            Exact::Input(i, pos) => read_input(ev, t, l, *i, *pos)?,
            Exact::Count(g) if l.outside_organ() => {
                Some(Decimal::from(ev.listed(t, *g)?.0.count_ones()))
            }
            Exact::Count(_) => None,
            Exact::Fn(f) => f(ev, t, l),
        }
    }
}

impl<'r> Compiler<'r, '_> {
    /// `e` for exact operands (`None`: `e` has a node without an exact form).
    pub(super) fn exact(&self, e: &'r ir::Expr) -> Option<Exact<'r>> {
        if let Some(v) = self.const_num(e) {
            return Some(Exact::Const(v.same_bits()?));
        }
        match &e.kind {
            K::Input(i) if self.rs.inputs[*i].level == InputLevel::Lesion => {
                Some(Exact::Input(*i, self.input_pos[*i]))
            }
            K::Def(d) => {
                if let Some((c, head)) = self.inline(*d) {
                    return c.exact(head);
                }
                (self.rs.defs[*d].level == DefLevel::Assessment).then_some(Exact::Value(*d))
            }
            K::Bin(op, a, b) => {
                let (op, a, b) = (*op, self.exact(a)?, self.exact(b)?);
                Some(Exact::Fn(Box::new(move |ev, t, l| {
                    exact_calc(op, a.get(ev, t, l)?, b.get(ev, t, l)?)
                })))
            }
            K::At(x, r) => {
                let (x, r) = (self.plain().exact(x)?, *r);
                Some(Exact::Fn(Box::new(move |ev, t, l| {
                    x.get(ev, ev.resolve(t, r)?, l)
                })))
            }
            K::Agg(AggFn::Count, _, g) => Some(Exact::Count(fixed_group(self.rs, g)?)),
            K::Nadir(x, ir::Ref::Baseline) => match x.kind {
                K::Def(d) if self.rs.defs[d].level == DefLevel::Assessment => {
                    Some(Exact::Nadir(d, x))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// The sum of the exact forms of listed members (`Evaluation::listed`) by their keys, as
/// `fold_num` gives it when every one is exact; `None` where one is not, or the sum leaves the
/// decimal range.
pub(super) fn sum(
    ev: &Evaluation<'_>,
    t: usize,
    slots: u64,
    by_key: &[Option<Exact<'_>>],
) -> Option<Decimal> {
    let mut acc = Decimal::ZERO;
    for (les, k) in ev.listed_members(t, slots) {
        let x = by_key.get(k)?.as_ref()?.get(ev, t, Scope::Lesion(les))?;
        acc = acc.checked_add(x)?;
    }
    Some(acc)
}

/// A conjunction of comparisons whose sides all have exact forms, each distinct subexpression
/// worked out once per evaluation (RECIST 1.1's PD rule reads `sum - nadir(sum)` twice and
/// `nadir(sum)` three times). The comparisons are taken in order, each stopping the
/// conjunction when false, as the general connective does, so that what is read is what it
/// reads; the general closure decides wherever a side is not exact.
pub(super) struct Conjunction<'r> {
    /// Subexpressions, each after those it reads.
    nodes: Vec<Node<'r>>,
    /// Each comparison: its operator, its sides' nodes, and the last node it needs.
    cmps: Vec<(CmpOp, usize, usize, usize)>,
}

/// Parts of a conjunction at most (its values are kept on the stack).
const MAX_PARTS: usize = 16;

enum Node<'r> {
    Leaf(Exact<'r>),
    Bin(BinOp, usize, usize),
}

#[cfg(test)]
impl Conjunction<'_> {
    pub(super) fn comparisons(&self) -> usize {
        self.cmps.len()
    }
    pub(super) fn parts(&self) -> usize {
        self.nodes.len()
    }
}

impl<'r> Compiler<'r, '_> {
    /// `xs` (the operands of `and`) as a `Conjunction`, where each is a comparison of numbers
    /// with exact forms or a constant true.
    pub(super) fn conjunction(&self, xs: &'r [ir::Expr]) -> Option<Conjunction<'r>> {
        let mut c = Conjunction {
            nodes: vec![],
            cmps: vec![],
        };
        let mut seen: Vec<&'r ir::Expr> = vec![];
        for x in xs {
            match self.const_cond(x) {
                Some(Tri::True) => continue,
                Some(_) => return None,
                None => {}
            }
            let K::Cmp(op, a, b) = &x.kind else {
                return None;
            };
            if !(is_num(a) && is_num(b)) {
                return None;
            }
            let (a, b) = (
                self.node(&mut c, &mut seen, a)?,
                self.node(&mut c, &mut seen, b)?,
            );
            c.cmps.push((*op, a, b, c.nodes.len().checked_sub(1)?));
        }
        (c.cmps.len() > 1 && c.nodes.len() <= MAX_PARTS).then_some(c)
    }

    /// The node of `e` in `c`, added (after those it reads) unless an equal one is there.
    fn node(
        &self,
        c: &mut Conjunction<'r>,
        seen: &mut Vec<&'r ir::Expr>,
        e: &'r ir::Expr,
    ) -> Option<usize> {
        if let Some(i) = seen.iter().position(|x| same_expr(x, e)) {
            return Some(i);
        }
        let node = match &e.kind {
            K::Bin(op, a, b) if self.const_num(e).is_none() => {
                let (a, b) = (self.node(c, seen, a)?, self.node(c, seen, b)?);
                Node::Bin(*op, a, b)
            }
            _ => Node::Leaf(self.exact(e)?),
        };
        c.nodes.push(node);
        seen.push(e);
        Some(c.nodes.len() - 1)
    }
}

/// `c`, or `general` where a side is not exact.
pub(super) fn conjunction<'r>(c: Conjunction<'r>, general: CondFn<'r>) -> CondFn<'r> {
    Box::new(move |ev, t, l| {
        let mut vals = [Decimal::ZERO; MAX_PARTS];
        let mut done = 0;
        for &(op, a, b, upto) in &c.cmps {
            while done <= upto {
                let v = match &c.nodes[done] {
                    Node::Leaf(x) => x.get(ev, t, l),
                    Node::Bin(op, a, b) => exact_calc(*op, vals[*a], vals[*b]),
                };
                match v {
                    Some(v) => vals[done] = v,
                    None => return general(ev, t, l),
                }
                done += 1;
            }
            if compare_exact(op, vals[a], vals[b]) == Tri::False {
                return Tri::False;
            }
        }
        Tri::True
    })
}
