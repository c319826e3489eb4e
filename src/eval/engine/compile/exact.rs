//! Numbers for exact operands only: most of a cohort's arithmetic and comparisons read exact
//! values (every measurement recorded), and for those a decimal is worked out without the
//! intervals, bounds and problems of the general closures (`Compiler::num`). Where any
//! operand is not exact, has no value, or the arithmetic would note a problem, the exact form
//! gives `None` and the general one works the node out again from the start: the exact form
//! notes nothing and keeps nothing that the general one would not (lazy values and nadirs are
//! kept alike by both), so the result is the general one's, decimal for decimal.

use rust_decimal::Decimal;

use super::{read_input, Compiler, Fun};
use crate::check::ir::{self, DefLevel, ExprKind as K, InputLevel};
use crate::eval::engine::{exact_calc, Scope};
use crate::eval::value::Val;

/// An exact number, or `None`: the general form decides.
pub(super) type ExactFn<'r> = Fun<'r, Option<Decimal>>;

impl<'r> Compiler<'r, '_> {
    /// `e` for exact operands (`None`: `e` has a node without an exact form).
    pub(super) fn exact(&self, e: &'r ir::Expr) -> Option<ExactFn<'r>> {
        if let Some(v) = self.const_num(e) {
            let v = v.same_bits()?;
            return Some(Box::new(move |_, _, _| Some(v)));
        }
        match &e.kind {
            K::Input(i) if self.rs.inputs[*i].level == InputLevel::Lesion => {
                let (i, pos) = (*i, self.input_pos[*i]);
                Some(Box::new(move |ev, t, l| read_input(ev, t, l, i, pos)?))
            }
            K::Def(d) => {
                if let Some((c, head)) = self.inline(*d) {
                    return c.exact(head);
                }
                let d = *d;
                match self.rs.defs[d].level {
                    DefLevel::Assessment => Some(Box::new(move |ev, t, _| match ev.value(t, d) {
                        Val::Num(iv) => iv.same_bits(),
                        _ => None,
                    })),
                    _ => None,
                }
            }
            K::Bin(op, a, b) => {
                let (op, a, b) = (*op, self.exact(a)?, self.exact(b)?);
                Some(Box::new(move |ev, t, l| {
                    let (x, y) = (a(ev, t, l)?, b(ev, t, l)?);
                    exact_calc(op, x, y)
                }))
            }
            K::At(x, r) => {
                let (x, r) = (self.plain().exact(x)?, *r);
                Some(Box::new(move |ev, t, l| x(ev, ev.resolve(t, r)?, l)))
            }
            K::Nadir(x, ir::Ref::Baseline) => match x.kind {
                K::Def(d) if self.rs.defs[d].level == DefLevel::Assessment => {
                    Some(Box::new(move |ev, t, l| match l {
                        Scope::Assessment => ev.nadir_from_baseline(t, d, x)?.0.same_bits(),
                        _ => None,
                    }))
                }
                _ => None,
            },
            _ => None,
        }
    }
}
