//! The text explanation of one subject: for each timepoint, each response with the rule or table
//! row that decided it, the values it read (with the assessment they come from), the comparison
//! written out, and the citation; then the best response with what changed on the way.

use std::fmt::Write;

use super::{detail, format};
use crate::check::ir::{self, AggFn, Body, DefId, ExprKind as K, Ref, Ruleset, Ty};
use crate::data::model::format_date;
use crate::eval::best::{Note, Unconfirmed};
use crate::eval::engine::{truth, Evaluation, Problem, Scope, Trouble};
use crate::eval::value::{Tri, Val};

pub struct Options {
    /// Also show why earlier rules did not apply.
    pub verbose: bool,
}

pub(crate) fn src_text(rs: &Ruleset, d: DefId, span: ir::Span) -> &str {
    let text = rs.source_text(rs.defs[d].src);
    text.get(span.start..span.end).unwrap_or("").trim()
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn at(ev: &Evaluation, k: usize) -> String {
    let a = &ev.subj.assessments[k];
    format!("{} {}", a.visit, format_date(a.date))
}

fn location(rs: &Ruleset, d: DefId, line: usize, cite: Option<&str>) -> String {
    let def = &rs.defs[d];
    let mut parts = vec![format!("{}:{line}", rs.source_name(def.src))];
    if let Some(c) = cite.or(def.cite.as_deref()) {
        parts.push(c.to_string());
    }
    if let Some(p) = &def.overrides {
        parts.push(format!("{}, overrides {p}", def.origin));
    }
    parts.join(" · ")
}

/// Renders the whole explanation of a subject.
pub fn subject(ev: &Evaluation, opts: &Options) -> String {
    let rs = ev.rs();
    let s = ev.subj;
    let mut out = String::new();
    let reader = s
        .reader
        .as_deref()
        .map(|r| format!(" (reader {r})"))
        .unwrap_or_default();
    let _ = writeln!(out, "{} — subject {}{reader}", rs.title, s.subject);
    let base = &s.assessments[0];
    let _ = writeln!(
        out,
        "baseline {}  {}{}",
        base.visit,
        format_date(base.date),
        imputed(base.date_imputed)
    );
    scan_inputs(ev, 0, &mut out);
    problems_into(ev, 0, &mut out);
    for t in 1..s.assessments.len() {
        timepoint_into(ev, t, opts, &mut out);
    }
    best(ev, &mut out);
    out
}

fn imputed(b: bool) -> &'static str {
    if b {
        " (date imputed)"
    } else {
        ""
    }
}

/// One timepoint's explanation (its header line and every response).
pub fn timepoint(ev: &Evaluation, t: usize, opts: &Options) -> String {
    let mut out = String::new();
    timepoint_into(ev, t, opts, &mut out);
    out
}

fn timepoint_into(ev: &Evaluation, t: usize, opts: &Options, out: &mut String) {
    let rs = ev.rs();
    let a = &ev.subj.assessments[t];
    let overall = rs.overall;
    let cat = ev
        .category(t, overall)
        .map(|c| rs.cat_name(c))
        .unwrap_or("none");
    let _ = writeln!(
        out,
        "{}  {}{}  overall {cat}   [{}]",
        a.visit,
        format_date(a.date),
        imputed(a.date_imputed),
        how(ev, t, overall)
    );
    scan_inputs(ev, t, out);
    let missing = missing_lesions(ev, t);
    // The overall response first (its header is the timepoint line), then the others.
    response(ev, t, overall, 1, opts, &missing, out);
    for &d in rs.responses.iter().filter(|&&d| d != overall) {
        response(ev, t, d, 1, opts, &missing, out);
    }
    problems_into(ev, t, out);
}

fn problems_into(ev: &Evaluation, t: usize, out: &mut String) {
    for p in ev.problems(t) {
        let _ = writeln!(out, "  warning: {}", problem(ev, &p));
    }
}

