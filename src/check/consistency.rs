//! Checks that need the categories each response can take: comparisons with categories a
//! definition never gives, rules that can never apply, and a best-response rank that leaves
//! categories out.

use super::ir::{self, CatId, DefId, ExprKind as K, Lit, Ty};
use super::merge::MergedCategory;
use crate::diag::{Diag, Source};

pub(super) fn names(cats: &[CatId], all: &[MergedCategory]) -> String {
    cats.iter()
        .map(|c| all[*c].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The category-valued definition an expression reads, if any.
pub(super) fn cat_source(e: &ir::Expr) -> Option<DefId> {
    match &e.kind {
        K::Def(d) => Some(*d),
        K::At(x, _) | K::Last(x) => cat_source(x),
        _ => None,
    }
}

pub(super) fn check_category_uses(
    e: &ir::Expr,
    defs: &[ir::Def],
    cats: &[MergedCategory],
    src: &Source,
    diags: &mut Vec<Diag>,
) {
    let (lhs, lits): (&ir::Expr, Vec<(CatId, ir::Span)>) = match &e.kind {
        K::Cmp(ir::CmpOp::Eq | ir::CmpOp::Ne, a, b) => match &b.kind {
            K::Lit(Lit::Cat(c)) => (a, vec![(*c, b.span)]),
            _ => return,
        },
        K::In(a, items, _) => (
            a,
            items
                .iter()
                .filter_map(|l| {
                    if let Lit::Cat(c) = l {
                        Some((*c, e.span))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
        _ => return,
    };
    let Some(d) = cat_source(lhs) else { return };
    let def = &defs[d];
    if def.ty != Ty::Cat {
        return;
    }
    for (c, span) in lits {
        if !def.domain.contains(&c) {
            diags.push(
                Diag::error(
                    "crit::category",
                    format!("`{}` is never {}", def.name, cats[c].name),
                )
                .label(span, "this comparison is always false")
                .help(format!(
                    "`{}` is one of: {}",
                    def.name,
                    names(&def.domain, cats)
                ))
                .with_src(src),
            );
        }
    }
}

pub(super) fn check_rules(rules: &[ir::Rule], src: &Source, diags: &mut Vec<Diag>) {
    let text = src.inner();
    let mut seen: Vec<(String, usize)> = vec![];
    let mut after_otherwise = false;
    for r in rules {
        if after_otherwise {
            diags.push(
                Diag::warning("crit::unreachable", "this rule can never apply")
                    .label(r.span, "comes after a rule that always applies")
                    .help("rules are tried in order and `otherwise` always applies: move this rule above it, or delete it")
                    .with_src(src),
            );
            continue;
        }
        match &r.cond {
            None => after_otherwise = true,
            Some(c) => {
                if matches!(c.kind, K::Bool(false)) {
                    diags.push(
                        Diag::warning("crit::unreachable", "this rule can never apply")
                            .label(c.span, "always false")
                            .help("delete the rule or fix its condition")
                            .with_src(src),
                    );
                }
                let key: String = text[c.span.start..c.span.end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some((_, line)) = seen.iter().find(|(k, _)| *k == key) {
                    diags.push(
                        Diag::warning("crit::unreachable", "this rule can never apply")
                            .label(
                                c.span,
                                format!(
                                    "same condition as the rule on line {line}, which comes first"
                                ),
                            )
                            .help("rules are tried in order: the earlier rule always wins here")
                            .with_src(src),
                    );
                } else {
                    seen.push((key, r.line));
                }
            }
        }
    }
}

/// Byte offset of a 1-based line.
fn line_start(text: &str, line: usize) -> usize {
    text.lines()
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .min(text.len())
}

pub(super) fn check_best(
    b: &ir::Best,
    overall: &ir::Def,
    cats: &[MergedCategory],
    src: &Source,
    diags: &mut Vec<Diag>,
) {
    let missing: Vec<CatId> = overall
        .domain
        .iter()
        .copied()
        .filter(|c| !b.rank.contains(c))
        .collect();
    let text = src.inner();
    // A history cut at the first C leaves nothing after it that could confirm a C.
    for c in &b.confirms {
        let Some(&stopped) = c.cats.iter().find(|x| b.stop_after.contains(x)) else {
            continue;
        };
        let name = &cats[stopped].name;
        let start = line_start(text, c.line);
        let len = text[start..].find('\n').unwrap_or(text.len() - start);
        diags.push(
            Diag::error(
                "crit::best",
                format!("`confirm {name} ...` can never confirm: `stop after first {name}` ends the history at the first {name}"),
            )
            .label(ir::Span::new(start, start + len), "nothing after the first one is counted")
            .help(format!(
                "write `stop after first confirmed {name}` to end the history at the first {name} a later one confirms (as irRC does); or give the confirmed one its own category, as iRECIST does: a category for the confirmed {name} (e.g. `C{name} progressive`), a rule that gives it when a later assessment confirms, `stop after first C{name}` and `count {name} as C{name} when followed by C{name}`"
            ))
            .with_src(src),
        );
    }
    if !missing.is_empty() {
        let start = line_start(text, b.line);
        diags.push(
            Diag::error(
                "crit::best",
                format!(
                    "the best-response rank leaves out {}",
                    names(&missing, cats)
                ),
            )
            .label(
                ir::Span::new(start, start + 13),
                "rank declared in this block",
            )
            .help(format!(
                "`overall` can be any of {}; rank them all, best first",
                names(&overall.domain, cats)
            ))
            .with_src(src),
        );
    }
}
