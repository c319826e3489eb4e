//! The best-response block: rank, stop, confirm, require, allow and relabel lines. Its settings
//! are fixed for a run, so only params and literals may appear in them.

use super::types::dim_words;
use super::{Cx, Resolver};
use crate::check::ir;
use crate::diag::Diag;
use crate::syntax::ast::{self, ItemKind};
use crate::units::Dim;

impl Resolver<'_> {
    pub(super) fn best(&mut self) -> Option<ir::Best> {
        let si = self
            .m
            .slots
            .iter()
            .rposition(|s| matches!(s.item.kind, ItemKind::Best(_)) && !s.hidden)?;
        let slot = &self.m.slots[si];
        let cx = Cx {
            src: slot.src,
            lesion: false,
            organ: false,
            super_def: None,
        };
        let ItemKind::Best(lines) = &slot.item.kind else {
            unreachable!()
        };
        let mut b = ir::Best {
            src: slot.src,
            line: ir::line_of(self.m.sources[slot.src].inner(), slot.item.span.start),
            origin: slot.origin.clone(),
            ..Default::default()
        };
        let text = self.m.sources[slot.src].inner().clone();
        for l in lines {
            match l {
                ast::BestLine::Rank(cats, _) => b.rank = self.cats_of(cats, cx),
                ast::BestLine::StopAfter(cats, false, _) => b.stop_after = self.cats_of(cats, cx),
                ast::BestLine::StopAfter(cats, true, _) => {
                    b.stop_after_confirmed = self.cats_of(cats, cx)
                }
                ast::BestLine::Require {
                    cats,
                    min,
                    anchor,
                    fallback,
                    guard,
                    span,
                } => {
                    let cats = self.cats_of(cats, cx);
                    let min = self.duration(min, cx);
                    let fallback = self.category(fallback, cx).unwrap_or(0);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.requires.push(ir::Require {
                        cats,
                        min,
                        anchor: *anchor,
                        fallback,
                        guard,
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::Confirm {
                    cats,
                    by,
                    min,
                    max,
                    fallback,
                    guard,
                    span,
                } => {
                    let cats = self.cats_of(cats, cx);
                    let by = self.cats_of(by, cx);
                    let min = self.duration(min, cx);
                    let max = max.as_ref().map(|m| self.duration(m, cx));
                    let fallback = self.category(fallback, cx).unwrap_or(0);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.confirms.push(ir::Confirm {
                        cats,
                        by,
                        min,
                        max,
                        fallback,
                        guard,
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::Allow {
                    of,
                    cats,
                    max,
                    guard,
                    span,
                } => {
                    let max = max.as_ref().map(|m| {
                        let m = self.expr(m, cx, None);
                        self.expect_plain(&m, cx, "the number of assessments allowed");
                        self.constant(&m, cx);
                        m
                    });
                    b.allows.push(ir::Allow {
                        of: self.cats_of(of, cx),
                        cats: self.cats_of(cats, cx),
                        max,
                        guard: self.guard(guard.as_ref(), cx),
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::Forbid {
                    of,
                    cats,
                    after,
                    guard,
                    span,
                } => {
                    b.forbids.push(ir::Forbid {
                        of: self.cats_of(of, cx),
                        cats: self.cats_of(cats, cx),
                        after: self.cats_of(after, cx),
                        guard: self.guard(guard.as_ref(), cx),
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::Relabel {
                    from,
                    to,
                    followed_by,
                    ..
                } => {
                    let f = self.category(from, cx).unwrap_or(0);
                    let t = self.category(to, cx).unwrap_or(0);
                    let fb = self.category(followed_by, cx).unwrap_or(0);
                    b.relabels.push((f, t, fb));
                }
            }
        }
        Some(b)
    }

    pub(super) fn cats_of(&mut self, names: &[ast::Name], cx: Cx) -> Vec<usize> {
        names.iter().filter_map(|n| self.category(n, cx)).collect()
    }

    pub(super) fn duration(&mut self, e: &ast::Expr, cx: Cx) -> ir::Expr {
        let x = self.expr(e, cx, None);
        if let Some((dim, _)) = self.expect_num(&x, cx, "a duration") {
            if dim != Dim::TIME {
                let d = Diag::error(
                    "crit::unit",
                    format!(
                        "a duration must be in days or weeks, but this is {}",
                        dim_words(dim)
                    ),
                )
                .label(x.span, dim_words(dim))
                .help("write e.g. `42 days` or `6 weeks`");
                self.err(cx.src, d);
            }
        }
        self.constant(&x, cx);
        x
    }

    pub(super) fn guard(&mut self, g: Option<&ast::Guard>, cx: Cx) -> ir::Guard {
        match g {
            None => ir::Guard::Always,
            Some(ast::Guard::When(e)) | Some(ast::Guard::Unless(e)) => {
                let x = self.expr(e, cx, None);
                self.expect_bool(&x, cx, "the condition of a best-response line");
                self.constant(&x, cx);
                if matches!(g, Some(ast::Guard::When(_))) {
                    ir::Guard::When(x)
                } else {
                    ir::Guard::Unless(x)
                }
            }
        }
    }

    /// Best-response settings are fixed for a run: only params and literals.
    pub(super) fn constant(&mut self, e: &ir::Expr, cx: Cx) {
        if !is_constant(e) {
            let d = Diag::error(
                "crit::best",
                "a best-response setting can only use params and numbers",
            )
            .label(e.span, "depends on the data")
            .help("declare a `param` and use it here");
            self.err(cx.src, d);
        }
    }
}

fn is_constant(e: &ir::Expr) -> bool {
    use ir::ExprKind as K;
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Lit(_) | K::Param(_) => true,
        K::Neg(x) | K::Not(x) | K::Abs(x) => is_constant(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            is_constant(a) && is_constant(b)
        }
        K::And(xs) | K::Or(xs) => xs.iter().all(is_constant),
        K::If(c, a, b) => is_constant(c) && is_constant(a) && is_constant(b),
        _ => false,
    }
}
