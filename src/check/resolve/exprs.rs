//! Expressions: literals, operators, aggregates over lesions and organs, `super`, and calls of
//! functions and tables.

use super::types::{compatible, in_base_units, merge_ty, unknown_unit};
use super::{Cx, Resolver, Sym};
use crate::check::ir::{self, Lit, Ty};
use crate::diag::{did_you_mean, suggest, Diag};
use crate::syntax::ast::{self, ExprKind as E, Span};
use crate::units::{self, Dim};

const FUNCTIONS: &[&str] = &[
    "baseline",
    "previous",
    "nadir",
    "last",
    "ever",
    "eventually",
    "known",
    "definitely",
    "abs",
    "min",
    "max",
];

impl Resolver<'_> {
    pub(super) fn expr(&mut self, e: &ast::Expr, cx: Cx, hint: Option<Ty>) -> ir::Expr {
        use ir::ExprKind as K;
        let span = e.span;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        match &e.kind {
            // `deauville <= 3`: a number naming a value of a categorical input.
            E::Number(d, None) if matches!(hint, Some(Ty::Choice(_))) => {
                let Some(Ty::Choice(i)) = hint else {
                    unreachable!()
                };
                let label = d.normalize().to_string();
                match self.choice(i, &label, span, cx) {
                    Some(k) => mk(K::Lit(Lit::Choice(k)), Ty::Choice(i)),
                    None => mk(K::Num(*d), Ty::Error),
                }
            }
            E::Number(d, unit) => match unit {
                None => mk(K::Num(*d), Ty::num(Dim::NONE)),
                Some(u) => match units::lookup(&u.node) {
                    Some(un) => match in_base_units(*d, &un, &u.node, span) {
                        Ok(v) => mk(
                            K::Num(v),
                            Ty::Num {
                                dim: un.dim,
                                pct: un.percent,
                            },
                        ),
                        Err(diag) => {
                            self.err(cx.src, diag);
                            mk(K::Num(*d), Ty::Error)
                        }
                    },
                    None => {
                        let diag = unknown_unit(&u.node, u.span);
                        self.err(cx.src, diag);
                        mk(K::Num(*d), Ty::Error)
                    }
                },
            },
            E::Bool(b) => mk(K::Bool(*b), Ty::Bool),
            E::Unknown => mk(K::Unknown, Ty::Bool),
            E::Str(s) => mk(K::Lit(Lit::Text(s.clone())), Ty::Text),
            E::Name(s) => self.name(s, span, cx, hint),
            E::Super => match cx.super_def {
                Some(d) => {
                    let ty = self.def(d);
                    mk(K::Def(d), ty)
                }
                None => {
                    let diag = Diag::error("crit::super", "`super` outside an override")
                        .label(span, "no parent definition here")
                        .help("`super` is the parent's value inside `override response/value/table ...`");
                    self.err(cx.src, diag);
                    mk(K::Bool(false), Ty::Error)
                }
            },
            E::SuperCall(args) => match cx.super_def.map(|d| self.nearest_table(d)) {
                Some(d) => {
                    self.def(d);
                    self.table_call(d, args, span, cx)
                }
                None => {
                    let diag = Diag::error("crit::super", "`super(...)` outside an override")
                        .label(span, "no parent table here")
                        .help("`super(a, b, c)` looks up the parent's table with other inputs, inside an override");
                    self.err(cx.src, diag);
                    mk(K::Bool(false), Ty::Error)
                }
            },
            E::Call(name, args, since) => self.call(name, args, since.as_ref(), span, cx),
            E::Agg(f, elem, group) => self.aggregate(*f, elem.as_deref(), group, span, cx),
            E::DaysSince(r) => {
                let r = self.reference(r, cx);
                mk(K::DaysSince(r), Ty::num(Dim::TIME))
            }
            E::At(x, r) => {
                let x = self.expr(x, cx, hint);
                let r = self.reference(r, cx);
                let ty = x.ty;
                mk(K::At(Box::new(x), r), ty)
            }
            E::Neg(x) => {
                let x = self.expr(x, cx, None);
                let ty = match self.expect_num(&x, cx, "the operand of `-`") {
                    Some((dim, pct)) => Ty::Num { dim, pct },
                    None => Ty::Error,
                };
                mk(K::Neg(Box::new(x)), ty)
            }
            E::Bin(op, a, b) => {
                let a = self.expr(a, cx, None);
                let b = self.expr(b, cx, None);
                let ty = self.arith(*op, &a, &b, cx);
                mk(K::Bin(*op, Box::new(a), Box::new(b)), ty)
            }
            E::Cmp(op, a, b) => {
                let a = self.expr(a, cx, None);
                let h = match a.ty {
                    t @ (Ty::Cat | Ty::Status | Ty::Role | Ty::Text | Ty::Choice(_)) => Some(t),
                    _ => None,
                };
                let b = self.expr(b, cx, h);
                self.compare(*op, &a, &b, cx);
                mk(K::Cmp(*op, Box::new(a), Box::new(b)), Ty::Bool)
            }
            E::In(x, items, negated) => {
                let x = self.expr(x, cx, None);
                let lits = items
                    .iter()
                    .filter_map(|it| self.set_item(it, x.ty, cx))
                    .collect();
                mk(K::In(Box::new(x), lits, *negated), Ty::Bool)
            }
            E::Not(x) => {
                let x = self.expr(x, cx, None);
                self.expect_bool(&x, cx, "the operand of `not`");
                mk(K::Not(Box::new(x)), Ty::Bool)
            }
            E::And(xs) | E::Or(xs) => {
                let xs: Vec<ir::Expr> = xs.iter().map(|x| self.expr(x, cx, None)).collect();
                for x in &xs {
                    self.expect_bool(x, cx, "each side of `and`/`or`");
                }
                mk(
                    if matches!(e.kind, E::And(_)) {
                        K::And(xs)
                    } else {
                        K::Or(xs)
                    },
                    Ty::Bool,
                )
            }
            E::If(c, a, b) => self.conditional(c, a, b, span, cx, hint),
        }
    }

    /// `super(a, b)` looks up the nearest ancestor's table of this name: the parent's, or, when
    /// the parent replaced it with rules, its own parent's, and so on.
    fn nearest_table(&self, d: ir::DefId) -> ir::DefId {
        let mut at = d;
        // Bounded by the number of definitions, whatever the chain looks like.
        for _ in 0..self.def_slot.len() {
            let slot = &self.m.slots[self.def_slot[at]];
            if matches!(slot.item.kind, ast::ItemKind::Table(_)) {
                return at;
            }
            match slot.super_slot.and_then(|s| self.slot_def[s]) {
                Some(up) => at = up,
                None => break,
            }
        }
        d
    }

    /// An aggregate over a lesion group, or over organs: `count(organs where ...)`, `any(organs: ...)`.
    fn aggregate(
        &mut self,
        f: ast::AggFn,
        elem: Option<&ast::Expr>,
        group: &ast::GroupExpr,
        span: Span,
        cx: Cx,
    ) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        let organs = match group {
            ast::GroupExpr::Named(n) if n.node == "organs" => Some(None),
            ast::GroupExpr::Where(b, c) if matches!(&**b, ast::GroupExpr::Named(n) if n.node == "organs") => {
                Some(Some(c))
            }
            _ => None,
        };
        if let Some(filter) = organs {
            let ocx = Cx {
                lesion: false,
                organ: true,
                ..cx
            };
            let filter = filter.map(|c| {
                let c = self.expr(c, ocx, None);
                self.expect_bool(&c, cx, "an organ filter after `where`");
                Box::new(c)
            });
            let elem = elem.as_ref().map(|x| self.expr(x, ocx, None));
            let ty = self.agg_ty(f, elem.as_ref(), span, cx);
            return mk(K::OrganAgg(f, elem.map(Box::new), filter), ty);
        }
        let g = self.group(group, cx);
        let lcx = Cx { lesion: true, ..cx };
        let elem = elem.as_ref().map(|x| self.expr(x, lcx, None));
        let ty = self.agg_ty(f, elem.as_ref(), span, cx);
        mk(K::Agg(f, elem.map(Box::new), Box::new(g)), ty)
    }

    /// `a if c else b`: both branches the same kind, in the same unit.
    fn conditional(
        &mut self,
        c: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
        cx: Cx,
        hint: Option<Ty>,
    ) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        let c = self.expr(c, cx, None);
        self.expect_bool(&c, cx, "the condition after `if`");
        let a = self.expr(a, cx, hint);
        let b = self.expr(
            b,
            cx,
            hint.or(Some(a.ty))
                .filter(|t| matches!(t, Ty::Cat | Ty::Choice(_))),
        );
        let ty = if compatible(a.ty, b.ty) {
            merge_ty(a.ty, b.ty)
        } else {
            let diag = Diag::error(
                "crit::type",
                format!(
                    "the two branches differ: {} and {}",
                    a.ty.describe(),
                    b.ty.describe()
                ),
            )
            .label(a.span, a.ty.describe())
            .label(b.span, b.ty.describe())
            .help("both branches of `a if c else b` must be the same kind, in the same unit");
            self.err(cx.src, diag);
            Ty::Error
        };
        mk(K::If(Box::new(c), Box::new(a), Box::new(b)), ty)
    }

    /// The type of an aggregate from its function and element.
    pub(super) fn agg_ty(
        &mut self,
        f: ast::AggFn,
        elem: Option<&ir::Expr>,
        span: Span,
        cx: Cx,
    ) -> Ty {
        match (f, elem) {
            (ast::AggFn::Count, None) => Ty::num(Dim::NONE),
            (ast::AggFn::Count, Some(x)) => {
                let diag = Diag::error("crit::aggregate", "`count` counts the lesions of a group")
                    .label(x.span, "not expected here")
                    .help("filter the group instead: `count(targets where status = absent)`");
                self.err(cx.src, diag);
                Ty::Error
            }
            (ast::AggFn::All | ast::AggFn::Any, Some(x)) => {
                self.expect_bool(x, cx, "the condition of `all`/`any`");
                Ty::Bool
            }
            // The highest (lowest) value of an ordered categorical input, e.g. a Deauville score.
            (ast::AggFn::Max | ast::AggFn::Min, Some(x)) if matches!(x.ty, Ty::Choice(_)) => x.ty,
            (ast::AggFn::Sum | ast::AggFn::Max | ast::AggFn::Min, Some(x)) => {
                match self.expect_num(x, cx, "the value summed") {
                    Some((dim, pct)) => Ty::Num { dim, pct },
                    None => Ty::Error,
                }
            }
            (_, None) => {
                let diag = Diag::error("crit::aggregate", "this aggregate needs a value per lesion")
                            .label(span, "no value given")
                            .help("write `sum(size of targets)`, `max(sul_peak of lesions)` or `all(targets: size = 0 mm)`");
                self.err(cx.src, diag);
                Ty::Error
            }
        }
    }

    pub(super) fn set_item(&mut self, it: &ast::Name, ty: Ty, cx: Cx) -> Option<Lit> {
        match ty {
            Ty::Cat => self.category(it, cx).map(Lit::Cat),
            Ty::Choice(i) => self.choice(i, &it.node, it.span, cx).map(Lit::Choice),
            Ty::Status => ir::Status::parse(&it.node).map(Lit::Status).or_else(|| {
                let d = Diag::error(
                    "crit::unknown-name",
                    format!("unknown lesion status `{}`", it.node),
                )
                .label(it.span, "not a status")
                .help(format!(
                    "{}the statuses are: {}",
                    did_you_mean(&it.node, ir::Status::ALL.iter().map(|s| s.name()))
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default(),
                    ir::Status::ALL
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                self.err(cx.src, d);
                None
            }),
            Ty::Role => ir::Role::parse(&it.node).map(Lit::Role).or_else(|| {
                let d = Diag::error(
                    "crit::unknown-name",
                    format!("unknown lesion role `{}`", it.node),
                )
                .label(it.span, "not a role")
                .help("the roles are: target, non-target, new");
                self.err(cx.src, d);
                None
            }),
            Ty::Text => Some(Lit::Text(it.node.clone())),
            Ty::Error => None,
            t => {
                let d = Diag::error(
                    "crit::type",
                    format!(
                        "`in {{...}}` needs a category, status, role or text, not {}",
                        t.describe()
                    ),
                )
                .label(it.span, "cannot be a member")
                .help("compare numbers with <, <=, >, >=");
                self.err(cx.src, d);
                None
            }
        }
    }

    pub(super) fn call(
        &mut self,
        name: &ast::Name,
        args: &[ast::Expr],
        since: Option<&ast::Reference>,
        span: Span,
        cx: Cx,
    ) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        let f = name.node.as_str();
        if let Some(Sym::Def(d)) = self.syms.get(f).copied() {
            return self.table_call(d, args, span, cx);
        }
        if !FUNCTIONS.contains(&f) {
            let tables: Vec<&str> = self
                .syms
                .iter()
                .filter(|(_, s)| matches!(s, Sym::Def(_)))
                .map(|(k, _)| k.as_str())
                .collect();
            let mut d = Diag::error("crit::unknown-name", format!("unknown function `{f}`"))
                .label(name.span, "not a function");
            d = d.help(suggest(f, FUNCTIONS.iter().copied().chain(tables), || {
                format!("the functions are: {}", FUNCTIONS.join(", "))
            }));
            self.err(cx.src, d);
            return mk(K::Bool(false), Ty::Error);
        }
        let want = if matches!(f, "min" | "max") { 2 } else { 1 };
        if args.len() != want {
            let d = Diag::error(
                "crit::arity",
                format!(
                    "`{f}` takes {want} value{}, not {}",
                    if want == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .label(span, "wrong number of values")
            .help(if matches!(f, "min" | "max") {
                "for the largest value over a group write `max(x of group)`"
            } else {
                "e.g. `baseline(sum)`"
            });
            self.err(cx.src, d);
            return mk(K::Bool(false), Ty::Error);
        }
        if since.is_some() && f != "nadir" {
            let d = Diag::error(
                "crit::syntax",
                format!("`since` only goes with `nadir`, not `{f}`"),
            )
            .label(span, "here")
            .help("write `nadir(x since last reset)` for the smallest value since a reference");
            self.err(cx.src, d);
        }
        let a = self.expr(&args[0], cx, None);
        let ty = a.ty;
        match f {
            "baseline" => mk(K::At(Box::new(a), ir::Ref::Baseline), ty),
            "previous" => mk(K::At(Box::new(a), ir::Ref::Previous), ty),
            "last" => mk(K::Last(Box::new(a)), ty),
            "nadir" => {
                self.expect_num(&a, cx, "the value of `nadir`");
                let r = since
                    .map(|r| self.reference(r, cx))
                    .unwrap_or(ir::Ref::Baseline);
                mk(K::Nadir(Box::new(a), r), ty)
            }
            "ever" => {
                self.expect_bool(&a, cx, "the value of `ever`");
                mk(K::Ever(Box::new(a)), Ty::Bool)
            }
            "eventually" => {
                self.expect_bool(&a, cx, "the value of `eventually`");
                if let Some(bad) = not_data(&a) {
                    let d = Diag::error(
                        "crit::later",
                        "`eventually(...)` reads only the data of later assessments",
                    )
                    .label(bad, "computed from the assessment, not read from the data")
                    .help("write the condition with inputs, `status`, params and literals, e.g. `eventually(status in {present, increased})`: definitions of later assessments are not evaluated yet");
                    self.err(cx.src, d);
                }
                mk(K::Later(Box::new(a)), Ty::Bool)
            }
            "known" => mk(K::Known(Box::new(a)), Ty::Bool),
            "definitely" => {
                self.expect_bool(&a, cx, "the value of `definitely`");
                mk(K::Definitely(Box::new(a)), Ty::Bool)
            }
            "abs" => {
                self.expect_num(&a, cx, "the value of `abs`");
                mk(K::Abs(Box::new(a)), ty)
            }
            _ => {
                let b = self.expr(&args[1], cx, None);
                self.arith(ast::BinOp::Sub, &a, &b, cx);
                let ty = merge_ty(a.ty, b.ty);
                if f == "min" {
                    mk(K::Min2(Box::new(a), Box::new(b)), ty)
                } else {
                    mk(K::Max2(Box::new(a), Box::new(b)), ty)
                }
            }
        }
    }
}

/// The first part of an expression that is not read from the data (a definition, an aggregate,
/// a temporal reference), which `eventually(...)` cannot look at on an assessment not yet evaluated.
fn not_data(e: &ir::Expr) -> Option<Span> {
    use ir::ExprKind as K;
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Lit(_) | K::Param(_) | K::Input(_) | K::Field(_) => None,
        K::Neg(_)
        | K::Abs(_)
        | K::Not(_)
        | K::Known(_)
        | K::Definitely(_)
        | K::In(..)
        | K::Bin(..)
        | K::Cmp(..)
        | K::Min2(..)
        | K::Max2(..)
        | K::And(_)
        | K::Or(_)
        | K::If(..) => {
            let mut bad = None;
            crate::check::walk::children(e, &mut |x| {
                if bad.is_none() {
                    bad = not_data(x);
                }
            });
            bad
        }
        _ => Some(e.span),
    }
}
