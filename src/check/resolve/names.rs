//! Names: categories (as each ruleset of the chain writes them), temporal references, lesion
//! fields, definitions, params, inputs, and the did-you-mean help for unknown names.

use super::{Cx, Resolver, State, Sym};
use crate::check::ir::{self, DefId, DefLevel, Lit, Ty};
use crate::diag::{did_you_mean, suggest, Diag};
use crate::syntax::ast::{self, Span};

const FIELDS: &[&str] = &["status", "role", "nodal", "organ", "id"];

impl Resolver<'_> {
    pub(super) fn category(&mut self, n: &ast::Name, cx: Cx) -> Option<usize> {
        if let Some(&c) = self.cats_by_src[cx.src].get(&n.node) {
            return Some(c);
        }
        let names: Vec<String> = self.cats_by_src[cx.src].keys().cloned().collect();
        let mut d = Diag::error(
            "crit::unknown-name",
            format!("unknown category `{}`", n.node),
        )
        .label(n.span, "not a declared category");
        d = d.help(suggest(&n.node, names.iter().map(|s| s.as_str()), || {
            if names.is_empty() {
                return "no category is declared: list them in a `categories` block".into();
            }
            let mut all: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            all.sort();
            format!(
                "declare it under `categories`; the categories are: {}",
                all.join(", ")
            )
        }));
        self.err(cx.src, d);
        None
    }

    pub(super) fn reference(&mut self, r: &ast::Reference, cx: Cx) -> ir::Ref {
        match r {
            ast::Reference::Baseline => ir::Ref::Baseline,
            ast::Reference::Previous => ir::Ref::Previous,
            ast::Reference::StartOf(c) => ir::Ref::StartOf(self.category(c, cx).unwrap_or(0)),
            ast::Reference::Last(n) => match self.syms.get(&n.node).copied() {
                Some(Sym::Def(d)) if self.def_level[d] == DefLevel::Assessment => {
                    let ty = if self.def_state[d] == State::Busy {
                        self.def_ty[d]
                    } else {
                        self.def(d)
                    };
                    if ty != Ty::Bool && ty != Ty::Error {
                        let diag = Diag::error("crit::type", format!("`last {}` needs a condition, but `{}` is {}", n.node, n.node, ty.describe()))
                            .label(n.span, ty.describe())
                            .help("`x at last C` is x at the latest earlier assessment where the condition C held; to get a response's latest evaluable value write `last(R)`");
                        self.err(cx.src, diag);
                    }
                    ir::Ref::Last(d)
                }
                _ => {
                    let d = self.unknown_name(&n.node, n.span, cx);
                    self.err(cx.src, d);
                    ir::Ref::Baseline
                }
            },
        }
    }

    pub(super) fn unknown_name(&self, name: &str, span: Span, cx: Cx) -> Diag {
        let mut cands: Vec<&str> = self.syms.keys().map(|s| s.as_str()).collect();
        cands.extend(self.cats_by_src[cx.src].keys().map(|s| s.as_str()));
        if cx.lesion {
            cands.extend(FIELDS);
        }
        let mut d = Diag::error("crit::unknown-name", format!("unknown name `{name}`"))
            .label(span, "not defined");
        let renamed = self
            .m
            .categories
            .iter()
            .find(|c| c.name != name && c.names.iter().flatten().any(|n| n == name));
        if let Some(c) = renamed {
            d = d.help(format!(
                "the category `{name}` is called `{}` in this ruleset (renamed)",
                c.name
            ));
        } else if name.contains('-') || name.contains('/') {
            d = d.help("names may contain `-` and `/`; if you meant subtraction or division, put spaces around the operator");
        } else if let Some(s) = did_you_mean(name, cands) {
            d = d.help(format!("did you mean `{s}`?"));
        } else if !cx.lesion && FIELDS.contains(&name) {
            d = d.help(format!("`{name}` is a lesion field: use it inside a lesion definition or a group condition"));
        } else {
            d = d.help(
                "define it with `value`, `lesion`, `param` or `input`, or declare it as a category",
            );
        }
        d
    }

    /// A name in expression position. `hint` steers names that are both (e.g. `target` is a role
    /// and a response).
    pub(super) fn name(&mut self, s: &str, span: Span, cx: Cx, hint: Option<Ty>) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        let hinted = match hint {
            Some(Ty::Status) => ir::Status::parse(s).map(|st| (Lit::Status(st), Ty::Status)),
            Some(Ty::Role) => ir::Role::parse(s).map(|r| (Lit::Role(r), Ty::Role)),
            Some(Ty::Cat) => self.cats_by_src[cx.src]
                .get(s)
                .map(|&c| (Lit::Cat(c), Ty::Cat)),
            Some(Ty::Choice(i)) if !self.syms.contains_key(s) => {
                return match self.choice(i, s, span, cx) {
                    Some(k) => mk(K::Lit(Lit::Choice(k)), Ty::Choice(i)),
                    None => mk(K::Bool(false), Ty::Error),
                };
            }
            _ => None,
        };
        if let Some((lit, ty)) = hinted {
            return mk(K::Lit(lit), ty);
        }
        if let Some((f, ty)) = field(s, cx) {
            return mk(K::Field(f), ty);
        }
        match self.syms.get(s).copied() {
            Some(Sym::Def(d)) => self.def_ref(d, s, span, cx),
            Some(Sym::Param(p)) => mk(K::Param(p), self.params[p].ty),
            Some(Sym::Input(i)) => self.input_ref(i, s, span, cx),
            Some(Sym::Group(_)) => {
                let diag = Diag::error(
                    "crit::type",
                    format!("`{s}` is a lesion group, not a value"),
                )
                .label(span, "a group")
                .help(format!(
                    "use it in an aggregate: `count({s})`, `sum(size of {s})`, `any({s}: ...)`"
                ));
                self.err(cx.src, diag);
                mk(K::Bool(false), Ty::Error)
            }
            None => {
                if let Some(&c) = self.cats_by_src[cx.src].get(s) {
                    return mk(K::Lit(Lit::Cat(c)), Ty::Cat);
                }
                if let Some(st) = ir::Status::parse(s) {
                    return mk(K::Lit(Lit::Status(st)), Ty::Status);
                }
                if let Some(r) = ir::Role::parse(s) {
                    return mk(K::Lit(Lit::Role(r)), Ty::Role);
                }
                let d = self.unknown_name(s, span, cx);
                self.err(cx.src, d);
                mk(K::Bool(false), Ty::Error)
            }
        }
    }

    /// The position of `label` among the values of categorical input `i`.
    pub(super) fn choice(&mut self, i: u16, label: &str, span: Span, cx: Cx) -> Option<u16> {
        let inp = &self.inputs[usize::from(i)];
        if let Some(k) = inp.choices.iter().position(|c| c == label) {
            return Some(k as u16);
        }
        let values = inp.choices.join(", ");
        let mut d = Diag::error(
            "crit::unknown-name",
            format!("`{label}` is not a value of `{}`", inp.name),
        )
        .label(span, "not one of its values");
        d = match did_you_mean(label, inp.choices.iter().map(|c| c.as_str())) {
            Some(s) => d.help(format!("did you mean `{s}`? the values are: {values}")),
            None => d.help(format!(
                "the values of `{}` are: {values} (declared with the input)",
                inp.name
            )),
        };
        self.err(cx.src, d);
        None
    }

    /// A definition used at a level it has a value for (per lesion inside a lesion, ...).
    fn def_ref(&mut self, d: DefId, s: &str, span: Span, cx: Cx) -> ir::Expr {
        let mk = |ty| ir::Expr {
            kind: ir::ExprKind::Def(d),
            ty,
            span,
        };
        if self.def_level[d] == DefLevel::Organ && (cx.lesion || !cx.organ) {
            let diag = Diag::error("crit::level", format!("`{s}` is a per-organ definition, used here outside an organ"))
                .label(span, "one value per organ")
                .help(format!("aggregate it over organs, e.g. `count(organs where {s} ...)` or `any(organs: {s} ...)`"));
            self.err(cx.src, diag);
            return mk(Ty::Error);
        }
        if self.def_level[d] == DefLevel::Lesion && !cx.lesion {
            let diag = Diag::error(
                "crit::level",
                format!("`{s}` is a per-lesion definition, used here outside a lesion"),
            )
            .label(span, "one value per lesion")
            .help(format!(
                "aggregate it over a group, e.g. `sum({s} of targets)` or `all(targets: {s} ...)`"
            ));
            self.err(cx.src, diag);
            return mk(Ty::Error);
        }
        let ty = self.def(d);
        mk(ty)
    }

    /// An input: lesion measurements only inside a lesion.
    fn input_ref(&mut self, i: usize, s: &str, span: Span, cx: Cx) -> ir::Expr {
        let mk = |ty| ir::Expr {
            kind: ir::ExprKind::Input(i),
            ty,
            span,
        };
        let inp = &self.inputs[i];
        if inp.level == ir::InputLevel::Lesion && !cx.lesion {
            let diag = Diag::error(
                "crit::level",
                format!("`{s}` is a lesion measurement, used here outside a lesion"),
            )
            .label(span, "one value per lesion")
            .help(format!(
                "aggregate it over a group, e.g. `max({s} of lesions)`"
            ));
            self.err(cx.src, diag);
            return mk(Ty::Error);
        }
        mk(if self.bad_inputs[i] {
            Ty::Error
        } else if !inp.choices.is_empty() {
            Ty::Choice(i as u16)
        } else {
            Ty::num(inp.dim)
        })
    }
}

/// A lesion's own fields inside a lesion; `organ` also inside a per-organ definition.
fn field(s: &str, cx: Cx) -> Option<(ir::Field, Ty)> {
    if cx.lesion {
        return match s {
            "status" => Some((ir::Field::Status, Ty::Status)),
            "role" => Some((ir::Field::Role, Ty::Role)),
            "nodal" => Some((ir::Field::Nodal, Ty::Bool)),
            "organ" => Some((ir::Field::Organ, Ty::Text)),
            "id" => Some((ir::Field::Id, Ty::Text)),
            _ => None,
        };
    }
    (cx.organ && s == "organ").then_some((ir::Field::Organ, Ty::Text))
}
