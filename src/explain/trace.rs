//! A timepoint's decision as a list of steps: every condition tested on the way to the rule or
//! table row that applied, with its verdict and values, in the order the explanation reads them.
//! Two criteria's decisions are compared step by step to find where they part
//! (`compare::divergence`).

use std::borrow::Cow;
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
pub struct Step<'s> {
    /// The definition the condition is written in (`target`, `dissociated`).
    pub def: &'s str,
    /// The rule it belongs to as written (`PD`), or `table NAME` for a table's input.
    pub rule: Cow<'s, str>,
    /// The condition (or the table input) as written.
    pub text: Cow<'s, str>,
    /// Which occurrence of the same definition, rule and text this is (1 for the first).
    pub n: u32,
    /// `yes`, `no`, `undecided`; for a table input, the class of its category.
    pub verdict: &'s str,
    /// What [`Step::values`] and [`Step::reads`] show: worked out only for the few steps a
    /// divergence names, not for every step of every trace.
    detail: Detail<'s>,
    /// A test without parts of its own (a comparison, a membership, all/any, a flag).
    pub leaf: bool,
    /// Part of the rule (or table row) that applied, not of an earlier rule that did not.
    pub applied: bool,
    /// Its outcome speaks for the rule's condition: true and not negated, or false under a
    /// `not`, or undecided. A false alternative of an `or` does not.
    pub supports: bool,
}

/// The same test under another criterion has the same key: where it is written (the
/// definition and the rule's head), the condition as written, and which occurrence it is.
pub type Key<'k> = (&'k str, &'k str, &'k str, u32);

impl Step<'_> {
    pub fn key(&self) -> Key<'_> {
        (self.def, &self.rule, &self.text, self.n)
    }
}

/// The texts that name a ruleset's steps (conditions and table inputs as written, rule heads,
/// tables), worked out once per ruleset instead of at every step of every trace. A text not
/// found here is worked out where it is needed.
#[derive(Debug, Default)]
pub struct Texts {
    /// By the expression's owner and address (expressions stay where the ruleset has them).
    exprs: Sorted<(DefId, usize)>,
    /// By definition and rule.
    heads: Sorted<(DefId, usize)>,
    /// `table NAME`, by table.
    tables: Sorted<DefId>,
}

/// Texts by key, sorted: looked up by binary search, without hashing.
#[derive(Debug)]
struct Sorted<K>(Vec<(K, String)>);

impl<K> Default for Sorted<K> {
    fn default() -> Self {
        Sorted(vec![])
    }
}

impl<K: Ord + Copy> Sorted<K> {
    fn get(&self, k: K) -> Option<&str> {
        let i = self.0.binary_search_by_key(&k, |e| e.0).ok()?;
        Some(&self.0[i].1)
    }

    fn add(&mut self, k: K, text: impl FnOnce() -> String) {
        if let Err(i) = self.0.binary_search_by_key(&k, |e| e.0) {
            self.0.insert(i, (k, text()));
        }
    }
}

fn addr(e: &ir::Expr) -> usize {
    e as *const ir::Expr as usize
}

impl Texts {
    pub fn new(rs: &ir::Ruleset) -> Texts {
        let mut t = Texts::default();
        for (d, def) in rs.defs.iter().enumerate() {
            match &def.body {
                Body::Rules(rules) => {
                    for (i, r) in rules.iter().enumerate() {
                        t.heads.add((d, i), || head_text(rs, d, r));
                        if let Some(c) = &r.cond {
                            t.condition(rs, d, c, DEPTH);
                        }
                        if let K::TableCall(tab, args) = &r.head.kind {
                            t.table(rs, d, *tab, args);
                        }
                    }
                }
                Body::Table(tab) => t.table(rs, d, d, &tab.columns),
                Body::Expr(_) => {}
            }
        }
        t
    }

    fn expr(&mut self, rs: &ir::Ruleset, owner: DefId, e: &ir::Expr) {
        self.exprs
            .add((owner, addr(e)), || one_line(src_text(rs, owner, e.span)));
    }

    fn table(&mut self, rs: &ir::Ruleset, owner: DefId, tab: DefId, cols: &[ir::Expr]) {
        self.tables
            .add(tab, || format!("table {}", rs.defs[tab].name));
        for c in cols {
            self.expr(rs, owner, c);
        }
    }

    /// As [`Builder::condition`] walks a condition.
    fn condition(&mut self, rs: &ir::Ruleset, owner: DefId, e: &ir::Expr, depth: usize) {
        if depth == 0 {
            return;
        }
        self.expr(rs, owner, e);
        match &e.kind {
            K::And(xs) | K::Or(xs) => xs
                .iter()
                .for_each(|x| self.condition(rs, owner, x, depth - 1)),
            K::Not(x) | K::Definitely(x) | K::Known(x) => self.condition(rs, owner, x, depth - 1),
            K::Def(x) if is_condition_value(rs, *x) => {
                if let Body::Expr(body) = &rs.defs[*x].body {
                    self.condition(rs, *x, body, depth - 1);
                }
            }
            _ => {}
        }
    }

