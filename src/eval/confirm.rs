//! Confirmation of a response by a later assessment: the first assessment of a confirming
//! category at least the minimum later (and, when given, at most the maximum later) confirms it,
//! provided everything between is allowed (`between confirmations ... allow`) and nothing
//! forbidden came (`between confirmations ... forbid X after Y`).

use rust_decimal::Decimal;

use super::engine::Evaluation;
use super::value::{Iv, Val};
use crate::check::ir::{CatId, Confirm, Expr};
use crate::units::MINUTES_PER_DAY;

/// Why a response was not confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum Unconfirmed {
    /// No later assessment could confirm it.
    NothingLater,
    /// An assessment whose category may not come between (`by` is its timepoint).
    Broken { by: usize, cat: CatId },
    /// More of a category than `between confirmations` allows (line of that allowance).
    TooMany {
        by: usize,
        cat: CatId,
        max: usize,
        line: usize,
    },
    /// A category that may not follow another in the confirmation period.
    Forbidden {
        by: usize,
        cat: CatId,
        after: CatId,
        line: usize,
    },
    /// The first assessment that could confirm it came after the latest time allowed.
    TooLate {
        by: usize,
        cat: CatId,
        days: i64,
        max_days: Decimal,
    },
}

/// A confirmation's minimum and (where set) maximum time, in minutes.
pub type Limits = (Decimal, Option<Decimal>);

/// The outcome for the response at `original[i]`, confirmed by `rule` within its `limits`
/// (`Settings::confirms`): the confirming timepoint and its distance in days, or why there is
/// none.
pub fn confirm(
    ev: &Evaluation,
    rule: &Confirm,
    (min, max): Limits,
    original: &[(usize, CatId)],
    i: usize,
) -> Result<(usize, i64), Unconfirmed> {
    let b = &ev.rs().best;
    let set = ev.settings();
    let (ti, ci) = original[i];
    let applies = |of: &[CatId]| of.is_empty() || of.contains(&ci);
    // Each allowance with its limit and how many it has let through.
    let mut allows: Vec<(&[CatId], Option<usize>, usize, usize)> = (b.allows.iter())
        .zip(&set.allows)
        .filter_map(|(a, limit)| {
            let limit = (*limit).filter(|_| applies(&a.of))?;
            Some((a.cats.as_slice(), limit, 0, a.line))
        })
        .collect();
    let forbids: Vec<_> = (b.forbids.iter())
        .zip(&set.forbids)
        .filter(|(f, on)| **on && applies(&f.of))
        .map(|(f, _)| f)
        .collect();
    let mut seen: Vec<CatId> = vec![];
    for &(tj, cj) in &original[i + 1..] {
        let days = ev.days_between(ti, tj);
        let mins = Decimal::from(days) * MINUTES_PER_DAY;
        for f in &forbids {
            if f.cats.contains(&cj) {
                if let Some(&after) = seen.iter().find(|c| f.after.contains(c)) {
                    return Err(Unconfirmed::Forbidden {
                        by: tj,
                        cat: cj,
                        after,
                        line: f.line,
                    });
                }
            }
        }
        if rule.by.contains(&cj) && mins >= min {
            return match max {
                Some(max) if mins > max => Err(Unconfirmed::TooLate {
                    by: tj,
                    cat: cj,
                    days,
                    max_days: max / MINUTES_PER_DAY,
                }),
                _ => Ok((tj, days)),
            };
        }
        seen.push(cj);
        if rule.by.contains(&cj) {
            continue;
        }
        let Some(a) = allows.iter_mut().find(|a| a.0.contains(&cj)) else {
            return Err(Unconfirmed::Broken { by: tj, cat: cj });
        };
        match a.1 {
            Some(limit) if a.2 >= limit => {
                return Err(Unconfirmed::TooMany {
                    by: tj,
                    cat: cj,
                    max: limit,
                    line: a.3,
                })
            }
            _ => a.2 += 1,
        }
    }
    Err(Unconfirmed::NothingLater)
}

/// A duration setting in minutes; `None` when it is `none` (no limit).
pub(super) fn minutes(ev: &Evaluation, e: &Expr) -> Option<Decimal> {
    match ev.eval(0, None, e) {
        Val::Num(Iv { lo: Some(v), .. }) => Some(v),
        _ => None,
    }
}

pub(super) fn count(ev: &Evaluation, e: &Expr) -> usize {
    match ev.eval(0, None, e) {
        Val::Num(iv) => iv
            .value()
            .and_then(|d| rust_decimal::prelude::ToPrimitive::to_usize(&d))
            .unwrap_or(0),
        _ => 0,
    }
}
