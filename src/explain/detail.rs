//! What stands behind a condition: the params (with this run's values) and scan inputs a
//! threshold reads, the lesions an aggregate counts with their values, and a percent change
//! written with its two ends (`−40.0 % (40.0 → 24.0 mm)`). Shared by the text explanation and
//! the divergence of two criteria.

use crate::check::ir::{self, AggFn, Body, DefId, DefLevel, ExprKind as K, InputLevel, Ty};
use crate::eval::engine::{truth, Evaluation, Scope};
use crate::eval::value::{Tri, Val};

use super::format;

/// How deep lesion-level definitions are followed to find what they read.
const DEPTH: usize = 4;
/// At most this many lesions are listed for one aggregate.
const LISTED: usize = 8;

/// What an expression reads at the current assessment, directly or through lesion- and
/// organ-level definitions (assessment-level ones explain themselves on their own lines).
/// Temporal references (`baseline(x)`, `nadir(x)`, …) read other assessments and are skipped.
#[derive(Default)]
struct Reads {
    params: Vec<usize>,
    inputs: Vec<usize>,
    /// Lesion-level numbers (definitions or inputs), in the order first read.
    numbers: Vec<Number>,
    status: bool,
    nodal: bool,
    /// Conditions looked for on later assessments (`eventually(...)`).
    later: Vec<ir::Expr>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Number {
    Def(DefId),
    Input(usize),
}

fn reads(rs: &ir::Ruleset, e: &ir::Expr, depth: usize, r: &mut Reads) {
    match &e.kind {
        K::Param(p) => {
            if !r.params.contains(p) {
                r.params.push(*p);
            }
        }
        K::Input(i) => match rs.inputs[*i].level {
            InputLevel::Lesion => {
                if !r.numbers.contains(&Number::Input(*i)) {
                    r.numbers.push(Number::Input(*i));
                }
            }
            _ => {
                if !r.inputs.contains(i) {
                    r.inputs.push(*i);
                }
            }
        },
        K::Field(ir::Field::Status) => r.status = true,
        K::Field(ir::Field::Nodal) => r.nodal = true,
        K::Def(d) => {
            let def = &rs.defs[*d];
            if def.level == DefLevel::Assessment || depth == 0 {
                return;
            }
            // A lesion's number is shown as it is; what it is computed from is not.
            if matches!(def.ty, Ty::Num { .. }) && def.level == DefLevel::Lesion {
                if !r.numbers.contains(&Number::Def(*d)) {
                    r.numbers.push(Number::Def(*d));
                }
                return;
            }
            // A look at later assessments is shown as where it held, not by what it reads there.
            if let Body::Expr(
                x @ ir::Expr {
                    kind: K::Later(_), ..
                },
            ) = &def.body
            {
                return reads(rs, x, depth - 1, r);
            }
            crate::check::for_each_body_expr(&def.body, &mut |x| reads(rs, x, depth - 1, r));
        }
        // `class = responding` reads the rules of `class` up to the last that gives `responding`.
        K::Cmp(ir::CmpOp::Eq, x, c) | K::Cmp(ir::CmpOp::Eq, c, x)
            if matches!(c.kind, K::Lit(ir::Lit::Cat(_))) && depth > 0 =>
        {
            let (K::Def(d), K::Lit(ir::Lit::Cat(cat))) = (&x.kind, &c.kind) else {
                return children(e, &mut |x| reads(rs, x, depth, r));
            };
            match &rs.defs[*d].body {
                Body::Rules(rules) if rs.defs[*d].level != DefLevel::Assessment => {
                    let upto = rules
                        .iter()
                        .rposition(
                            |rule| matches!(rule.head.kind, K::Lit(ir::Lit::Cat(h)) if h == *cat),
                        )
                        .unwrap_or(rules.len().saturating_sub(1));
                    for rule in &rules[..=upto.min(rules.len().saturating_sub(1))] {
                        reads(rs, &rule.head, depth - 1, r);
                        if let Some(c) = &rule.cond {
                            reads(rs, c, depth - 1, r);
                        }
                    }
                }
                _ => reads(rs, x, depth, r),
            }
        }
        K::Later(x) => r.later.push((**x).clone()),
        K::At(..) | K::Nadir(..) | K::Last(_) | K::Ever(_) | K::DaysSince(_) => {}
        _ => children(e, &mut |x| reads(rs, x, depth, r)),
    }
}

/// The direct sub-expressions of an expression, and the conditions of an aggregate's group.
fn children(e: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    match &e.kind {
        K::Neg(x) | K::Abs(x) | K::Not(x) | K::Known(x) | K::Definitely(x) | K::In(x, ..) => f(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            f(a);
            f(b);
        }
        K::And(xs) | K::Or(xs) | K::TableCall(_, xs) => xs.iter().for_each(&mut *f),
        K::If(c, a, b) => {
            f(c);
            f(a);
            f(b);
        }
        // A group's condition is shown with the aggregate's members, not with the threshold.
        K::Agg(_, Some(x), _) => f(x),
        K::OrganAgg(_, elem, filter) => elem.iter().chain(filter.iter()).for_each(|x| f(x)),
        _ => {}
    }
}

/// A value read directly: a definition or an input, possibly at another assessment.
fn simple(e: &ir::Expr) -> bool {
    match &e.kind {
        K::Def(_) | K::Input(_) => true,
        K::At(x, _) | K::Nadir(x, _) => simple(x),
        _ => false,
    }
}

/// The same simple value.
fn same(a: &ir::Expr, b: &ir::Expr) -> bool {
    match (&a.kind, &b.kind) {
        (K::Def(x), K::Def(y)) => x == y,
        (K::Input(x), K::Input(y)) => x == y,
        (K::At(x, r), K::At(y, q)) => r == q && same(x, y),
        (K::Nadir(x, r), K::Nadir(y, q)) => r == q && same(x, y),
        _ => false,
    }
}

/// A change of `a` from `b` — `a - b` or `(a - b) / b` — and its two ends.
fn change_ends(rs: &ir::Ruleset, d: DefId) -> Option<(&ir::Expr, &ir::Expr)> {
    let Body::Expr(e) = &rs.defs[d].body else {
        return None;
    };
    let diff = match &e.kind {
        K::Bin(ir::BinOp::Div, num, den) => match &num.kind {
            K::Bin(ir::BinOp::Sub, a, b) if same(b, den) => Some((a, b)),
            _ => None,
        },
        K::Bin(ir::BinOp::Sub, a, b) => Some((a, b)),
        _ => None,
    };
    let (a, b) = diff?;
    (simple(a) && simple(b)).then_some((a.as_ref(), b.as_ref()))
}

/// The params and scan inputs `exprs` read, with their values at assessment `t`:
/// ` (pd_increase = 20 %)`, or nothing.
pub fn context(ev: &Evaluation, t: usize, exprs: &[&ir::Expr]) -> String {
    let rs = ev.rs();
    let mut r = Reads::default();
    for e in exprs {
        reads(rs, e, DEPTH, &mut r);
    }
    let mut parts: Vec<String> = r
        .inputs
        .iter()
        .map(|&i| {
            let v = ev.input(t, Scope::Assessment, i);
            format!(
                "{} = {}",
                rs.inputs[i].name,
                format::value(ev, &v, rs.input_ty(i))
            )
        })
        .collect();
    parts.extend(r.params.iter().map(|&p| {
        format!(
            "{} = {}",
            rs.params[p].name,
            format::param(rs, p, &ev.eng.params()[p])
        )
    }));
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// A comparison's two sides with their values and what the threshold reads:
/// `11.0 mm >= 11.0 mm (pd_increase = 20 %)`.
pub fn comparison(ev: &Evaluation, t: usize, op: ir::CmpOp, a: &ir::Expr, b: &ir::Expr) -> String {
    // A side that is a param or input by itself already shows its value.
    let computed: Vec<&ir::Expr> = [a, b]
        .into_iter()
        .filter(|x| !matches!(x.kind, K::Param(_) | K::Input(_)))
        .collect();
    format!(
        "{} {} {}{}",
        format::value(ev, &ev.eval(t, None, a), a.ty),
        op.symbol(),
        format::value(ev, &ev.eval(t, None, b), b.ty),
        context(ev, t, &computed)
    )
}

/// Whether a group's condition reads a number (a threshold), so that its members are worth
/// listing with their values.
pub fn filter_reads_numbers(rs: &ir::Ruleset, g: &ir::Group) -> bool {
    filter(rs, g).is_some_and(|c| {
        let mut r = Reads::default();
        reads(rs, c, DEPTH, &mut r);
        !r.numbers.is_empty()
    })
}

/// A number without its unit when it has the given one: `40.0` of `40.0 mm`.
fn strip_unit(s: &str, unit: &str) -> String {
    s.strip_suffix(unit)
        .map(str::trim_end)
        .unwrap_or(s)
        .to_string()
}

fn unit_of(s: &str) -> &str {
    s.rsplit_once(' ').map(|(_, u)| u).unwrap_or("")
}

/// One lesion number at an assessment: `size 24.0 mm`, or a relative change with its ends,
/// `change −40.0 % (40.0 → 24.0 mm)`.
fn number(ev: &Evaluation, t: usize, l: usize, n: Number) -> Option<String> {
    let rs = ev.rs();
    match n {
        Number::Input(i) => {
            let v = ev.input(t, Scope::Lesion(l), i);
            (v != Val::None).then(|| {
                format!(
                    "{} {}",
                    rs.inputs[i].name,
                    format::value(ev, &v, rs.input_ty(i))
                )
            })
        }
        Number::Def(d) => {
            let def = &rs.defs[d];
            let v = &ev.lesion_value(t, l, d);
            if *v == Val::None {
                return None;
            }
            if !matches!(v, Val::Num(iv) if iv.is_exact()) && matches!(v, Val::Num(_)) {
                return Some(format!("{} unknown", def.name));
            }
            let mut shown = format::value(ev, v, def.ty);
            let ends = change_ends(rs, d).map(|(a, b)| {
                let (va, vb) = (ev.eval(t, Some(l), a), ev.eval(t, Some(l), b));
                let (sa, sb) = (format::value(ev, &va, a.ty), format::value(ev, &vb, b.ty));
                let unit = unit_of(&sa);
                if !unit.is_empty() && unit_of(&sb) == unit {
                    format!(" ({} → {sa})", strip_unit(&sb, unit))
                } else {
                    format!(" ({sb} → {sa})")
                }
            });
            // A change that grew reads better with its sign.
            if ends.is_some()
                && matches!(v, Val::Num(iv) if iv.lo.is_some_and(|x| x > rust_decimal::Decimal::ZERO))
            {
                shown.insert(0, '+');
            }
            Some(format!("{} {shown}{}", def.name, ends.unwrap_or_default()))
        }
    }
}

/// A lesion with the values a condition about it reads: `A change -40.0 % (40.0 → 24.0 mm)`
/// when that is all, otherwise in parentheses, `T03 (not-evaluated, size ≥ 0.0 mm (unknown))`.
/// The status is shown when the condition reads it, when it is not `present`, or always with
/// `status`.
pub fn lesion(ev: &Evaluation, t: usize, l: usize, cond: &ir::Expr, status: bool) -> String {
    let rs = ev.rs();
    let mut r = Reads::default();
    reads(rs, cond, DEPTH, &mut r);
    let mut parts = vec![];
    let st = ev.subj.slot(t, l).map(|s| s.status);
    if status || r.status || st != Some(ir::Status::Present) {
        parts.push(st.map(|s| s.name()).unwrap_or("not seen").to_string());
    }
    if r.nodal && ev.subj.lesions[l].nodal {
        parts.push("nodal".into());
    }
    // The ends of a shown relative change are not repeated.
    let covered: Vec<Number> = r
        .numbers
        .iter()
        .filter_map(|n| match n {
            Number::Def(d) => change_ends(rs, *d),
            _ => None,
        })
        .flat_map(|(a, b)| [a, b])
        .filter_map(|x| match x.kind {
            K::Def(d) => Some(Number::Def(d)),
            K::Input(i) => Some(Number::Input(i)),
            _ => None,
        })
        .collect();
    parts.extend(
        r.numbers
            .iter()
            .filter(|n| !covered.contains(n))
            .filter_map(|&n| number(ev, t, l, n))
            .take(3),
    );
    // Where a condition on later assessments held: the scan that confirmed what this one showed.
    for x in &r.later {
        if let Some(k) = ev.later(t, Scope::Lesion(l), x) {
            let a = &ev.subj.assessments[k];
            parts.push(format!("seen at {} {}", a.visit, a.date));
        }
    }
    let id = &ev.subj.lesions[l].id;
    match parts.len() {
        0 => id.to_string(),
        1 if !status => format!("{id} {}", parts[0]),
        _ => format!("{id} ({})", parts.join(", ")),
    }
}

/// The condition that decides membership of a group, if it is a filtered one.
fn filter<'a>(rs: &'a ir::Ruleset, g: &'a ir::Group) -> Option<&'a ir::Expr> {
    match g {
        ir::Group::Where(_, c) => Some(c),
        ir::Group::Named(id) => filter(rs, &rs.groups[*id].group),
        _ => None,
    }
}

fn listed(items: &[String]) -> String {
    if items.len() <= LISTED {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..LISTED].join(", "),
            items.len() - LISTED
        )
    }
}

