//! Numbers for exact operands only: most of a cohort's arithmetic and comparisons read exact
//! values (every measurement recorded), and for those a decimal is worked out without the
//! intervals, bounds and problems of the general closures (`Compiler::num`). Where any
//! operand is not exact, has no value, or the arithmetic would note a problem, the exact form
//! gives `None` and the general one works the node out again from the start: the exact form
//! notes nothing and keeps nothing that the general one would not (lazy values and nadirs are
//! kept alike by both), so the result is the general one's, decimal for decimal.

use rust_decimal::Decimal;

use super::{read_input, Compiler, Evaluation, Fun};
use crate::check::ir::{self, DefId, DefLevel, ExprKind as K, InputLevel};
use crate::eval::engine::{exact_calc, Scope};
use crate::eval::value::Val;

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
