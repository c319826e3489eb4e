//! A timepoint's decision as a list of steps: every condition tested on the way to the rule or
//! table row that applied, with its verdict and values, in the order the explanation reads them.
//! Two criteria's decisions are compared step by step to find where they part
//! (`compare::divergence`).

use std::collections::HashMap;

use super::text::{head_text, is_condition_value, one_line, reference_summary, src_text};
use super::{detail, format};
use crate::check::ir::{self, AggFn, Body, DefId, ExprKind as K, Ty};
use crate::eval::engine::{truth, Evaluation};
use crate::eval::value::{Tri, Val};

/// Definitions are followed at most this deep.
const DEPTH: usize = 16;

/// One test of a decision.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The same test under another criterion has the same key: where it is written (the
    /// definition and the rule's head), the condition as written, and which occurrence it is.
    pub key: String,
    /// The definition the condition is written in (`target`, `dissociated`).
    pub def: String,
    /// The rule it belongs to as written (`PD`), or `table NAME` for a table's input.
    pub rule: String,
    /// The condition (or the table input) as written.
    pub text: String,
    /// `yes`, `no`, `undecided`; for a table input, the class of its category.
    pub verdict: String,
    /// What [`Step::values`] and [`Step::reads`] show: worked out only for the few steps a
    /// divergence names, not for every step of every trace.
    detail: Detail<'a>,
    /// A test without parts of its own (a comparison, a membership, all/any, a flag).
    pub leaf: bool,
    /// Part of the rule (or table row) that applied, not of an earlier rule that did not.
    pub applied: bool,
    /// Its outcome speaks for the rule's condition: true and not negated, or false under a
    /// `not`, or undecided. A false alternative of an `or` does not.
    pub supports: bool,
}

/// What a step compared, to be shown on demand.
#[derive(Debug, Clone, Copy)]
enum Detail<'a> {
    /// A test with no values of its own (`and`, `or`, `not`, …).
    None,
    /// A table's input: its value.
    Input { t: usize, e: &'a ir::Expr },
    /// A leaf condition written in definition `owner`.
    Leaf {
        t: usize,
        owner: DefId,
        e: &'a ir::Expr,
    },
}

impl Step<'_> {
    /// What was compared: `11.0 mm >= 11.0 mm (pd_increase = 20 %)`, or a category (`ev` is
    /// the evaluation traced).
    pub fn values(&self, ev: &Evaluation) -> String {
        let rs = ev.rs();
        match self.detail {
            Detail::None => String::new(),
            Detail::Input { t, e } => format::value(rs, &ev.eval(t, None, e), e.ty),
            Detail::Leaf { t, e, .. } => match &e.kind {
                K::Cmp(op, a, b) => detail::comparison(ev, t, *op, a, b),
                K::In(x, ..) => format::value(rs, &ev.eval(t, None, x), x.ty),
                K::Agg(f @ (AggFn::All | AggFn::Any), Some(elem), g) => {
                    detail::quantified(ev, t, *f, elem, g)
                        .trim_start_matches(" — ")
                        .trim()
                        .to_string()
                }
                _ => format::value(rs, &ev.eval(t, None, e), e.ty),
            },
        }
    }

    /// The values it reads, one line each (`sum = 80.0 mm (…)`).
    pub fn reads(&self, ev: &Evaluation) -> Vec<String> {
        let Detail::Leaf { t, owner, e } = self.detail else {
            return vec![];
        };
        match &e.kind {
            K::Cmp(_, a, b) => {
                let mut reads = reference_summary(ev, t, owner, a);
                for r in reference_summary(ev, t, owner, b) {
                    if !reads.contains(&r) {
                        reads.push(r);
                    }
                }
                reads
            }
            K::In(x, ..) => reference_summary(ev, t, owner, x),
            K::Agg(AggFn::All | AggFn::Any, Some(_), _) => vec![],
            _ => reference_summary(ev, t, owner, e),
        }
    }
}

/// The steps that decided definition `d` (a response) at assessment `t`.
pub fn trace<'a>(ev: &Evaluation<'a>, t: usize, d: DefId) -> Vec<Step<'a>> {
    let mut b = Builder {
        ev,
        t,
        steps: vec![],
        seen: HashMap::new(),
        applied: true,
        negated: false,
    };
    b.def(d, DEPTH);
    b.steps
}

/// The class of a category value (its name when it has no class).
pub fn class_of(rs: &ir::Ruleset, v: &Val) -> String {
    match v {
        Val::Cat(c) => rs.categories[*c]
            .class
            .clone()
            .unwrap_or_else(|| rs.cat_name(*c).to_string()),
        Val::Cats(_) => "undecided".into(),
        _ => "none".into(),
    }
}