/// What became of arithmetic that lost its value, and where it is in the ruleset.
pub fn problem(ev: &Evaluation, p: &Problem) -> String {
    let rs = ev.rs();
    let def = &rs.defs[p.def];
    let text = rs.source_text(def.src);
    let mut expr = one_line(text.get(p.span.start..p.span.end).unwrap_or(""));
    if expr.chars().count() > 60 {
        expr = expr.chars().take(59).collect::<String>() + "…";
    }
    let whose = match p.scope {
        Scope::Lesion(l) => format!(" for lesion {}", ev.subj.lesions[l].id),
        Scope::Organ(o) => format!(" for organ {}", ev.subj.organs[o]),
        Scope::Assessment => String::new(),
    };
    let what = match p.trouble {
        Trouble::DivisionByZero => "divides by zero, so it has no value",
        Trouble::OutOfRange => {
            "is beyond the range of exact decimals (about ±7.9 × 10^28), so it is unknown"
        }
    };
    format!(
        "`{expr}` in {}{whose} {what}   [{}:{}]",
        def.name,
        rs.source_name(def.src),
        ir::line_of(text, p.span.start)
    )
}

/// The scan-level inputs of this assessment (e.g. a PET liver reference), when the ruleset
/// reads any.
fn scan_inputs(ev: &Evaluation, t: usize, out: &mut String) {
    let rs = ev.rs();
    let parts: Vec<String> = (0..rs.inputs.len())
        .filter(|&i| rs.inputs[i].level == ir::InputLevel::Scan)
        .map(|i| {
            let ty = rs.input_ty(i);
            let v = match ev.input(t, Scope::Assessment, i) {
                Val::Num(iv) if iv.is_exact() => format::value(ev, &Val::Num(iv), ty),
                _ => "not given".into(),
            };
            format!("{} {v}", rs.inputs[i].name)
        })
        .collect();
    if !parts.is_empty() {
        let _ = writeln!(out, "  scan: {}", parts.join(", "));
    }
}

/// What is missing at an assessment: lesions not evaluated, and inputs that were read there
/// but that the table has no column for.
fn missing_lesions(ev: &Evaluation, t: usize) -> Vec<String> {
    let rs = ev.rs();
    ev.subj.assessments[t]
        .slots
        .iter()
        .filter(|s| s.status == ir::Status::NotEvaluated)
        .map(|s| {
            let id = &ev.subj.lesions[s.lesion].id;
            if s.missing_row {
                format!("{id} (no row at this assessment)")
            } else {
                format!("{id} (not evaluated)")
            }
        })
        .chain(
            ev.absent_read(t)
                .map(|i| format!("{}: no such column", rs.inputs[i].name)),
        )
        .collect()
}

/// Which rule or row decided a definition, with its location.
pub(crate) fn how(ev: &Evaluation, t: usize, d: DefId) -> String {
    let rs = ev.rs();
    let def = &rs.defs[d];
    let f = ev.fired(t, d);
    match (&def.body, f.rule()) {
        (Body::Table(tab), Some(i)) => {
            let row = &tab.rows[i];
            let label = row
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!(
                "table {} row {}{label} · {}",
                def.name,
                i + 1,
                location(rs, d, row.line, None)
            )
        }
        (Body::Rules(rules), Some(i)) => {
            let r = &rules[i];
            let mut loc = location(rs, d, r.line, r.cite.as_deref());
            if f.undecided {
                loc = format!("undecided at rule {} · {loc}", i + 1);
            } else {
                loc = format!("rule {} · {loc}", i + 1);
            }
            loc
        }
        _ => location(rs, d, def.line, None),
    }
}

