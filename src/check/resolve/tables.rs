//! Decision-table bodies (columns, rows, cells) and table lookups `T(a, b)` / `super(a, b)`.
//! Completeness and overlaps are proven later, once category domains are known.

use super::{Cx, Resolver};
use crate::check::ir::{self, DefId, Lit, Ty};
use crate::diag::Diag;
use crate::syntax::ast::{self, ItemKind, Span};

impl Resolver<'_> {
    pub(super) fn table(&mut self, t: &ast::Table, cx: Cx) -> ir::Table {
        let columns: Vec<ir::Expr> = t.columns.iter().map(|c| self.expr(c, cx, None)).collect();
        for c in &columns {
            if !matches!(c.ty, Ty::Cat | Ty::Bool | Ty::Error) {
                let d = Diag::error("crit::type", format!("a table column must be a category or a condition, but this is {}", c.ty.describe()))
                    .label(c.span, c.ty.describe())
                    .help("tables decide on categories (responses) or yes/no conditions; compare numbers in a `value` first");
                self.err(cx.src, d);
            }
        }
        let mut rows = vec![];
        for row in &t.rows {
            if row.cells.len() != columns.len() {
                let d = Diag::error(
                    "crit::table",
                    format!(
                        "this row has {} cells but the table has {} columns",
                        row.cells.len(),
                        columns.len()
                    ),
                )
                .label(row.span, "wrong number of cells")
                .label(t.header_span, "columns declared here")
                .help("write one cell per column, `-` for any value");
                self.err(cx.src, d);
                continue;
            }
            let mut cells = vec![];
            for (cell, col) in row.cells.iter().zip(&columns) {
                cells.push(match cell {
                    ast::Cell::Any(_) => ir::Cell::Any,
                    ast::Cell::Is(names) => ir::Cell::Set(self.cell_lits(names, col.ty, cx)),
                    ast::Cell::Not(names) => ir::Cell::Not(self.cell_lits(names, col.ty, cx)),
                });
            }
            let output = self.category(&row.output, cx).unwrap_or(0);
            let line = ir::line_of(self.m.sources[cx.src].inner(), row.span.start);
            rows.push(ir::Row {
                cells,
                output,
                label: row.label.clone(),
                span: row.span,
                line,
            });
        }
        ir::Table {
            columns,
            hit: t.hit,
            rows,
        }
    }

    pub(super) fn cell_lits(&mut self, names: &[ast::Name], ty: Ty, cx: Cx) -> Vec<Lit> {
        names
            .iter()
            .filter_map(|n| match ty {
                Ty::Bool => match n.node.as_str() {
                    "true" | "yes" => Some(Lit::Bool(true)),
                    "false" | "no" => Some(Lit::Bool(false)),
                    _ => {
                        let d = Diag::error(
                            "crit::table",
                            format!("`{}` is not a value of a yes/no column", n.node),
                        )
                        .label(n.span, "expected true or false")
                        .help("cells of a condition column are `true`, `false` or `-`");
                        self.err(cx.src, d);
                        None
                    }
                },
                _ => self.category(n, cx).map(Lit::Cat),
            })
            .collect()
    }

    pub(super) fn table_call(
        &mut self,
        d: DefId,
        args: &[ast::Expr],
        span: Span,
        cx: Cx,
    ) -> ir::Expr {
        let ncols = match &self.m.slots[self.def_slot[d]].item.kind {
            ItemKind::Table(t) => Some(t.columns.len()),
            _ => None,
        };
        let args: Vec<ir::Expr> = args
            .iter()
            .map(|a| self.expr(a, cx, Some(Ty::Cat)))
            .collect();
        match ncols {
            Some(n) if n == args.len() => ir::Expr {
                kind: ir::ExprKind::TableCall(d, args),
                ty: Ty::Cat,
                span,
            },
            Some(n) => {
                let diag = Diag::error(
                    "crit::arity",
                    format!(
                        "this table has {n} columns but {} values are given",
                        args.len()
                    ),
                )
                .label(span, "wrong number of values")
                .help("give one value per column, in the order of the table's header");
                self.err(cx.src, diag);
                ir::Expr {
                    kind: ir::ExprKind::Bool(false),
                    ty: Ty::Error,
                    span,
                }
            }
            None => {
                let diag = Diag::error(
                    "crit::type",
                    format!(
                        "`{}` is not a table, so it cannot be looked up with values",
                        self.m.slots[self.def_slot[d]].item.name.node
                    ),
                )
                .label(span, "not a table")
                .help("only decision tables take values in parentheses");
                self.err(cx.src, diag);
                ir::Expr {
                    kind: ir::ExprKind::Bool(false),
                    ty: Ty::Error,
                    span,
                }
            }
        }
    }
}
