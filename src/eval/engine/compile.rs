//! Definitions compiled once per engine into closures, so that evaluating a subject does not
//! walk the expression tree: each node's kind, level and operands are looked at here, once,
//! and the closure does only the work. Conditions give true/false/unknown, numbers an interval
//! or no value, without making general values. Anything not compiled here (rare nodes, and
//! what explanations ask for) is evaluated by the tree walker in `engine.rs`, which defines
//! the meaning: every closure gives exactly what the tree walker gives for its node
//! (`tests/compiled.rs` checks every shipped ruleset both ways).
//!
//! Numbers made of exact values (every measurement recorded, as in most of a cohort) are also
//! worked out as plain decimals (`exact.rs`), the intervals only where one is not exact.
//!
//! What is known before any data is read is left out (`known.rs`): params and literals, and
//! in lesion-level definitions and aggregates' elements, which are compiled once for each
//! status, nodal flag and role a lesion can have (`Key`), whatever reads only those.

use std::cell::Cell;

use smallvec::SmallVec;

use super::{
    compare, count_members, decided, fold_start, fold_value, join, quantify, truth, unknown_input,
    Evaluation, Scope, Trouble,
};
use crate::check::ir::{
    self, AggFn, BinOp, Body, CmpOp, DefLevel, ExprKind as K, InputLevel, Lit, ParamValue, Ruleset,
    Ty,
};
use crate::eval::value::{dcmp, same_decimal, Iv, Tri, Val};
use rust_decimal::Decimal;

mod exact;
mod known;

use known::{fixed_group, keys, same_expr};
pub(super) use known::{fixed_keys, key_index, nodal_role_index, notes_nothing, Key, NODAL_ROLES};

type Fun<'r, T> = Box<dyn Fn(&Evaluation<'_>, usize, Scope) -> T + Send + Sync + 'r>;
/// A condition: `Evaluation::cond` of its expression.
pub(super) type CondFn<'r> = Fun<'r, Tri>;
/// A value: `Evaluation::eval` of its expression.
pub(super) type ValFn<'r> = Fun<'r, Val>;
/// A number: `Some` of the interval where `Evaluation::eval` gives a number, else `None`.
type NumFn<'r> = Fun<'r, Option<Iv>>;

/// A definition's body, compiled.
pub(super) enum Compiled<'r> {
    Expr(ValFn<'r>),
    /// Each rule's condition and head, beside the rules (an undecided condition goes to the
    /// tree walker with them).
    Rules(&'r [ir::Rule], Vec<(Guard<'r>, ValFn<'r>)>),
    /// A decision table and its columns.
    Table(&'r ir::Table, Vec<ValFn<'r>>),
    /// A lesion-level definition, compiled for each combination of the lesion's status,
    /// nodal flag and role (in `key_index` order): what reads only them is known there, so
    /// that `size` is one of its rules' heads, and `normal` of a node `size < node_normal`.
    Lesion(Vec<Compiled<'r>>),
}

/// A rule's condition: `otherwise` or one that holds whatever the data (`Always`), one that
/// never holds (`Never`: a rule switched off by a param), or one to evaluate.
pub(super) enum Guard<'r> {
    Always,
    Never,
    When(CondFn<'r>),
}

/// Every definition's body, by definition id; `input_pos`: each input's position among its
/// level's values (`Engine::input_pos`); `params`: the params' values, folded in.
pub(super) fn program<'r>(
    rs: &'r Ruleset,
    input_pos: &[usize],
    params: &[ParamValue],
) -> Vec<Compiled<'r>> {
    program_in(rs, input_pos, params, &Cell::new(BUDGET))
}