/// The lesions a `count(G where c)` counts, with the values `c` reads:
/// `: A change −40.0 % (40.0 → 24.0 mm)`; with none counted, the others:
/// `: none of B change +25.0 % (20.0 → 25.0 mm)`; undecided ones as `maybe`.
pub fn counted(ev: &Evaluation, t: usize, g: &ir::Group) -> String {
    let rs = ev.rs();
    let Some(c) = filter(rs, g) else {
        return String::new();
    };
    let show = |l: usize| lesion(ev, t, l, c, false);
    let members = ev.members(t, g);
    let sure: Vec<String> = members
        .iter()
        .filter(|(_, m)| *m == Tri::True)
        .map(|(l, _)| show(*l))
        .collect();
    let maybe: Vec<String> = members
        .iter()
        .filter(|(_, m)| *m == Tri::Unknown)
        .map(|(l, _)| show(*l))
        .collect();
    let mut parts = vec![];
    if !sure.is_empty() {
        parts.push(listed(&sure));
    }
    if !maybe.is_empty() {
        parts.push(format!("maybe {}", listed(&maybe)));
    }
    if parts.is_empty() {
        // Nothing counted: when a threshold decides, the candidates, to show how far each was
        // from counting.
        if !filter_reads_numbers(rs, g) {
            return ": none".into();
        }
        let ir::Group::Where(base, _) = (match g {
            ir::Group::Named(id) => &rs.groups[*id].group,
            other => other,
        }) else {
            return ": none".into();
        };
        let others: Vec<String> = ev.members(t, base).iter().map(|(l, _)| show(*l)).collect();
        if others.is_empty() {
            return ": none".into();
        }
        return format!(": none of {}{}", listed(&others), context(ev, t, &[c]));
    }
    format!(": {}{}", parts.join("; "), context(ev, t, &[c]))
}