fn response(
    ev: &Evaluation,
    t: usize,
    d: DefId,
    depth: usize,
    opts: &Options,
    missing: &[String],
    out: &mut String,
) {
    let rs = ev.rs();
    let def = &rs.defs[d];
    let pad = "  ".repeat(depth);
    let cat = ev.category(t, d).map(|c| rs.cat_name(c)).unwrap_or("none");
    if d != rs.overall {
        let _ = writeln!(out, "{pad}{} {cat}   [{}]", def.name, how(ev, t, d));
    }
    let f = ev.fired(t, d);
    match &def.body {
        Body::Rules(rules) => {
            let upto = f.rule().unwrap_or(rules.len().saturating_sub(1));
            // Why earlier rules did not apply: always when the rule that applied is `otherwise`
            // (it says nothing by itself), and for every rule with --verbose.
            let fell_through = rules.get(upto).is_some_and(|r| r.cond.is_none());
            if opts.verbose || fell_through {
                for r in rules.iter().take(upto) {
                    let cond = r
                        .cond
                        .as_ref()
                        .expect("only the last rule lacks a condition");
                    rule_line(
                        ev,
                        t,
                        d,
                        &format!("{pad}  not {}", head_text(rs, d, r)),
                        cond,
                        depth,
                        out,
                    );
                }
            }
            let Some(r) = rules.get(upto) else { return };
            match &r.cond {
                None => {
                    let _ = writeln!(out, "{pad}  {} otherwise", head_text(rs, d, r));
                }
                Some(c) => {
                    let verb = if f.undecided { "undecided" } else { "yes" };
                    rule_line(
                        ev,
                        t,
                        d,
                        &format!("{pad}  {verb} {}", head_text(rs, d, r)),
                        c,
                        depth,
                        out,
                    );
                    if f.undecided {
                        let m = if missing.is_empty() {
                            "a value is unknown".to_string()
                        } else {
                            format!("missing: {}", missing.join(", "))
                        };
                        let _ = writeln!(out, "{pad}    → not evaluable: {m}");
                    }
                }
            }
            if let Some(reason) = &r.reason {
                let _ = writeln!(out, "{pad}    ({reason})");
            }
            // A head that looks up a table: which row.
            if let K::TableCall(tab, args) = &r.head.kind {
                if let Body::Table(table) = &rs.defs[*tab].body {
                    let vals: Vec<_> = args.iter().map(|a| ev.eval(t, None, a)).collect();
                    {
                        let (_, f) = ev.lookup(table, &vals);
                        if let Some(i) = f.rule() {
                            let row = &table.rows[i];
                            let label = row
                                .label
                                .as_deref()
                                .map(|l| format!(" ({l})"))
                                .unwrap_or_default();
                            let shown: Vec<String> = args
                                .iter()
                                .zip(&vals)
                                .map(|(a, v)| {
                                    format!(
                                        "{} {}",
                                        one_line(src_text(rs, d, a.span)),
                                        format::value(ev, v, a.ty)
                                    )
                                })
                                .collect();
                            let _ = writeln!(
                                out,
                                "{pad}    {cat} by table {} row {}{label} · {}:{} — {}",
                                rs.defs[*tab].name,
                                i + 1,
                                rs.source_name(rs.defs[*tab].src),
                                row.line,
                                shown.join(", ")
                            );
                        }
                    }
                }
            }
            // A head that is another definition (super, a response) explains itself below.
            if let K::Def(h) = &r.head.kind {
                if !f.undecided && rs.defs[*h].ty == Ty::Cat {
                    let _ = writeln!(
                        out,
                        "{pad}    {} {}   [{}]",
                        rs.defs[*h].name,
                        cat,
                        how(ev, t, *h)
                    );
                }
            }
        }
        Body::Table(_) if d == rs.overall => {}
        Body::Table(tab) => {
            let cols: Vec<String> = tab
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        one_line(src_text(rs, d, c.span)),
                        format::value(ev, &ev.eval(t, None, c), c.ty)
                    )
                })
                .collect();
            let _ = writeln!(out, "{pad}  {}", cols.join(", "));
            if f.undecided {
                let _ = writeln!(out, "{pad}  → not evaluable: {}", missing.join(", "));
            }
        }
        Body::Expr(e) => {
            let _ = writeln!(out, "{pad}  {}", one_line(src_text(rs, d, e.span)));
        }
    }
}

/// A rule's line and its condition's parts. A single comparison is written on the rule's own
/// line with its values; a compound condition gets a line per part.
fn rule_line(
    ev: &Evaluation,
    t: usize,
    d: DefId,
    lead: &str,
    c: &ir::Expr,
    depth: usize,
    out: &mut String,
) {
    let rs = ev.rs();
    let text = one_line(src_text(rs, d, c.span));
    if let K::Cmp(op, a, b) = &c.kind {
        let _ = writeln!(
            out,
            "{lead}: {text} — {}",
            detail::comparison(ev, t, *op, a, b)
        );
        let mut seen = vec![];
        references(ev, t, d, a, depth + 2, &mut seen, out);
        references(ev, t, d, b, depth + 2, &mut seen, out);
        return;
    }
    let _ = writeln!(out, "{lead}: {text}");
    condition(ev, t, d, c, depth + 2, &mut vec![], out);
}