/// `program`, looking into lesion-level definitions at most `budget` times.
fn program_in<'r>(
    rs: &'r Ruleset,
    input_pos: &[usize],
    params: &[ParamValue],
    budget: &Cell<u32>,
) -> Vec<Compiled<'r>> {
    let c = Compiler::new(rs, input_pos, params, budget);
    rs.defs
        .iter()
        .map(|d| match d.level {
            DefLevel::Lesion => Compiled::Lesion(
                keys()
                    .map(|k| Compiler { key: Some(k), ..c }.body(d))
                    .collect(),
            ),
            _ => c.body(d),
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Compiler<'r, 'p> {
    rs: &'r Ruleset,
    input_pos: &'p [usize],
    params: &'p [ParamValue],
    /// The lesion a lesion-level definition is compiled for (`Compiled::Lesion`); none
    /// under what reads other lesions or other assessments.
    key: Option<Key>,
    /// Lesion-level definitions looked into for a constant (`def_const`), at most
    /// `MAX_DEPTH` deep.
    depth: u8,
    /// Looks into lesion-level definitions left for compiling this program (`applies`): a
    /// ruleset whose definitions each read many others is compiled without the rest of them
    /// (exactly, if less quickly) rather than for ever.
    budget: &'p Cell<u32>,
}

/// Looks into lesion-level definitions per program (the shipped rulesets need a few thousand).
pub(super) const BUDGET: u32 = 200_000;

fn is_num(e: &ir::Expr) -> bool {
    matches!(e.ty, Ty::Num { .. })
}

impl<'r, 'p> Compiler<'r, 'p> {
    fn new(
        rs: &'r Ruleset,
        input_pos: &'p [usize],
        params: &'p [ParamValue],
        budget: &'p Cell<u32>,
    ) -> Self {
        Compiler {
            rs,
            input_pos,
            params,
            key: None,
            depth: 0,
            budget,
        }
    }
}

impl<'r> Compiler<'r, '_> {
    fn guard(&self, c: Option<&'r ir::Expr>) -> Guard<'r> {
        match c.map(|c| (c, self.const_cond(c))) {
            None | Some((_, Some(Tri::True))) => Guard::Always,
            Some((_, Some(Tri::False))) => Guard::Never,
            Some((c, _)) => Guard::When(self.cond(c)),
        }
    }

    /// A definition's body.
    fn body(&self, d: &'r ir::Def) -> Compiled<'r> {
        match &d.body {
            Body::Expr(e) => Compiled::Expr(self.val(e)),
            Body::Rules(rules) => Compiled::Rules(
                rules,
                rules
                    .iter()
                    .enumerate()
                    .map(|(j, r)| {
                        // A condition that an earlier rule's repeats cannot hold here: that
                        // rule would have applied (reading the same values).
                        let repeated = r.cond.as_ref().is_some_and(|cj| {
                            rules[..j].iter().any(|ri| {
                                ri.cond
                                    .as_ref()
                                    .is_some_and(|ci| same_expr(self.folded(ci), self.folded(cj)))
                            })
                        });
                        let guard = if repeated {
                            Guard::Never
                        } else {
                            self.guard(r.cond.as_ref())
                        };
                        (guard, self.val(&r.head))
                    })
                    .collect(),
            ),
            Body::Table(tab) => {
                Compiled::Table(tab, tab.columns.iter().map(|x| self.val(x)).collect())
            }
        }
    }

    /// The tree walker's value of `e`.
    fn walk_val(&self, e: &'r ir::Expr) -> ValFn<'r> {
        Box::new(move |ev, t, l| ev.eval(t, l, e))
    }

    fn val(&self, e: &'r ir::Expr) -> ValFn<'r> {
        match &e.kind {
            K::Lit(Lit::Cat(c)) => {
                let c = *c;
                Box::new(move |_, _, _| Val::Cat(c))
            }
            K::Lit(Lit::Status(s)) => {
                let s = *s;
                Box::new(move |_, _, _| Val::Status(s))
            }
            K::Def(d) => {
                if let Some(v) = self.def_const(*d) {
                    return Box::new(move |_, _, _| v);
                }
                if let Some((c, head)) = self.inline(*d) {
                    return c.val(head);
                }
                let d = *d;
                match self.rs.defs[d].level {
                    DefLevel::Assessment => Box::new(move |ev, t, _| *ev.value(t, d)),
                    DefLevel::Lesion => Box::new(move |ev, t, l| match l {
                        Scope::Lesion(l) => ev.lesion_value(t, l, d),
                        _ => Val::None,
                    }),
                    DefLevel::Organ => self.walk_val(e),
                }
            }
            K::Not(_)
            | K::And(_)
            | K::Or(_)
            | K::Definitely(_)
            | K::Cmp(..)
            | K::Agg(AggFn::All | AggFn::Any, ..)
            | K::In(..)
            | K::Ever(_)
            | K::Later(_)
            | K::Known(_) => {
                let c = self.cond(e);
                Box::new(move |ev, t, l| Val::Bool(c(ev, t, l)))
            }
            // A number's value is a number or no value (never a category or a condition).
            _ if is_num(e) => {
                let n = self.num(e);
                // Arithmetic on exact values worked out as decimals (`exact.rs`).
                if let (K::Bin(..), Some(x)) = (&e.kind, self.exact(e)) {
                    return Box::new(move |ev, t, l| match x.get(ev, t, l) {
                        Some(d) => Val::Num(Iv::exact(d)),
                        None => n(ev, t, l).map(Val::Num).unwrap_or(Val::None),
                    });
                }
                Box::new(move |ev, t, l| n(ev, t, l).map(Val::Num).unwrap_or(Val::None))
            }
            // Numbers are compiled by `num` (above).
            K::If(c, a, b) => {
                let (c, a, b) = (self.cond(c), self.val(a), self.val(b));
                let cat = e.ty == Ty::Cat;
                Box::new(move |ev, t, l| match c(ev, t, l) {
                    Tri::True => a(ev, t, l),
                    Tri::False => b(ev, t, l),
                    Tri::Unknown => {
                        let j = join(ev, a(ev, t, l), b(ev, t, l));
                        if cat && j == Val::None {
                            ev.undecided_cat()
                        } else {
                            j
                        }
                    }
                })
            }
            K::At(x, r) => {
                // At another assessment the lesion's status may differ.
                let (x, r) = (self.plain().val(x), *r);
                Box::new(move |ev, t, l| match ev.resolve(t, r) {
                    Some(k) => x(ev, k, l),
                    None => Val::None,
                })
            }
            K::Last(x) => {
                let x = self.plain().val(x);
                Box::new(move |ev, t, l| {
                    let ne = ev.eng.ne();
                    for k in (0..t).rev() {
                        let v = x(ev, k, l);
                        if decided(&v, ne) {
                            return v;
                        }
                    }
                    Val::None
                })
            }
            K::TableCall(d, args) => {
                let Body::Table(tab) = &self.rs.defs[*d].body else {
                    return Box::new(|_, _, _| Val::None);
                };
                let d = *d;
                let cols: Vec<ValFn<'r>> = args.iter().map(|a| self.val(a)).collect();
                Box::new(move |ev, t, l| {
                    let vals: SmallVec<[Val; 4]> = cols.iter().map(|c| c(ev, t, l)).collect();
                    ev.lookup_def(d, tab, &vals).0
                })
            }
            _ => self.walk_val(e),
        }
    }

    fn num(&self, e: &'r ir::Expr) -> NumFn<'r> {
        if let Some(v) = self.const_num(e) {
            return Box::new(move |_, _, _| Some(v));
        }
        match &e.kind {
            // Literals and numeric params are constants (above); a param set to `none` has no
            // value.
            K::Param(_) => Box::new(|_, _, _| None),
            K::Input(i) if self.rs.inputs[*i].level == InputLevel::Lesion => self.lesion_input(*i),
            K::Def(d) => {
                if let Some((c, head)) = self.inline(*d) {
                    return c.num(head);
                }
                let d = *d;
                let num = |v: &Val| match v {
                    Val::Num(iv) => Some(*iv),
                    _ => None,
                };
                match self.rs.defs[d].level {
                    DefLevel::Assessment => Box::new(move |ev, t, _| num(ev.value(t, d))),
                    DefLevel::Lesion => Box::new(move |ev, t, l| match l {
                        Scope::Lesion(l) => num(&ev.lesion_value(t, l, d)),
                        _ => None,
                    }),
                    DefLevel::Organ => self.walk_num(e),
                }
            }
            K::Bin(op, a, b) => self.bin(*op, self.num(a), self.num(b), e.span),
            K::At(x, r) => {
                let (x, r) = (self.plain().num(x), *r);
                Box::new(move |ev, t, l| x(ev, ev.resolve(t, r)?, l))
            }
            K::Neg(x) | K::Abs(x) => {
                let f = if matches!(e.kind, K::Neg(_)) {
                    Iv::negate
                } else {
                    Iv::abs
                };
                let x = self.num(x);
                Box::new(move |ev, t, l| x(ev, t, l).map(f))
            }
            K::If(c, a, b) => {
                let (c, a, b) = (self.cond(c), self.num(a), self.num(b));
                Box::new(move |ev, t, l| match c(ev, t, l) {
                    Tri::True => a(ev, t, l),
                    Tri::False => b(ev, t, l),
                    // Both, as `join` of two numbers: their hull, or no value.
                    Tri::Unknown => match (a(ev, t, l), b(ev, t, l)) {
                        (Some(x), Some(y)) => Some(x.hull(y)),
                        _ => None,
                    },
                })
            }
            K::Nadir(x, ir::Ref::Baseline) => match x.kind {
                K::Def(d) if self.rs.defs[d].level == DefLevel::Assessment => {
                    Box::new(move |ev, t, l| match l {
                        Scope::Assessment => Some(ev.nadir_from_baseline(t, d, x)?.0),
                        _ => Some(ev.nadir_kept(t, l, x, 0)?.0),
                    })
                }
                _ => Box::new(move |ev, t, l| Some(ev.nadir_kept(t, l, x, 0)?.0)),
            },
            K::Nadir(x, r) => {
                let r = *r;
                Box::new(move |ev, t, l| Some(ev.nadir_kept(t, l, x, ev.resolve(t, r)?)?.0))
            }
            K::DaysSince(r) => {
                let r = *r;
                Box::new(move |ev, t, _| Some(ev.time_between(ev.resolve(t, r)?, t)))
            }
            K::Agg(f @ (AggFn::Sum | AggFn::Max | AggFn::Min | AggFn::Count), elem, g) => {
                self.aggregate_num(*f, elem.as_deref(), g, e)
            }
            _ => self.walk_num(e),
        }
    }

    fn walk_num(&self, e: &'r ir::Expr) -> NumFn<'r> {
        Box::new(move |ev, t, l| match ev.eval(t, l, e) {
            Val::Num(iv) => Some(iv),
            _ => None,
        })
    }

    /// A lesion's measurement, as `Evaluation::input`.
    fn lesion_input(&self, i: usize) -> NumFn<'r> {
        let pos = self.input_pos[i];
        let unknown = unknown_input(&self.rs.inputs[i]);
        Box::new(move |ev, t, l| match read_input(ev, t, l, i, pos)? {
            Some(v) => Some(Iv::exact(v)),
            None => Some(unknown),
        })
    }

    /// The lesion-level input that `e` reads, where it is one (or a lesion-level definition
    /// read in place that is one: `size` of a node).
    fn as_input(&self, e: &'r ir::Expr) -> Option<usize> {
        match &e.kind {
            K::Input(i) if self.rs.inputs[*i].level == InputLevel::Lesion => Some(*i),
            K::Def(d) if self.def_const(*d).is_none() => {
                let (c, head) = self.inline(*d)?;
                c.as_input(head)
            }
            _ => None,
        }
    }

    /// `a op b`, with the problems the tree walker notes.
    fn bin(&self, op: BinOp, a: NumFn<'r>, b: NumFn<'r>, span: ir::Span) -> NumFn<'r> {
        Box::new(move |ev, t, l| {
            let (x, y) = (a(ev, t, l), b(ev, t, l));
            ev.arith(l, span, op, x?, y?)
        })
    }

    fn cond(&self, e: &'r ir::Expr) -> CondFn<'r> {
        if let Some(v) = self.const_cond(e) {
            return Box::new(move |_, _, _| v);
        }
        // Literals and params are constants (above).
        match &e.kind {
            K::Not(x) => {
                let x = self.cond(x);
                Box::new(move |ev, t, l| x(ev, t, l).negate())
            }
            K::And(xs) | K::Or(xs) => {
                let (all, xs_src) = (matches!(e.kind, K::And(_)), xs);
                let (start, decided) = if all {
                    (Tri::True, Tri::False)
                } else {
                    (Tri::False, Tri::True)
                };
                // A constant that changes nothing (true in `and`, false in `or`) is left out.
                let mut xs: Vec<CondFn<'r>> = xs
                    .iter()
                    .filter(|x| self.const_cond(x) != Some(start))
                    .map(|x| self.cond(x))
                    .collect();
                if xs.len() == 1 {
                    return xs.remove(0);
                }
                let general: CondFn<'r> = Box::new(move |ev, t, l| {
                    let mut acc = start;
                    for x in &xs {
                        let v = x(ev, t, l);
                        acc = if all { acc.and(v) } else { acc.or(v) };
                        if acc == decided {
                            break;
                        }
                    }
                    acc
                });
                // Comparisons of exact numbers sharing their parts (`exact.rs`).
                match all.then(|| self.conjunction(xs_src)).flatten() {
                    Some(c) => exact::conjunction(c, general),
                    None => general,
                }
            }
            K::Definitely(x) => {
                let x = self.cond(x);
                Box::new(move |ev, t, l| Tri::from(x(ev, t, l) == Tri::True))
            }
            K::Cmp(op, a, b) => self.comparison(*op, a, b, e),
            K::Field(ir::Field::Nodal) => Box::new(|ev, _, l| match l {
                Scope::Lesion(l) => Tri::from(ev.subj.lesions[l].nodal),
                _ => Tri::False,
            }),
            K::Def(d) => {
                if let Some((c, head)) = self.inline(*d) {
                    return c.cond(head);
                }
                let d = *d;
                match self.rs.defs[d].level {
                    DefLevel::Assessment => Box::new(move |ev, t, _| truth(ev.value(t, d))),
                    DefLevel::Lesion => Box::new(move |ev, t, l| match l {
                        Scope::Lesion(l) => truth(&ev.lesion_value(t, l, d)),
                        _ => Tri::False,
                    }),
                    DefLevel::Organ => self.walk_cond(e),
                }
            }
            K::Agg(f @ (AggFn::All | AggFn::Any), Some(elem), g) => {
                self.all_any(*f == AggFn::All, elem, g)
            }
            K::In(x, items, negated) => self.in_cats(x, items, *negated, e),
            K::Known(x) if is_num(x) => {
                let x = self.num(x);
                Box::new(move |ev, t, l| Tri::from(x(ev, t, l).is_some_and(|iv| iv.is_exact())))
            }
            K::Known(x) => {
                let x = self.val(x);
                Box::new(move |ev, t, l| {
                    Tri::from(match x(ev, t, l) {
                        Val::Num(iv) => iv.is_exact(),
                        Val::Bool(b) => b != Tri::Unknown,
                        Val::None => false,
                        _ => true,
                    })
                })
            }
            // Every earlier assessment is evaluated (each may note a problem).
            K::Ever(x) => {
                let x = self.plain().cond(x);
                Box::new(move |ev, t, l| {
                    let mut acc = Tri::False;
                    for k in 0..t {
                        acc = acc.or(x(ev, k, l));
                    }
                    acc
                })
            }
            K::Later(x) => {
                let x = self.plain().cond(x);
                Box::new(move |ev, t, l| {
                    let mut acc = Tri::False;
                    for k in t + 1..ev.subj.assessments.len() {
                        acc = acc.or(x(ev, k, l));
                        if acc == Tri::True {
                            break;
                        }
                    }
                    acc
                })
            }
            _ => self.walk_cond(e),
        }
    }

    fn walk_cond(&self, e: &'r ir::Expr) -> CondFn<'r> {
        Box::new(move |ev, t, l| ev.cond(t, l, e))
    }

    /// `a op b`: a lesion's role or status against a literal, numbers, or (else) values.
    fn comparison(
        &self,
        op: CmpOp,
        a: &'r ir::Expr,
        b: &'r ir::Expr,
        e: &'r ir::Expr,
    ) -> CondFn<'r> {
        let eq = op == CmpOp::Eq;
        match (&a.kind, &b.kind) {
            (K::Field(ir::Field::Role), K::Lit(Lit::Role(r)))
            | (K::Lit(Lit::Role(r)), K::Field(ir::Field::Role)) => {
                let r = *r;
                return Box::new(move |ev, _, l| match l {
                    Scope::Lesion(l) => Tri::from((ev.subj.lesions[l].role == r) == eq),
                    _ => Tri::False,
                });
            }
            (K::Field(ir::Field::Status), K::Lit(Lit::Status(s)))
            | (K::Lit(Lit::Status(s)), K::Field(ir::Field::Status)) => {
                let s = *s;
                return Box::new(move |ev, t, l| match l {
                    Scope::Lesion(l) => match ev.slot(t, l) {
                        Some(slot) => Tri::from((slot.status == s) == eq),
                        None => Tri::False,
                    },
                    _ => Tri::False,
                });
            }
            _ => {}
        }
        // A text literal is compared where it is (`compare_text`).
        if [a, b]
            .iter()
            .any(|x| matches!(x.kind, K::Lit(Lit::Text(_))))
        {
            return self.walk_cond(e);
        }
        if !(is_num(a) && is_num(b)) {
            let (x, y) = (self.val(a), self.val(b));
            return Box::new(move |ev, t, l| compare(ev, op, &x(ev, t, l), &y(ev, t, l)));
        }
        // Against a constant (`size < node_normal`, `count(g) = 0`): one closure fewer, and
        // an exact value against an exact constant compared as two decimals.
        match (self.const_num(a), self.const_num(b)) {
            (None, Some(c)) => {
                // A measurement against an exact constant (`size = 0 mm` of a non-nodal
                // target, `size < node_normal` of a node): the decimal read where it is.
                if let (Some(i), Some(k)) = (self.as_input(a), c.same_bits()) {
                    let (pos, unknown) = (self.input_pos[i], unknown_input(&self.rs.inputs[i]));
                    return Box::new(move |ev, t, l| match read_input(ev, t, l, i, pos) {
                        Some(Some(v)) => compare_exact(op, v, k),
                        Some(None) => compare_num(op, unknown, c),
                        None => Tri::False,
                    });
                }
                let x = self.num(a);
                let exact = c.same_bits();
                if let (Some(ea), Some(k)) = (self.exact(a), exact) {
                    return Box::new(move |ev, t, l| match ea.get(ev, t, l) {
                        Some(v) => compare_exact(op, v, k),
                        None => match x(ev, t, l) {
                            Some(x) => compare_num(op, x, c),
                            None => Tri::False,
                        },
                    });
                }
                return Box::new(move |ev, t, l| match (x(ev, t, l), exact) {
                    (Some(x), Some(k)) => match x.same_bits() {
                        Some(v) => compare_exact(op, v, k),
                        None => compare_num(op, x, c),
                    },
                    (Some(x), None) => compare_num(op, x, c),
                    (None, _) => Tri::False,
                });
            }
            (Some(c), None) => {
                let y = self.num(b);
                if let (Some(k), Some(eb)) = (c.same_bits(), self.exact(b)) {
                    return Box::new(move |ev, t, l| match eb.get(ev, t, l) {
                        Some(v) => compare_exact(op, k, v),
                        None => match y(ev, t, l) {
                            Some(y) => compare_num(op, c, y),
                            None => Tri::False,
                        },
                    });
                }
                return Box::new(move |ev, t, l| match y(ev, t, l) {
                    Some(y) => compare_num(op, c, y),
                    None => Tri::False,
                });
            }
            _ => {}
        }
        let (x, y) = (self.num(a), self.num(b));
        let general = move |ev: &Evaluation<'_>, t, l| {
            let (x, y) = (x(ev, t, l), y(ev, t, l));
            let (Some(x), Some(y)) = (x, y) else {
                return Tri::False;
            };
            compare_num(op, x, y)
        };
        // Two exact sides compared as decimals (`exact.rs`), the general way otherwise.
        if let (Some(ea), Some(eb)) = (self.exact(a), self.exact(b)) {
            return Box::new(move |ev, t, l| {
                if let Some(x) = ea.get(ev, t, l) {
                    if let Some(y) = eb.get(ev, t, l) {
                        return compare_exact(op, x, y);
                    }
                }
                general(ev, t, l)
            });
        }
        Box::new(general)
    }

    /// `x in {categories}`, as the tree walker's `K::In` for a category value.
    fn in_cats(
        &self,
        x: &'r ir::Expr,
        items: &'r [Lit],
        negated: bool,
        e: &'r ir::Expr,
    ) -> CondFn<'r> {
        if matches!(x.kind, K::Field(ir::Field::Status)) {
            return self.in_statuses(items, negated, e);
        }
        let mut mask = 0u64;
        for lit in items {
            match lit {
                Lit::Cat(c) if *c < 64 => mask |= 1 << c,
                _ => return self.walk_cond(e),
            }
        }
        if x.ty != Ty::Cat {
            return self.walk_cond(e);
        }
        let x = self.val(x);
        let hit = move |h: Tri| if negated { h.negate() } else { h };
        Box::new(move |ev, t, l| match x(ev, t, l) {
            Val::None => Tri::False,
            Val::Cats(0) => hit(Tri::False),
            Val::Cats(m) => hit(match m & mask {
                x if x == m => Tri::True,
                0 => Tri::False,
                _ => Tri::Unknown,
            }),
            Val::Cat(c) => hit(Tri::from(c < 64 && mask >> c & 1 == 1)),
            _ => hit(Tri::False),
        })
    }

    /// `status in {statuses}`: no value (false) where the lesion has no slot.
    fn in_statuses(&self, items: &'r [Lit], negated: bool, e: &'r ir::Expr) -> CondFn<'r> {
        let mut mask = 0u32;
        for lit in items {
            match lit {
                Lit::Status(s) => mask |= 1 << *s as u32,
                _ => return self.walk_cond(e),
            }
        }
        Box::new(move |ev, t, l| match l {
            Scope::Lesion(l) => match ev.slot(t, l) {
                Some(slot) => Tri::from((mask >> slot.status as u32 & 1 == 1) != negated),
                None => Tri::False,
            },
            _ => Tri::False,
        })
    }

    /// Whether `g` is, or names, a "top N" group: its sums and maxima have bounds of their
    /// own (`Evaluation::top_bounds`), left to the tree walker.
    fn is_top(&self, g: &ir::Group) -> bool {
        match g {
            ir::Group::Named(id) => matches!(self.rs.groups[*id].group, ir::Group::Top { .. }),
            g => matches!(g, ir::Group::Top { .. }),
        }
    }

    /// An aggregate's element, each member in its own scope: compiled by `f` for each key of
    /// the member, and as written. Once per aggregate: within a body compiled for a key, or
    /// another aggregate's element, only as written (so that nested aggregates do not
    /// multiply the code).
    fn elem<T>(&self, f: impl Fn(&Self) -> Fun<'r, T>) -> Elem<'r, T> {
        let top = self.key.is_none();
        Elem {
            plain: f(&self.plain()),
            keyed: keys().filter(|_| top).map(|k| f(&self.keyed(k))).collect(),
            table: None,
            quiet: false,
        }
    }

    /// `all(g: elem)` / `any(g: elem)`, as `Evaluation::aggregate`.
    fn all_any(&self, all: bool, elem: &'r ir::Expr, g: &'r ir::Group) -> CondFn<'r> {
        let mut each = self.elem(|c| c.cond(elem));
        // Where every key gives a constant, a table instead of code per member.
        let mut masks = None;
        if !each.keyed.is_empty() {
            let known: Vec<Option<Tri>> = keys().map(|k| self.keyed(k).const_cond(elem)).collect();
            masks = Some(KeyMasks::of(&known));
            each.table = known.into_iter().collect();
            each.quiet = keys().all(|k| self.keyed(k).quiet(elem));
        }
        let fixed = fixed_group(self.rs, g);
        Box::new(move |ev, t, l| {
            let fixed = fixed.filter(|_| l.outside_organ());
            // Each member of a group of fixed members has a slot there, and so its element
            // for its key: where none of those notes anything (and no input is without a
            // column), the members after the first that decides are not evaluated.
            let stop = each.quiet && ev.absent == 0;
            if let Some((slots, keys)) = fixed.and_then(|id| ev.listed(t, id)) {
                // Members whose keys all give a constant: decided by their keys alone.
                if let Some(r) = masks.and_then(|m| m.decide(all, keys)) {
                    return r;
                }
                let items = (ev.listed_members(t, slots))
                    .map(|(les, k)| (Tri::True, each.at_key(ev, t, les, k)));
                return fold_all_any(all, stop, items);
            }
            if let Some(m) = fixed.and_then(|id| ev.fixed_mask(t, id)) {
                let items = ev.masked(t, m).map(|(les, m)| (m, each.at(ev, t, les)));
                return fold_all_any(all, stop, items);
            }
            let at = |(les, m)| (m, each.at(ev, t, les));
            match ev.kept_range(t, l, g) {
                Some((a, b)) => fold_all_any(all, false, (a..b).map(|i| at(ev.member(i)))),
                None => fold_all_any(all, false, ev.members_in(t, l, g).into_iter().map(at)),
            }
        })
    }

    /// `count(g)`, `sum(elem of g)`, `max(...)`, `min(...)`, as `Evaluation::aggregate`.
    fn aggregate_num(
        &self,
        f: AggFn,
        elem: Option<&'r ir::Expr>,
        g: &'r ir::Group,
        e: &'r ir::Expr,
    ) -> NumFn<'r> {
        if f == AggFn::Count {
            let fixed = fixed_group(self.rs, g);
            return Box::new(move |ev, t, l| {
                let fixed = fixed.filter(|_| l.outside_organ());
                if let Some((slots, _)) = fixed.and_then(|id| ev.listed(t, id)) {
                    return Some(Iv::exact(Decimal::from(slots.count_ones())));
                }
                if let Some(m) = fixed.and_then(|id| ev.fixed_mask(t, id)) {
                    return Some(count_members(ev.masked(t, m).map(|(_, m)| m)));
                }
                match ev.kept_range(t, l, g) {
                    Some((a, b)) => Some(count_members((a..b).map(|i| ev.member(i).1))),
                    None => Some(count_members(
                        ev.members_in(t, l, g).into_iter().map(|(_, m)| m),
                    )),
                }
            });
        }
        let Some(elem) = elem else {
            return self.walk_num(e);
        };
        if matches!(f, AggFn::Sum | AggFn::Max) && self.is_top(g) {
            return self.walk_num(e);
        }
        // A sum whose element has exact forms (`exact.rs`) by key: exact members summed as
        // decimals, the general way where one is not exact.
        let exact: Option<Vec<Option<exact::Exact<'r>>>> = (f == AggFn::Sum && self.key.is_none())
            .then(|| keys().map(|k| self.keyed(k).exact(elem)).collect());
        let elem = self.elem(|c| c.num(elem));
        let span = e.span;
        let fixed = fixed_group(self.rs, g);
        Box::new(move |ev, t, l| {
            let fixed = fixed.filter(|_| l.outside_organ());
            if let Some((slots, _)) = fixed.and_then(|id| ev.listed(t, id)) {
                if let Some(sum) = exact.as_deref().and_then(|x| exact::sum(ev, t, slots, x)) {
                    return Some(Iv::exact(sum));
                }
                let items = (ev.listed_members(t, slots))
                    .map(|(les, k)| (Tri::True, elem.at_key(ev, t, les, k)));
                return fold_num(ev, l, f, span, items);
            }
            if let Some(m) = fixed.and_then(|id| ev.fixed_mask(t, id)) {
                let items = ev.masked(t, m).map(|(les, m)| (m, elem.at(ev, t, les)));
                return fold_num(ev, l, f, span, items);
            }
            let at = |(les, m)| (m, elem.at(ev, t, les));
            match ev.kept_range(t, l, g) {
                Some((a, b)) => fold_num(ev, l, f, span, (a..b).map(|i| at(ev.member(i)))),
                None => fold_num(ev, l, f, span, ev.members_in(t, l, g).into_iter().map(at)),
            }
        })
    }
}