    fn text<'s>(&'s self, rs: &ir::Ruleset, owner: DefId, e: &ir::Expr) -> Cow<'s, str> {
        match self.exprs.get((owner, addr(e))) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(one_line(src_text(rs, owner, e.span))),
        }
    }

    fn head<'s>(&'s self, rs: &ir::Ruleset, d: DefId, i: usize, r: &ir::Rule) -> Cow<'s, str> {
        match self.heads.get((d, i)) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(head_text(rs, d, r)),
        }
    }

    fn table_name<'s>(&'s self, rs: &ir::Ruleset, tab: DefId) -> Cow<'s, str> {
        match self.tables.get(tab) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(format!("table {}", rs.defs[tab].name)),
        }
    }
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
        match self.detail {
            Detail::None => String::new(),
            Detail::Input { t, e } => format::value(ev, &ev.eval(t, None, e), e.ty),
            Detail::Leaf { t, e, .. } => match &e.kind {
                K::Cmp(op, a, b) => detail::comparison(ev, t, *op, a, b),
                K::In(x, ..) => format::value(ev, &ev.eval(t, None, x), x.ty),
                K::Agg(f @ (AggFn::All | AggFn::Any), Some(elem), g) => {
                    detail::quantified(ev, t, *f, elem, g)
                        .trim_start_matches(" — ")
                        .trim()
                        .to_string()
                }
                _ => format::value(ev, &ev.eval(t, None, e), e.ty),
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

/// The steps that decided definition `d` (a response) at assessment `t`; `texts` are those of
/// the evaluation's ruleset.
pub fn trace<'s, 'a: 's>(
    ev: &'s Evaluation<'a>,
    t: usize,
    d: DefId,
    texts: &'s Texts,
) -> Vec<Step<'s>> {
    let mut b = Builder {
        ev,
        texts,
        t,
        steps: vec![],
        applied: true,
        negated: false,
    };
    b.def(d, DEPTH);
    let mut steps = b.steps;
    // Which occurrence of its definition, rule and text each step is.
    let mut seen: HashMap<(&str, &str, &str), u32> = HashMap::with_capacity(steps.len());
    let n: Vec<u32> = steps
        .iter()
        .map(|s| {
            let n = seen.entry((s.def, &s.rule, &s.text)).or_insert(0);
            *n += 1;
            *n
        })
        .collect();
    for (s, n) in steps.iter_mut().zip(n) {
        s.n = n;
    }
    steps
}

/// The class of a category value (its name when it has no class).
pub fn class_of<'a>(rs: &'a ir::Ruleset, v: &Val) -> &'a str {
    match v {
        Val::Cat(c) => rs.categories[*c]
            .class
            .as_deref()
            .unwrap_or_else(|| rs.cat_name(*c)),
        Val::Cats(_) => "undecided",
        _ => "none",
    }
}

struct Builder<'s, 'a> {
    ev: &'s Evaluation<'a>,
    texts: &'s Texts,
    t: usize,
    steps: Vec<Step<'s>>,
    /// Whether the steps pushed now belong to what applied.
    applied: bool,
    /// Whether they sit under an odd number of `not`s.
    negated: bool,
}

impl<'s, 'a: 's> Builder<'s, 'a> {
    fn push(
        &mut self,
        owner: DefId,
        rule: Cow<'s, str>,
        text: Cow<'s, str>,
        verdict: &'s str,
        detail: Detail<'s>,
    ) {
        self.steps.push(Step {
            def: &self.ev.rs().defs[owner].name,
            rule,
            text,
            n: 0,
            verdict,
            detail,
            leaf: false,
            applied: self.applied,
            supports: false,
        });
    }

    fn last(&mut self) -> Option<&mut Step<'s>> {
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
                    let head = self.texts.head(rs, d, i, r);
                    self.applied = outer && Some(i) == fired;
                    if let Some(c) = &r.cond {
                        self.condition(d, head.clone(), c, depth);
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
    fn inputs(&mut self, owner: DefId, tab: DefId, cols: &'s [ir::Expr], depth: usize) {
        let (ev, t) = (self.ev, self.t);
        let rs = ev.rs();
        let rule = self.texts.table_name(rs, tab);
        for c in cols {
            let v = ev.eval(t, None, c);
            self.push(
                owner,
                rule.clone(),
                self.texts.text(rs, owner, c),
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
    fn condition(&mut self, owner: DefId, rule: Cow<'s, str>, e: &'s ir::Expr, depth: usize) {
        let (ev, t) = (self.ev, self.t);
        let rs = ev.rs();
        if depth == 0 {
            return;
        }
        let text = self.texts.text(rs, owner, e);
        let tri = truth(&ev.eval(t, None, e));
        let verdict = format::tri(tri);
        let supports = tri == Tri::Unknown || (tri == Tri::True) != self.negated;
        match &e.kind {
            K::And(xs) | K::Or(xs) => {
                self.push(owner, rule.clone(), text, verdict, Detail::None);
                for x in xs {
                    self.condition(owner, rule.clone(), x, depth - 1);
                }
            }
            K::Not(x) => {
                self.push(owner, rule.clone(), text, verdict, Detail::None);
                self.negated = !self.negated;
                self.condition(owner, rule.clone(), x, depth - 1);
                self.negated = !self.negated;
            }
            K::Definitely(x) | K::Known(x) => {
                self.push(owner, rule.clone(), text, verdict, Detail::None);
                self.condition(owner, rule.clone(), x, depth - 1);
            }
            K::Def(x) if is_condition_value(rs, *x) => {
                self.push(owner, rule.clone(), text, verdict, Detail::None);
                if let Body::Expr(body) = &rs.defs[*x].body {
                    let name = Cow::Borrowed(rs.defs[*x].name.as_str());
                    self.condition(*x, name, body, depth - 1);
                }
            }
            _ => {
                self.push(
                    owner,
                    rule.clone(),
                    text,
                    verdict,
                    Detail::Leaf { t, owner, e },
                );
                if let Some(s) = self.last() {
                    s.leaf = true;
                    s.supports = supports;
                }
            }
        }
    }
}