pub(crate) fn head_text(rs: &Ruleset, d: DefId, r: &ir::Rule) -> String {
    one_line(src_text(rs, d, r.head.span))
}

/// The parts of a condition with their values, one per line.
fn condition(
    ev: &Evaluation,
    t: usize,
    d: DefId,
    e: &ir::Expr,
    depth: usize,
    seen: &mut Vec<String>,
    out: &mut String,
) {
    let rs = ev.rs();
    let pad = "  ".repeat(depth);
    match &e.kind {
        K::And(xs) | K::Or(xs) => {
            // Up to the part that decides: the first false one of an `and`, the first true one
            // of an `or`.
            let stop = if matches!(e.kind, K::And(_)) {
                Tri::False
            } else {
                Tri::True
            };
            for x in xs {
                condition(ev, t, d, x, depth, seen, out);
                if truth(&ev.eval(t, None, x)) == stop {
                    break;
                }
            }
        }
        K::Cmp(op, a, b) => {
            let verdict = truth(&ev.eval(t, None, e));
            let _ = writeln!(
                out,
                "{pad}{} {}: {}",
                format::tri(verdict),
                one_line(src_text(rs, d, e.span)),
                detail::comparison(ev, t, *op, a, b)
            );
            references(ev, t, d, a, depth + 1, seen, out);
            references(ev, t, d, b, depth + 1, seen, out);
        }
        K::Agg(f @ (AggFn::All | AggFn::Any), Some(elem), g) => {
            let verdict = truth(&ev.eval(t, None, e));
            let _ = writeln!(
                out,
                "{pad}{} {}{}",
                format::tri(verdict),
                one_line(src_text(rs, d, e.span)),
                detail::quantified(ev, t, *f, elem, g)
            );
        }
        // A condition about a condition: its verdict, then the inner one's parts.
        K::Not(x) | K::Definitely(x) | K::Known(x) => {
            let verdict = truth(&ev.eval(t, None, e));
            let _ = writeln!(
                out,
                "{pad}{} {}",
                format::tri(verdict),
                one_line(src_text(rs, d, e.span))
            );
            condition(ev, t, d, x, depth + 1, seen, out);
        }
        K::In(x, ..) => {
            let v = ev.eval(t, None, x);
            let verdict = truth(&ev.eval(t, None, e));
            let _ = writeln!(
                out,
                "{pad}{} {}: {}",
                format::tri(verdict),
                one_line(src_text(rs, d, e.span)),
                format::value(ev, &v, x.ty)
            );
            references(ev, t, d, x, depth + 1, seen, out);
        }
        K::Def(x) if is_condition_value(rs, *x) && depth < 8 => {
            // A named condition: its parts, one level down.
            let v = ev.eval(t, None, e);
            let _ = writeln!(
                out,
                "{pad}{} {}",
                format::value(ev, &v, e.ty),
                rs.defs[*x].name
            );
            if let Body::Expr(body) = &rs.defs[*x].body {
                condition(ev, t, *x, body, depth + 1, seen, out);
            }
        }
        _ => {
            let v = ev.eval(t, None, e);
            let _ = writeln!(
                out,
                "{pad}{} {}",
                format::value(ev, &v, e.ty),
                one_line(src_text(rs, d, e.span))
            );
            references(ev, t, d, e, depth + 1, seen, out);
        }
    }
}

pub(crate) fn is_condition_value(rs: &Ruleset, x: DefId) -> bool {
    let def = &rs.defs[x];
    def.ty == Ty::Bool && def.level == ir::DefLevel::Assessment && matches!(def.body, Body::Expr(_))
}

/// Values a sub-expression reads: definitions (with the terms of a sum) and earlier assessments.
fn references(
    ev: &Evaluation,
    t: usize,
    d: DefId,
    e: &ir::Expr,
    depth: usize,
    seen: &mut Vec<String>,
    out: &mut String,
) {
    let pad = "  ".repeat(depth);
    let mut lines = String::new();
    reference_lines(ev, t, d, e, seen, &mut lines);
    for l in lines.lines() {
        let _ = writeln!(out, "{pad}{l}");
    }
}

