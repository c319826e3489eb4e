//! Types and units: what an operand must be, arithmetic and comparison of dimensions, and the
//! diagnostics for unit mistakes.

use rust_decimal::Decimal;

use super::{Cx, Resolver};
use crate::check::ir::{self, Ty};
use crate::diag::{suggest, Diag};
use crate::syntax::ast::{self, Span};
use crate::units::{self, Dim};

impl Resolver<'_> {
    pub(super) fn expect_bool(&mut self, e: &ir::Expr, cx: Cx, what: &str) {
        if e.ty != Ty::Bool && e.ty != Ty::Error {
            let d = Diag::error(
                "crit::type",
                format!(
                    "{what} must be a condition, but this is {}",
                    e.ty.describe()
                ),
            )
            .label(e.span, e.ty.describe())
            .help("compare it, e.g. `x >= 5 mm`, or use a yes/no definition");
            self.err(cx.src, d);
        }
    }

    pub(super) fn expect_num(&mut self, e: &ir::Expr, cx: Cx, what: &str) -> Option<(Dim, bool)> {
        match e.ty {
            Ty::Num { dim, pct } => Some((dim, pct)),
            Ty::Error => None,
            t => {
                let d = Diag::error(
                    "crit::type",
                    format!("{what} must be a number, but this is {}", t.describe()),
                )
                .label(e.span, t.describe())
                .help("only numbers with units take part in arithmetic and sums");
                self.err(cx.src, d);
                None
            }
        }
    }

    pub(super) fn expect_plain(&mut self, e: &ir::Expr, cx: Cx, what: &str) {
        if let Some((dim, _)) = self.expect_num(e, cx, what) {
            if !dim.is_none() {
                let d = Diag::error(
                    "crit::unit",
                    format!("{what} must be a plain count, but this is in {dim}"),
                )
                .label(e.span, format!("{dim}"))
                .help("write a plain number, e.g. `5`");
                self.err(cx.src, d);
            }
        }
    }

    pub(super) fn arith(&mut self, op: ast::BinOp, a: &ir::Expr, b: &ir::Expr, cx: Cx) -> Ty {
        let (Some((da, pa)), Some((db, pb))) = (
            self.expect_num(a, cx, "an operand"),
            self.expect_num(b, cx, "an operand"),
        ) else {
            return Ty::Error;
        };
        match op {
            ast::BinOp::Add | ast::BinOp::Sub => {
                if da != db {
                    let word = if op == ast::BinOp::Add {
                        "add"
                    } else {
                        "subtract"
                    };
                    let d = unit_mismatch(
                        format!("cannot {word} {} and {}", dim_words(da), dim_words(db)),
                        a,
                        b,
                    );
                    self.err(cx.src, d);
                    return Ty::Error;
                }
                Ty::Num {
                    dim: da,
                    pct: pa || pb,
                }
            }
            ast::BinOp::Mul | ast::BinOp::Div
                if units::time_scale(
                    da,
                    db,
                    if op == ast::BinOp::Mul {
                        da.times(db)
                    } else {
                        da.per(db)
                    },
                    op == ast::BinOp::Div,
                ) != 0 =>
            {
                // Rates are stored per day and durations in minutes: no exact product of both.
                let d = Diag::error(
                    "crit::unit",
                    format!(
                        "cannot combine {} and {} in one product or quotient",
                        dim_words(da),
                        dim_words(db)
                    ),
                )
                .label(a.span, dim_words(da))
                .label(b.span, dim_words(db))
                .help("a rate per day times a duration (or an amount per duration) is not supported: write the duration as a plain number of days, e.g. `dose * 7`");
                self.err(cx.src, d);
                Ty::Error
            }
            ast::BinOp::Mul => {
                let dim = da.times(db);
                Ty::Num {
                    dim,
                    pct: dim.is_none() && (pa || pb),
                }
            }
            ast::BinOp::Div => {
                let dim = da.per(db);
                Ty::Num {
                    dim,
                    pct: dim.is_none() && (pa || pb || (da == db && !da.is_none())),
                }
            }
        }
    }

    pub(super) fn compare(&mut self, op: ast::CmpOp, a: &ir::Expr, b: &ir::Expr, cx: Cx) {
        if a.ty == Ty::Error || b.ty == Ty::Error {
            return;
        }
        match (a.ty, b.ty) {
            (Ty::Num { dim: da, .. }, Ty::Num { dim: db, .. }) => {
                if da != db {
                    let d = unit_mismatch(
                        format!("cannot compare {} with {}", dim_words(da), dim_words(db)),
                        a,
                        b,
                    );
                    self.err(cx.src, d);
                }
            }
            // Values of a categorical input are ordered as declared.
            (x, y) if x == y => {
                if !matches!(op, ast::CmpOp::Eq | ast::CmpOp::Ne) && !matches!(x, Ty::Choice(_)) {
                    let d = Diag::error("crit::type", format!("`{}` orders numbers, but these are {}", op.symbol(), x.describe()))
                        .label(a.span, x.describe())
                        .help("categories, statuses and conditions are compared with `=`, `!=` or `in {...}`");
                    self.err(cx.src, d);
                }
            }
            (x, y) => {
                let d = Diag::error(
                    "crit::type",
                    format!("cannot compare {} with {}", x.describe(), y.describe()),
                )
                .label(a.span, x.describe())
                .label(b.span, y.describe())
                .help("both sides of a comparison must be the same kind of value");
                self.err(cx.src, d);
            }
        }
    }
}

