//! Decision tables: every combination of the columns' finite domains must hit a row (missing
//! combinations are reported as the rows they need), and overlapping rows must agree as the hit
//! policy demands (DMN: unique, any, first).

use super::ir::{self, Cell, HitPolicy, Lit, Ty};
use super::merge::MergedCategory;
use crate::diag::{Diag, Source};

const MAX_COMBINATIONS: usize = 200_000;

fn column_domain(col: &ir::Expr, defs: &[ir::Def]) -> Option<Vec<Lit>> {
    if col.ty == Ty::Bool {
        return Some(vec![Lit::Bool(true), Lit::Bool(false)]);
    }
    match &col.kind {
        ir::ExprKind::Def(d) | ir::ExprKind::TableCall(d, _) => {
            Some(defs[*d].domain.iter().map(|c| Lit::Cat(*c)).collect())
        }
        ir::ExprKind::At(x, _) | ir::ExprKind::Last(x) => column_domain(x, defs),
        ir::ExprKind::Lit(l) => Some(vec![l.clone()]),
        _ => None,
    }
}

fn show(l: &Lit, cats: &[MergedCategory]) -> String {
    match l {
        Lit::Cat(c) => cats[*c].name.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::Status(s) => s.name().into(),
        Lit::Role(r) => r.name().into(),
        Lit::Text(t) => format!("\"{t}\""),
        Lit::Choice(k) => format!("value {}", k + 1),
    }
}

fn row_name(i: usize, row: &ir::Row) -> String {
    match &row.label {
        Some(l) => format!("row {} ({l})", i + 1),
        None => format!("row {}", i + 1),
    }
}

pub fn check_table(
    def: &ir::Def,
    t: &ir::Table,
    defs: &[ir::Def],
    cats: &[MergedCategory],
    src: &Source,
    diags: &mut Vec<Diag>,
) {
    let Some(domains) = t
        .columns
        .iter()
        .map(|c| column_domain(c, defs))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    // Cells naming values their column never takes are typos or stale names.
    for row in &t.rows {
        for (ci, cell) in row.cells.iter().enumerate() {
            let vals = match cell {
                Cell::Any => continue,
                Cell::Set(v) | Cell::Not(v) => v,
            };
            for v in vals {
                if !domains[ci].contains(v) {
                    diags.push(
                        Diag::error(
                            "crit::table",
                            format!("column {} is never {}", ci + 1, show(v, cats)),
                        )
                        .label(row.span, "this cell can never match")
                        .help(format!(
                            "the column takes: {}",
                            domains[ci]
                                .iter()
                                .map(|l| show(l, cats))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .with_src(src),
                    );
                }
            }
        }
    }
    let total: usize = domains.iter().map(|d| d.len().max(1)).product();
    if total > MAX_COMBINATIONS || domains.iter().any(|d| d.is_empty()) {
        return;
    }
    let header = ir::Span::new(def.span.start, def.span.end);
    let mut missing: Vec<Vec<Vec<Lit>>> = vec![];
    let mut conflicts: Vec<(usize, usize, Vec<Lit>)> = vec![];
    let mut first_hits = vec![false; t.rows.len()];
    let mut idx = vec![0usize; domains.len()];
    for _ in 0..total {
        let combo: Vec<Lit> = idx
            .iter()
            .zip(&domains)
            .map(|(&i, d)| d[i].clone())
            .collect();
        let hits: Vec<usize> = t
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cells.iter().zip(&combo).all(|(c, v)| c.matches(v)))
            .map(|(i, _)| i)
            .collect();
        match hits.first() {
            None => missing.push(combo.iter().map(|v| vec![v.clone()]).collect()),
            Some(&f) => {
                first_hits[f] = true;
                let clash = match t.hit {
                    HitPolicy::Unique => hits.get(1).copied(),
                    HitPolicy::Any => hits
                        .iter()
                        .copied()
                        .find(|&h| t.rows[h].output != t.rows[f].output),
                    HitPolicy::First => None,
                };
                if let Some(h) = clash {
                    if !conflicts.iter().any(|(a, b, _)| *a == f && *b == h) {
                        conflicts.push((f, h, combo.clone()));
                    }
                }
            }
        }
        // Next combination.
        for (k, i) in idx.iter_mut().enumerate().rev() {
            *i += 1;
            if *i < domains[k].len() {
                break;
            }
            *i = 0;
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        let rows = compress(missing);
        let shown: Vec<String> = rows
            .iter()
            .take(8)
            .map(|r| {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&domains)
                    .map(|(vals, dom)| {
                        if vals.len() == dom.len() && dom.len() > 1 {
                            "-".to_string()
                        } else {
                            vals.iter()
                                .map(|v| show(v, cats))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    })
                    .collect();
                format!("| {} | => ? |", cells.join(" | "))
            })
            .collect();
        let more = if rows.len() > 8 {
            format!("\n  … and {} more", rows.len() - 8)
        } else {
            String::new()
        };
        diags.push(
            Diag::error(
                "crit::table-incomplete",
                format!(
                    "table `{}` has no row for {n} combination{} of its inputs",
                    def.name,
                    if n == 1 { "" } else { "s" }
                ),
            )
            .label(header, format!("missing: {}", shown[0]))
            .help(format!(
                "add a row for each case (replace ? by the category):\n  {}{more}",
                shown.join("\n  ")
            ))
            .with_src(src),
        );
    }
    for (a, b, combo) in conflicts {
        let (ra, rb) = (&t.rows[a], &t.rows[b]);
        let case = combo
            .iter()
            .map(|v| show(v, cats))
            .collect::<Vec<_>>()
            .join(" | ");
        let (msg, help) = match t.hit {
            HitPolicy::Unique => (
                format!("{} and {} of table `{}` both match | {case} |", row_name(a, ra), row_name(b, rb), def.name),
                "with `hit unique` (the default) exactly one row may match each case; narrow a row, or write `hit any` if overlapping rows agree or `hit first` to let the first win",
            ),
            _ => (
                format!(
                    "{} gives {} but {} gives {} for | {case} |",
                    row_name(a, ra),
                    cats[ra.output].name,
                    row_name(b, rb),
                    cats[rb.output].name
                ),
                "with `hit any` overlapping rows must give the same category; narrow one of them, or write `hit first` to let the first win",
            ),
        };
        diags.push(
            Diag::error("crit::table-overlap", msg)
                .label(ra.span, row_name(a, ra))
                .label(rb.span, row_name(b, rb))
                .help(help)
                .with_src(src),
        );
    }
    if t.hit == HitPolicy::First {
        for (i, hit) in first_hits.iter().enumerate() {
            if !hit {
                diags.push(
                    Diag::warning("crit::unreachable", format!("{} of table `{}` never applies", row_name(i, &t.rows[i]), def.name))
                        .label(t.rows[i].span, "every case it matches is taken by an earlier row")
                        .help("with `hit first` the first matching row wins; move this row up or delete it")
                        .with_src(src),
                );
            }
        }
    }
}

/// Merges missing combinations that differ in one column into one row with a list there.
fn compress(mut rows: Vec<Vec<Vec<Lit>>>) -> Vec<Vec<Vec<Lit>>> {
    loop {
        let mut merged = false;
        'outer: for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                let diff: Vec<usize> = (0..rows[i].len())
                    .filter(|&k| rows[i][k] != rows[j][k])
                    .collect();
                if diff.len() == 1 {
                    let k = diff[0];
                    let extra = rows[j][k].clone();
                    rows[i][k].extend(extra);
                    rows.remove(j);
                    merged = true;
                    break 'outer;
                }
            }
        }
        if !merged {
            return rows;
        }
    }
}