/// Input `i` (at `pos` among a lesion's values) of the lesion in scope at `t`, as
/// `Evaluation::input` reads it: `None` without a lesion or slot, `Some(None)` where it is not
/// recorded (noted as read, for an input without a column).
#[inline]
fn read_input(
    ev: &Evaluation<'_>,
    t: usize,
    l: Scope,
    i: usize,
    pos: usize,
) -> Option<Option<Decimal>> {
    let si = match l {
        Scope::Lesion(l) => ev.slot_index(t, l)?,
        _ => return None,
    };
    let v = *ev.subj.assessments[t]
        .values
        .get(si * ev.subj.width + pos)?;
    if v.is_none() {
        ev.mark_absent_read(t, i);
    }
    Some(v)
}

/// `x op y` for two exact numbers, as `compare_num` gives it for them.
#[inline]
fn compare_exact(op: CmpOp, x: Decimal, y: Decimal) -> Tri {
    Tri::from(match op {
        CmpOp::Lt => dcmp(x, y).is_lt(),
        CmpOp::Le => dcmp(x, y).is_le(),
        CmpOp::Gt => dcmp(y, x).is_lt(),
        CmpOp::Ge => dcmp(y, x).is_le(),
        CmpOp::Eq => same_decimal(x, y),
        CmpOp::Ne => !same_decimal(x, y),
    })
}