/// The values an expression reads, one line each, as the explanation shows them below a
/// condition (`sum = 80.0 mm (A 24.0 + B 26.0 + C 30.0)`).
pub(crate) fn reference_summary(ev: &Evaluation, t: usize, d: DefId, e: &ir::Expr) -> Vec<String> {
    let (mut seen, mut out) = (vec![], String::new());
    reference_lines(ev, t, d, e, &mut seen, &mut out);
    out.lines().map(str::to_string).collect()
}

/// One line per value read, each shown once per rule.
fn reference_lines(
    ev: &Evaluation,
    t: usize,
    d: DefId,
    e: &ir::Expr,
    seen: &mut Vec<String>,
    out: &mut String,
) {
    let rs = ev.rs();
    let mut emit = |line: String, out: &mut String| {
        if !seen.contains(&line) {
            let _ = writeln!(out, "{line}");
            seen.push(line);
        }
    };
    match &e.kind {
        K::Def(x)
            if rs.defs[*x].level == ir::DefLevel::Assessment
                && matches!(rs.defs[*x].ty, Ty::Num { .. }) =>
        {
            let def = &rs.defs[*x];
            let v = ev.value(t, *x);
            emit(
                format!(
                    "{} = {}{}",
                    def.name,
                    format::value(ev, v, def.ty),
                    terms(ev, t, *x)
                ),
                out,
            );
            // A value computed from others: the ones it reads, on their own lines.
            if let Body::Expr(body) = &def.body {
                if !matches!(body.kind, K::Agg(..) | K::OrganAgg(..)) && seen.len() < 24 {
                    reference_lines(ev, t, *x, body, seen, out);
                }
            }
        }
        K::If(c, a, b) => match truth(&ev.eval(t, None, c)) {
            Tri::True => reference_lines(ev, t, d, a, seen, out),
            Tri::False => reference_lines(ev, t, d, b, seen, out),
            Tri::Unknown => {
                reference_lines(ev, t, d, a, seen, out);
                reference_lines(ev, t, d, b, seen, out);
            }
        },
        K::At(x, r) => {
            if let Some(k) = ev.resolve(t, *r) {
                let v = ev.eval(k, None, x);
                let detail = match &x.kind {
                    K::Def(xd) if rs.defs[*xd].level == ir::DefLevel::Assessment => {
                        terms(ev, k, *xd)
                    }
                    _ => String::new(),
                };
                emit(
                    format!(
                        "{} = {}{detail} at {}",
                        one_line(src_text(rs, d, e.span)),
                        format::value(ev, &v, e.ty),
                        at(ev, k)
                    ),
                    out,
                );
            } else {
                let what = match r {
                    Ref::StartOf(c) => format!("no current run of {}", rs.cat_name(*c)),
                    Ref::Last(c) => format!("{} never held before", rs.defs[*c].name),
                    _ => "no such assessment".into(),
                };
                emit(
                    format!("{}: none ({what})", one_line(src_text(rs, d, e.span))),
                    out,
                );
            }
        }
        K::Nadir(x, r) => {
            let from = ev.resolve(t, *r);
            match from.and_then(|f| ev.nadir(t, None, x, f)) {
                Some((iv, k)) => {
                    emit(
                        format!(
                            "{} = {} at {}",
                            one_line(src_text(rs, d, e.span)),
                            format::interval(iv, e.ty),
                            at(ev, k)
                        ),
                        out,
                    );
                }
                None => {
                    emit(
                        format!(
                            "{}: none (no earlier assessment)",
                            one_line(src_text(rs, d, e.span))
                        ),
                        out,
                    );
                }
            }
        }
        K::Last(x) => match ev.last(t, None, x) {
            Some((v, k)) => {
                emit(
                    format!(
                        "{} = {} at {}",
                        one_line(src_text(rs, d, e.span)),
                        format::value(ev, &v, e.ty),
                        at(ev, k)
                    ),
                    out,
                );
            }
            None => {
                emit(
                    format!(
                        "{}: none (no earlier evaluable assessment)",
                        one_line(src_text(rs, d, e.span))
                    ),
                    out,
                );
            }
        },
        K::DaysSince(r) => {
            if let Some(k) = ev.resolve(t, *r) {
                emit(
                    format!(
                        "{} = {} days (from {})",
                        one_line(src_text(rs, d, e.span)),
                        ev.days_between(k, t),
                        at(ev, k)
                    ),
                    out,
                );
            }
        }
        K::Bin(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            reference_lines(ev, t, d, a, seen, out);
            reference_lines(ev, t, d, b, seen, out);
        }
        K::Neg(a) | K::Abs(a) => reference_lines(ev, t, d, a, seen, out),
        // An aggregate written in place: its members.
        K::Agg(_, _, g) if detail::filter_reads_numbers(rs, g) => {
            let terms = expr_terms(ev, t, e);
            if !terms.is_empty() {
                emit(
                    format!(
                        "{} = {}{terms}",
                        one_line(src_text(rs, d, e.span)),
                        format::value(ev, &ev.eval(t, None, e), e.ty)
                    ),
                    out,
                );
            }
        }
        K::OrganAgg(_, elem, filter) => emit(
            format!(
                "organs{}",
                organ_listing(ev, t, elem.as_deref(), filter.as_deref())
            ),
            out,
        ),
        _ => {}
    }
}