/// For `all(G: c)` / `any(G: c)`: the lesions that decide it, with the values `c` reads, as
/// ` — not met by …`, ` — met by …`, ` — undecided for …`; ` (no such lesions)` when G is empty.
pub fn quantified(ev: &Evaluation, t: usize, f: AggFn, elem: &ir::Expr, g: &ir::Group) -> String {
    let members = ev.members(t, g);
    if members.is_empty() {
        return " (no such lesions)".into();
    }
    let mut decided = vec![];
    let mut open = vec![];
    for (l, m) in &members {
        let v = truth(&ev.eval(t, Some(*l), elem));
        match (f, v) {
            (AggFn::All, Tri::False) if *m == Tri::True => {
                decided.push(lesion(ev, t, *l, elem, true))
            }
            (AggFn::Any, Tri::True) if *m == Tri::True => {
                decided.push(lesion(ev, t, *l, elem, true))
            }
            (_, Tri::Unknown) => open.push(lesion(ev, t, *l, elem, true)),
            (_, v) if *m == Tri::Unknown && (v == Tri::True) == (f == AggFn::Any) => {
                open.push(lesion(ev, t, *l, elem, true))
            }
            _ => {}
        }
    }
    let mut parts = vec![];
    if !decided.is_empty() {
        let word = if f == AggFn::All {
            "not met by"
        } else {
            "met by"
        };
        parts.push(format!("{word} {}", listed(&decided)));
    }
    if !open.is_empty() {
        parts.push(format!("undecided for {}", listed(&open)));
    }
    let context = context(ev, t, &[elem]);
    if parts.is_empty() {
        return context;
    }
    format!(" — {}{context}", parts.join("; "))
}