/// `x op y` for two numbers.
fn compare_num(op: CmpOp, x: Iv, y: Iv) -> Tri {
    match op {
        CmpOp::Lt => x.lt(y),
        CmpOp::Le => x.le(y),
        CmpOp::Gt => y.lt(x),
        CmpOp::Ge => y.le(x),
        CmpOp::Eq => x.same(y),
        CmpOp::Ne => x.same(y).negate(),
    }
}

/// `all` / `any` over members that belong for sure (true) or maybe (unknown), each with its
/// element (evaluated as the fold reaches it); every member is evaluated (each may note a
/// problem), in order, as `Evaluation::fold`, unless `stop`: the members after the first that
/// decides are then left out (their elements note nothing).
fn fold_all_any(all: bool, stop: bool, items: impl Iterator<Item = (Tri, Tri)>) -> Tri {
    let decided = Tri::from(!all);
    let mut acc = Tri::from(all);
    for (m, v) in items {
        acc = quantify(all, acc, m, v);
        if stop && acc == decided {
            break;
        }
    }
    acc
}

/// An `all`/`any` element's value known for each key (`compile::key_index`), a bit per key:
/// where a group's members have only such keys, their keys decide it.
#[derive(Clone, Copy)]
struct KeyMasks {
    yes: u64,
    maybe: u64,
    no: u64,
    /// Keys whose element must be evaluated.
    unknown: u64,
}