/// For a sum over lesions: the terms, e.g. ` (T01 12.0 + T02 9.0)`.
/// Each organ with the per-organ value an organ aggregate reads, e.g. ` (organ_response): liver PD,
/// lung PR`.
fn organ_listing(
    ev: &Evaluation,
    t: usize,
    elem: Option<&ir::Expr>,
    filter: Option<&ir::Expr>,
) -> String {
    let rs = ev.rs();
    let mut shown = None;
    for x in filter.iter().chain(elem.iter()) {
        crate::check::walk_expr(x, &mut |y| {
            if let K::Def(od) = &y.kind {
                if shown.is_none() && rs.defs[*od].level == ir::DefLevel::Organ {
                    shown = Some(*od);
                }
            }
        });
    }
    let parts: Vec<String> = (0..ev.subj.organs.len())
        .map(|o| match shown {
            Some(od) => format!(
                "{} {}",
                ev.subj.organs[o],
                format::value(ev, ev.organ_value(t, o, od), rs.defs[od].ty)
            ),
            None => ev.subj.organs[o].to_string(),
        })
        .collect();
    let what = shown
        .map(|od| format!(" ({})", rs.defs[od].name))
        .unwrap_or_default();
    format!(
        "{what}: {}",
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    )
}

/// The lesions behind an aggregate: ` (T01 12.0 + T02 9.0)` for a sum, ` (largest B: A 3.0, B 4.5)`
/// for a maximum.
fn terms(ev: &Evaluation, t: usize, x: DefId) -> String {
    match &ev.rs().defs[x].body {
        Body::Expr(e) => expr_terms(ev, t, e),
        _ => String::new(),
    }
}

/// The members behind an aggregate expression (see [`terms`]).
fn expr_terms(ev: &Evaluation, t: usize, e: &ir::Expr) -> String {
    if let K::OrganAgg(_, elem, filter) = &e.kind {
        return format!(
            " (organs{})",
            organ_listing(ev, t, elem.as_deref(), filter.as_deref())
        );
    }
    if let K::Agg(AggFn::Count, None, g) = &e.kind {
        return detail::counted(ev, t, g);
    }
    let K::Agg(f @ (AggFn::Sum | AggFn::Max | AggFn::Min), Some(elem), g) = &e.kind else {
        return String::new();
    };
    let mut best: Option<(rust_decimal::Decimal, &str)> = None;
    let parts: Vec<String> = ev
        .members(t, g)
        .iter()
        .map(|(l, _)| {
            let id = &ev.subj.lesions[*l].id;
            match ev.eval(t, Some(*l), elem) {
                Val::Num(iv) => match iv.value() {
                    Some(v) => {
                        let better = match best {
                            None => true,
                            Some((b, _)) => {
                                (*f == AggFn::Max && v > b) || (*f == AggFn::Min && v < b)
                            }
                        };
                        if better {
                            best = Some((v, id));
                        }
                        if matches!(elem.ty, Ty::Choice(_)) {
                            return format!("{id} {}", format::value(ev, &Val::Num(iv), elem.ty));
                        }
                        let shown = format::num(v, elem.ty);
                        let unit = format!(
                            " {}",
                            crate::units::display_unit(dim_of(elem.ty), Some(v)).0
                        );
                        format!("{id} {}", shown.trim_end_matches(unit.as_str()))
                    }
                    None => format!("{id} unknown"),
                },
                _ => format!("{id} none"),
            }
        })
        .collect();
    if parts.is_empty() {
        return " (no lesions)".into();
    }
    match (f, best) {
        (AggFn::Sum, _) => format!(" ({})", parts.join(" + ")),
        (AggFn::Max, Some((_, id))) => format!(" (largest {id}: {})", parts.join(", ")),
        (_, Some((_, id))) => format!(" (smallest {id}: {})", parts.join(", ")),
        _ => format!(" ({})", parts.join(", ")),
    }
}

