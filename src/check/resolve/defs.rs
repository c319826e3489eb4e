//! Definition bodies: each definition is checked once, on demand, and its rule list must give
//! one kind of value and end with a rule that always applies.

use super::types::compatible;
use super::{Cx, Resolver, State, STACK_GROWTH, STACK_RED_ZONE};
use crate::check::ir::{self, DefId, Ty};
use crate::diag::Diag;
use crate::syntax::ast::{self, ExprKind as E, ItemKind};

impl Resolver<'_> {
    /// Checks a definition (once) and returns its type.
    pub(super) fn def(&mut self, id: DefId) -> Ty {
        match self.def_state[id] {
            State::Done => return self.def_ty[id],
            State::Busy => {
                // Referenced while being checked (e.g. through `ever(x)` inside x's own
                // dependencies): the form of its body tells the type; the evaluation order check
                // later rejects real same-assessment cycles.
                let si = self.def_slot[id];
                if let Some(t) = shallow_ty(&self.m.slots[si].item.kind) {
                    return t;
                }
                if self.def_ty[id] != Ty::Cat {
                    let si = self.def_slot[id];
                    let slot = &self.m.slots[si];
                    let d = Diag::error("crit::cycle", format!("`{}` depends on itself", slot.item.name.node))
                        .label(slot.item.name.span, "its value is needed to compute itself")
                        .help("refer to an earlier assessment instead, e.g. `previous(x)`, or break the chain");
                    self.err(slot.src, d);
                }
                return self.def_ty[id];
            }
            State::New => {}
        }
        self.def_state[id] = State::Busy;
        let si = self.def_slot[id];
        let cx = self.slot_cx(si);
        let (body, ty) = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || self.body(si, cx));
        self.bodies[id] = Some(body);
        self.def_ty[id] = ty;
        self.def_state[id] = State::Done;
        ty
    }

    /// A definition's body and type. Checking a reference checks its target first, so a chain of
    /// definitions declared in reverse order recurses as deep as it is long: the caller grows the
    /// stack rather than limiting how many definitions a ruleset may have.
    fn body(&mut self, si: usize, cx: Cx) -> (ir::Body, Ty) {
        let item = &self.m.slots[si].item;
        match &item.kind {
            ItemKind::Lesion(b) | ItemKind::Organ(b) | ItemKind::Value(b) => match b {
                ast::Body::Expr(e) => {
                    let e = self.expr(e, cx, None);
                    let ty = e.ty;
                    (ir::Body::Expr(e), ty)
                }
                ast::Body::Rules(rules) => {
                    let (rules, ty) = self.rules(rules, cx, None);
                    (ir::Body::Rules(rules), ty)
                }
            },
            ItemKind::Response(rules) => {
                let (rules, _) = self.rules(rules, cx, Some(Ty::Cat));
                (ir::Body::Rules(rules), Ty::Cat)
            }
            ItemKind::Table(t) => (ir::Body::Table(self.table(t, cx)), Ty::Cat),
            _ => unreachable!("only definitions have ids"),
        }
    }

    pub(super) fn rules(
        &mut self,
        rules: &[ast::Rule],
        cx: Cx,
        want: Option<Ty>,
    ) -> (Vec<ir::Rule>, Ty) {
        let mut out = vec![];
        let mut ty: Option<Ty> = want;
        for r in rules {
            let head = self.expr(&r.head, cx, ty.or(Some(Ty::Cat)).filter(|t| *t == Ty::Cat));
            match ty {
                None => ty = Some(head.ty),
                Some(t) if !compatible(t, head.ty) => {
                    let msg = if want == Some(Ty::Cat) {
                        format!(
                            "a response rule must give a category, but this is {}",
                            head.ty.describe()
                        )
                    } else {
                        format!(
                            "rules give different kinds of value: {} here, {} above",
                            head.ty.describe(),
                            t.describe()
                        )
                    };
                    let d = Diag::error("crit::type", msg)
                        .label(r.head.span, head.ty.describe())
                        .help("every rule of a list gives the same kind of value (a category for responses)");
                    self.err(cx.src, d);
                }
                _ => {}
            }
            let cond = r.cond.as_ref().map(|c| {
                let c = self.expr(c, cx, None);
                self.expect_bool(&c, cx, "the condition after `when`");
                c
            });
            let line = ir::line_of(self.m.sources[cx.src].inner(), r.span.start);
            out.push(ir::Rule {
                head,
                cond,
                reason: r.reason.clone(),
                cite: r.cite.clone(),
                span: r.span,
                line,
            });
        }
        if let Some(last) = rules.last() {
            if last.cond.is_some() {
                let d = Diag::error(
                    "crit::incomplete-rules",
                    "the last rule has a condition, so some cases get no value",
                )
                .label(last.span, "what if this condition is false?")
                .help("end the list with a rule that always applies: `... otherwise`");
                self.err(cx.src, d);
            }
        }
        (out, ty.unwrap_or(Ty::Error))
    }
}

/// The type of a definition that its outermost form decides (conditions, categories).
fn shallow_ty(kind: &ItemKind) -> Option<Ty> {
    let e = match kind {
        ItemKind::Response(_) | ItemKind::Table(_) => return Some(Ty::Cat),
        ItemKind::Lesion(ast::Body::Expr(e)) | ItemKind::Value(ast::Body::Expr(e)) => e,
        _ => return None,
    };
    match &e.kind {
        E::Cmp(..) | E::In(..) | E::And(_) | E::Or(_) | E::Not(_) | E::Bool(_) | E::Unknown => {
            Some(Ty::Bool)
        }
        E::Agg(ast::AggFn::All | ast::AggFn::Any, ..) => Some(Ty::Bool),
        _ => None,
    }
}