impl KeyMasks {
    fn of(known: &[Option<Tri>]) -> KeyMasks {
        let mut m = KeyMasks {
            yes: 0,
            maybe: 0,
            no: 0,
            unknown: 0,
        };
        for (k, v) in known.iter().enumerate().take(64) {
            let bit = 1 << k;
            match v {
                Some(Tri::True) => m.yes |= bit,
                Some(Tri::Unknown) => m.maybe |= bit,
                Some(Tri::False) => m.no |= bit,
                None => m.unknown |= bit,
            }
        }
        m.unknown |= u64::MAX.checked_shl(known.len() as u32).unwrap_or(0);
        m
    }

    /// `all` (or `any`) of members that surely belong, whose keys are `keys`, as
    /// `fold_all_any` gives it; `None` where one's element must be evaluated.
    fn decide(self, all: bool, keys: u64) -> Option<Tri> {
        if keys & self.unknown != 0 {
            return None;
        }
        let (decides, decided) = if all {
            (self.no, Tri::False)
        } else {
            (self.yes, Tri::True)
        };
        Some(if keys & decides != 0 {
            decided
        } else if keys & self.maybe != 0 {
            Tri::Unknown
        } else {
            decided.negate()
        })
    }
}

/// An aggregate's element, compiled for each key of the member it is read for (and as it is
/// written, for a member without a slot); a table of their values where each is a constant.
struct Elem<'r, T> {
    plain: Fun<'r, T>,
    keyed: Vec<Fun<'r, T>>,
    table: Option<Vec<T>>,
    /// Whether the element for every key notes nothing (`Compiler::quiet`).
    quiet: bool,
}