fn dim_of(ty: Ty) -> crate::units::Dim {
    match ty {
        Ty::Num { dim, .. } => dim,
        _ => crate::units::Dim::NONE,
    }
}

fn best(ev: &Evaluation, out: &mut String) {
    let rs = ev.rs();
    let b = &ev.best;
    let cat = b.category.map(|c| rs.cat_name(c)).unwrap_or("none");
    let whence = match b.at {
        Some(t) => format!(" at {}", at(ev, t)),
        None => " (no follow-up assessment)".into(),
    };
    let _ = writeln!(
        out,
        "best response {cat}{whence}   [{}:{} · {}]",
        rs.source_name(rs.best.src),
        rs.best.line,
        rank_text(rs)
    );
    for n in &b.notes {
        let _ = writeln!(out, "  {}", note(ev, n));
    }
}

/// One step of the best response, e.g. `stopped after WEEK 8 2024-04-01: later timepoints do
/// not count`; a minimum interval shows the params it reads.
pub fn note(ev: &Evaluation, n: &Note) -> String {
    let rs = ev.rs();
    match n {
        Note::Stopped { t } => format!(
            "stopped after {}: later timepoints do not count",
            at(ev, *t)
        ),
        Note::Relabeled { t, from, to, by } => {
            format!(
                "{} at {} counts as {} (followed by {} at {})",
                rs.cat_name(*from),
                at(ev, *t),
                rs.cat_name(*to),
                rs.cat_name(*to),
                at(ev, *by)
            )
        }
        Note::Confirmed { t, by, days } => format!(
            "{} confirmed at {}, {} later",
            at(ev, *t),
            at(ev, *by),
            days_text(*days)
        ),
        Note::NotConfirmed {
            t,
            from,
            to,
            line,
            why,
        } => {
            format!(
                "{} at {} not confirmed{}: counts as {} (line {line}){}",
                rs.cat_name(*from),
                at(ev, *t),
                unconfirmed(ev, why),
                rs.cat_name(*to),
                best_params(ev, *line)
            )
        }
        Note::TooEarly {
            t,
            from,
            to,
            days,
            min_days,
            line,
        } => format!(
            "{} at {} is {} after start, needs at least {} days: counts as {} (line {line}){}",
            rs.cat_name(*from),
            at(ev, *t),
            days_text(*days),
            min_days.normalize(),
            rs.cat_name(*to),
            best_params(ev, *line)
        ),
    }
}

/// The params of the best-response line `line` (an interval), with their values.
fn best_params(ev: &Evaluation, line: usize) -> String {
    let b = &ev.rs().best;
    let exprs: Vec<&ir::Expr> = match b.requires.iter().find(|r| r.line == line) {
        Some(r) => vec![&r.min],
        None => b
            .confirms
            .iter()
            .find(|c| c.line == line)
            .map(|c| std::iter::once(&c.min).chain(c.max.as_ref()).collect())
            .unwrap_or_default(),
    };
    if exprs.is_empty() {
        return String::new();
    }
    detail::context(ev, 0, &exprs)
}