struct Builder<'e, 'a> {
    ev: &'e Evaluation<'a>,
    t: usize,
    steps: Vec<Step<'a>>,
    seen: HashMap<String, usize>,
    /// Whether the steps pushed now belong to what applied.
    applied: bool,
    /// Whether they sit under an odd number of `not`s.
    negated: bool,
}

impl<'a> Builder<'_, 'a> {
    fn push(
        &mut self,
        owner: DefId,
        rule: &str,
        text: String,
        verdict: String,
        detail: Detail<'a>,
    ) {
        let def = self.ev.rs().defs[owner].name.clone();
        let base = format!("{def} | {rule} | {text}");
        let n = self.seen.entry(base.clone()).or_insert(0);
        *n += 1;
        self.steps.push(Step {
            key: format!("{base} | {n}"),
            def,
            rule: rule.to_string(),
            text,
            verdict,
            detail,
            leaf: false,
            applied: self.applied,
            supports: false,
        });
    }

    fn last(&mut self) -> Option<&mut Step<'a>> {
        self.steps.last_mut()
    }

    fn def(&mut self, d: DefId, depth: usize) {
        let (ev, t) = (self.ev, self.t);
        let rs = ev.rs();
        if depth == 0 {
            return;
        }
        let def = &rs.defs[d];
        match &def.body {
            Body::Rules(rules) => {
                let fired = ev.fired(t, d).rule();
                let upto = fired.unwrap_or(rules.len().saturating_sub(1));
                let outer = self.applied;
                for (i, r) in rules.iter().enumerate().take(upto + 1) {
                    let head = head_text(rs, d, r);
                    self.applied = outer && Some(i) == fired;
                    if let Some(c) = &r.cond {
                        self.condition(d, &head, c, depth);
                    }
                    // The head of the rule that applied: a response of its own (`super`) or a
                    // table looked up with other inputs.
                    if Some(i) == fired {
                        match &r.head.kind {
                            K::Def(h) if rs.defs[*h].ty == Ty::Cat => self.def(*h, depth - 1),
                            K::TableCall(tab, args) => self.inputs(d, *tab, args, depth),
                            _ => {}
                        }
                    }
                }
                self.applied = outer;
            }
            Body::Table(tab) => self.inputs(d, d, &tab.columns, depth),
            Body::Expr(_) => {}
        }
    }

    /// A table's inputs, each followed by the steps of the response it reads.
    fn inputs(&mut self, owner: DefId, tab: DefId, cols: &'a [ir::Expr], depth: usize) {
        let (ev, t) = (self.ev, self.t);
        let rs = ev.rs();
        let rule = format!("table {}", rs.defs[tab].name);
        for c in cols {
            let v = ev.eval(t, None, c);
            self.push(
                owner,
                &rule,
                one_line(src_text(rs, owner, c.span)),
                class_of(rs, &v),
                Detail::Input { t, e: c },
            );
            match &c.kind {
                K::Def(x) if rs.defs[*x].ty == Ty::Cat => self.def(*x, depth - 1),
                _ => {
                    if let Some(s) = self.last() {
                        s.leaf = true;
                    }
                }
            }
        }
    }

    /// A condition and its parts, in the order the explanation shows them.
    fn condition(&mut self, owner: DefId, rule: &str, e: &'a ir::Expr, depth: usize) {
        let (ev, t) = (self.ev, self.t);
        let rs = ev.rs();
        if depth == 0 {
            return;
        }
        let text = one_line(src_text(rs, owner, e.span));
        let tri = truth(&ev.eval(t, None, e));
        let verdict = format::tri(tri).to_string();
        let supports = tri == Tri::Unknown || (tri == Tri::True) != self.negated;
        match &e.kind {
            K::And(xs) | K::Or(xs) => {
                self.push(owner, rule, text, verdict, Detail::None);
                for x in xs {
                    self.condition(owner, rule, x, depth - 1);
                }
            }
            K::Not(x) => {
                self.push(owner, rule, text, verdict, Detail::None);
                self.negated = !self.negated;
                self.condition(owner, rule, x, depth - 1);
                self.negated = !self.negated;
            }
            K::Definitely(x) | K::Known(x) => {
                self.push(owner, rule, text, verdict, Detail::None);
                self.condition(owner, rule, x, depth - 1);
            }
            K::Def(x) if is_condition_value(rs, *x) => {
                self.push(owner, rule, text, verdict, Detail::None);
                if let Body::Expr(body) = &rs.defs[*x].body {
                    let name = rs.defs[*x].name.clone();
                    self.condition(*x, &name, body, depth - 1);
                }
            }
            _ => {
                self.push(owner, rule, text, verdict, Detail::Leaf { t, owner, e });
                if let Some(s) = self.last() {
                    s.leaf = true;
                    s.supports = supports;
                }
            }
        }
    }
}