impl<T: Copy> Elem<'_, T> {
    #[inline]
    fn at(&self, ev: &Evaluation<'_>, t: usize, les: usize) -> T {
        match ev.key_index(t, les) {
            Some(k) => self.at_key(ev, t, les, k),
            None => (self.plain)(ev, t, Scope::Lesion(les)),
        }
    }

    /// The element for lesion `les`, whose key at `t` is `k`.
    #[inline]
    fn at_key(&self, ev: &Evaluation<'_>, t: usize, les: usize, k: usize) -> T {
        match (&self.table, self.keyed.get(k)) {
            (Some(tab), _) if k < tab.len() => tab[k],
            (_, Some(f)) => f(ev, t, Scope::Lesion(les)),
            _ => (self.plain)(ev, t, Scope::Lesion(les)),
        }
    }
}

/// `sum`, `max` or `min` of a value over members, as `Evaluation::fold`.
fn fold_num(
    ev: &Evaluation<'_>,
    l: Scope,
    f: AggFn,
    span: ir::Span,
    items: impl Iterator<Item = (Tri, Option<Iv>)>,
) -> Option<Iv> {
    let mut acc = fold_start(f);
    // A sum of exact values, kept as a decimal while it is one (as `fold_value` would make
    // it); the first other term goes the general way.
    let mut exact = (f == AggFn::Sum).then_some(Decimal::ZERO);
    for (m, v) in items {
        let Some(v) = v else {
            continue;
        };
        if let (Some(s), Tri::True, Some(x)) = (exact, m, v.same_bits()) {
            if let Some(r) = s.checked_add(x) {
                exact = Some(r);
                continue;
            }
        }
        if let Some(s) = exact.take() {
            acc = Some(Iv::exact(s));
        }
        let (r, out_of_range) = fold_value(f, acc, v, m);
        if out_of_range {
            ev.note(l, span, Trouble::OutOfRange);
        }
        acc = Some(r);
    }
    exact.map(Iv::exact).or(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ir::{Role, Status};

    /// Input positions (each input its own, as where every input is a lesion's) and the
    /// params' defaults, to compile `rs` with.
    pub(super) fn defaults(rs: &Ruleset) -> (Vec<usize>, Vec<ParamValue>) {
        let input_pos = (0..rs.inputs.len()).collect();
        let params = rs.params.iter().map(|p| p.value.clone()).collect();
        (input_pos, params)
    }

    /// An element known for each key decides `all`/`any` of members by their keys as the
    /// fold over the members gives it: every set of keys among four, each key's element
    /// true, unknown, false or to be evaluated.
    #[test]
    fn key_masks_decide_as_the_fold() {
        let tris = [Some(Tri::True), Some(Tri::Unknown), Some(Tri::False), None];
        for code in 0..4usize.pow(4) {
            let known: Vec<Option<Tri>> = (0..4).map(|k| tris[code / 4usize.pow(k) % 4]).collect();
            let m = KeyMasks::of(&known);
            for keys in 0u64..16 {
                let members: Vec<usize> = (0..4).filter(|k| keys >> k & 1 == 1).collect();
                for all in [false, true] {
                    let got = m.decide(all, keys);
                    if members.iter().any(|&k| known[k].is_none()) {
                        assert_eq!(got, None, "{known:?} {keys:b}");
                        continue;
                    }
                    let fold = fold_all_any(
                        all,
                        false,
                        members
                            .iter()
                            .map(|&k| (Tri::True, known[k].unwrap_or(Tri::Unknown))),
                    );
                    assert_eq!(got, Some(fold), "{known:?} {keys:b} all={all}");
                }
            }
        }
        // Keys past those compiled for are evaluated.
        assert_eq!(KeyMasks::of(&[Some(Tri::True)]).decide(false, 0b10), None);
    }

    /// RECIST 1.1's PD rule as one conjunction of exact comparisons: `sum`, `nadir(sum)`,
    /// `sum - nadir(sum)` each once (six parts, where the two comparisons name nine), the
    /// third condition (`nadir(sum) > 0 mm or nadir_zero_counts`) true with the default.
    #[test]
    fn recist_pd_rule_shares_its_parts() {
        let checked = crate::check::load("recist-1.1").unwrap_or_else(|_| panic!("loads"));
        let rs = &checked.ruleset;
        let (input_pos, params) = defaults(rs);
        let budget = Cell::new(BUDGET);
        let c = Compiler::new(rs, &input_pos, &params, &budget);
        let target = rs.defs.iter().find(|d| d.name == "target").unwrap();
        let Body::Rules(rules) = &target.body else {
            panic!("rules")
        };
        let pd = rules.iter().find_map(|r| match &r.cond {
            Some(e) if matches!(&e.kind, K::And(xs) if xs.len() == 3) => Some(e),
            _ => None,
        });
        let Some(ir::Expr {
            kind: K::And(xs), ..
        }) = pd
        else {
            panic!("the PD rule")
        };
        let conj = c.conjunction(xs).unwrap_or_else(|| panic!("a conjunction"));
        assert_eq!((conj.comparisons(), conj.parts()), (2, 6));
    }

    /// What RECIST 1.1 compiles to: `size` for a lesion of a given status, nodal flag and
    /// role is one of its rules; `normal` of a node reads no nodal flag; the target
    /// response's second CR rule is never evaluated while CR comes before PD (its condition
    /// is then the first CR rule's).
    #[test]
    fn recist_per_lesion_and_repeated_condition() {
        let checked = crate::check::load("recist-1.1").unwrap_or_else(|_| panic!("loads"));
        let rs = &checked.ruleset;
        let def = |n: &str| rs.defs.iter().position(|d| d.name == n).unwrap();
        let (input_pos, mut params) = defaults(rs);
        let guards = |c: &Compiled<'_>| match c {
            Compiled::Rules(_, rules) => rules
                .iter()
                .map(|(g, _)| match g {
                    Guard::Always => 'A',
                    Guard::Never => 'N',
                    Guard::When(_) => 'W',
                })
                .collect::<String>(),
            _ => panic!("rules"),
        };
        let per = |prog: &[Compiled<'_>], n: &str, status, nodal, role| match &prog[def(n)] {
            Compiled::Lesion(per) => guards(
                &per[key_index(Key {
                    status,
                    nodal,
                    role,
                })],
            ),
            _ => panic!("{n} per lesion"),
        };
        let prog = program(rs, &input_pos, &params);
        // 0 mm when absent, too_small when too small, short_axis when nodal, long_axis
        // otherwise: the first rule that always holds applies.
        assert_eq!(
            per(&prog, "size", Status::Absent, true, Role::Target),
            "ANAA"
        );
        assert_eq!(
            per(&prog, "size", Status::Present, true, Role::Target),
            "NNAA"
        );
        assert_eq!(
            per(&prog, "size", Status::Present, false, Role::New),
            "NNNA"
        );
        // NA, CR, PD, PD (switched off), CR (repeated), PR, PR (switched off), SD.
        assert_eq!(guards(&prog[def("target")]), "WWWNNWNA");
        let p = rs
            .params
            .iter()
            .position(|p| p.name == "cr_precedence_over_pd")
            .unwrap();
        params[p] = ParamValue::Bool(false);
        let prog = program(rs, &input_pos, &params);
        assert_eq!(guards(&prog[def("target")]), "WNWNWWNA");
    }

    /// The shipped rulesets are compiled well within the budget of looks into lesion-level
    /// definitions (so that none is compiled less well for running out of it).
    #[test]
    fn shipped_rulesets_within_budget() {
        for (id, _) in crate::registry::shipped() {
            let checked = crate::check::load(id).unwrap_or_else(|_| panic!("{id} loads"));
            let rs = &checked.ruleset;
            let (input_pos, params) = defaults(rs);
            let budget = Cell::new(BUDGET);
            program_in(rs, &input_pos, &params, &budget);
            let used = BUDGET - budget.get();
            assert!(used < BUDGET / 10, "{id}: {used} of {BUDGET}");
        }
    }
}