/// Why a response was not confirmed, as a clause after "not confirmed".
fn unconfirmed(ev: &Evaluation, why: &Unconfirmed) -> String {
    let rs = ev.rs();
    match why {
        Unconfirmed::NothingLater => " (no later assessment confirms it)".into(),
        Unconfirmed::Broken { by, cat } => {
            format!(" ({} at {} breaks it)", rs.cat_name(*cat), at(ev, *by))
        }
        Unconfirmed::TooMany { by, cat, max, line } => {
            let limit = rs.best.allows.iter().find(|a| a.line == *line);
            let params = limit
                .and_then(|a| a.max.as_ref())
                .map(|m| detail::context(ev, 0, &[m]))
                .unwrap_or_default();
            format!(
                " ({} at {} is more than the {max} allowed between, line {line}{params})",
                rs.cat_name(*cat),
                at(ev, *by)
            )
        }
        Unconfirmed::Forbidden {
            by,
            cat,
            after,
            line,
        } => {
            let guard = rs.best.forbids.iter().find(|f| f.line == *line);
            let params = match guard.map(|f| &f.guard) {
                Some(ir::Guard::When(g) | ir::Guard::Unless(g)) => detail::context(ev, 0, &[g]),
                _ => String::new(),
            };
            format!(
                " ({} at {} comes after {} in the confirmation period, line {line}{params})",
                rs.cat_name(*cat),
                at(ev, *by),
                rs.cat_name(*after)
            )
        }
        Unconfirmed::TooLate {
            by,
            cat,
            days,
            max_days,
        } => format!(
            " (the next {} is at {}, {} later: more than {} days)",
            rs.cat_name(*cat),
            at(ev, *by),
            days_text(*days),
            max_days.normalize()
        ),
    }
}

fn days_text(d: i64) -> String {
    if d == 1 {
        "1 day".into()
    } else {
        format!("{d} days")
    }
}

fn rank_text(rs: &Ruleset) -> String {
    rs.best
        .rank
        .iter()
        .map(|&c| rs.cat_name(c))
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Classes every criterion shares; a category of any other class (e.g. a dissociated response)
/// is an addition whose frequency the cohort summary reports.
const COMMON_CLASSES: &[&str] = &[
    "complete",
    "partial",
    "stable",
    "progressive",
    "not-evaluable",
];

/// For one subject: each timepoint whose overall category has an added class, with what the
/// overridden (parent) overall response said there.
pub fn added_categories(ev: &Evaluation) -> Vec<(usize, Option<usize>)> {
    let rs = ev.rs();
    let parent = rs.defs[rs.overall].parent;
    (1..ev.subj.assessments.len())
        .filter_map(|t| {
            let c = ev.category(t, rs.overall)?;
            let class = rs.categories[c].class.as_deref()?;
            if COMMON_CLASSES.contains(&class) {
                return None;
            }
            Some((c, parent.and_then(|p| ev.category(t, p))))
        })
        .collect()
}

/// The closing cohort line(s) of `crit eval`: how many subjects ever had an added category and
/// what the base criterion called those timepoints.
pub fn cohort_summary(
    rs: &Ruleset,
    subjects: usize,
    tallies: &[Vec<(usize, Option<usize>)>],
) -> String {
    let mut out = String::new();
    let base = rs.defs[rs.overall]
        .overrides
        .clone()
        .unwrap_or_else(|| "the base criterion".into());
    for (c, cat) in rs.categories.iter().enumerate() {
        let Some(class) = cat.class.as_deref() else {
            continue;
        };
        if COMMON_CLASSES.contains(&class) {
            continue;
        }
        let with: Vec<&Vec<(usize, Option<usize>)>> = tallies
            .iter()
            .filter(|t| t.iter().any(|(x, _)| *x == c))
            .collect();
        let mut base_counts: Vec<(String, usize)> = vec![];
        for (x, b) in with.iter().flat_map(|t| t.iter()) {
            if *x != c {
                continue;
            }
            let name = b
                .map(|b| rs.cat_name(b).to_string())
                .unwrap_or_else(|| "none".into());
            match base_counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, k)) => *k += 1,
                None => base_counts.push((name, 1)),
            }
        }
        let said = if base_counts.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = base_counts
                .iter()
                .map(|(n, k)| format!("{n} ×{k}"))
                .collect();
            format!("; at those timepoints {base} said {}", parts.join(", "))
        };
        let _ = writeln!(
            out,
            "cohort: {} ({class}) in {} of {subjects} subjects at least once{said}",
            cat.name,
            with.len()
        );
    }
    out
}