pub(super) fn compatible(a: Ty, b: Ty) -> bool {
    match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (Ty::Num { dim: x, .. }, Ty::Num { dim: y, .. }) => x == y,
        (x, y) => x == y,
    }
}

pub(super) fn merge_ty(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Error, t) | (t, Ty::Error) => t,
        (Ty::Num { dim, pct: p }, Ty::Num { pct: q, .. }) => Ty::Num { dim, pct: p || q },
        (t, _) => t,
    }
}

pub(super) fn dim_words(d: Dim) -> String {
    if d.is_none() {
        "a plain number".into()
    } else {
        format!("{d}")
    }
}

pub(super) fn unit_mismatch(msg: String, a: &ir::Expr, b: &ir::Expr) -> Diag {
    let (Ty::Num { dim: da, .. }, Ty::Num { dim: db, .. }) = (a.ty, b.ty) else {
        unreachable!()
    };
    let plain = if da.is_none() {
        Some((a, db))
    } else if db.is_none() {
        Some((b, da))
    } else {
        None
    };
    let help = match plain {
        Some((_, other)) => {
            let (u, _) = units::display_unit(other, None);
            format!("give the number its unit, e.g. `5 {u}`")
        }
        None => {
            "both sides must be in the same dimension (mm with mm, SUL with SUL, days with days)"
                .into()
        }
    };
    Diag::error("crit::unit", msg)
        .label(a.span, dim_words(da))
        .label(b.span, dim_words(db))
        .help(help)
}

pub(super) fn unknown_unit(u: &str, span: Span) -> Diag {
    let d = Diag::error("crit::unit", format!("unknown unit `{u}`")).label(span, "not a unit");
    if units::parts_known(u) {
        return d.help("each part is a unit, but the whole has no exact decimal factor (a rate per week is 1/7 per day): write rates per day, per hour or per minute, e.g. `mg/day`");
    }
    d.help(suggest(u, units::unit_names(), || {
        format!(
            "the units are: {}",
            units::unit_names().collect::<Vec<_>>().join(", ")
        )
    }))
}

/// A number written with a unit, in base units (a week is 10,080 minutes), or an error when that
/// is beyond the range of exact decimals.
pub(super) fn in_base_units(
    d: Decimal,
    unit: &units::Unit,
    written: &str,
    at: Span,
) -> Result<Decimal, Diag> {
    d.checked_mul(unit.factor).ok_or_else(|| {
        Diag::error(
            "crit::range",
            format!("`{d} {written}` is too large to compute with"),
        )
        .label(at, "beyond the range of exact decimals in base units")
        .help("numbers reach about 7.9 × 10^28 in base units (millimetres, minutes, ...); use a smaller value")
    })
}
