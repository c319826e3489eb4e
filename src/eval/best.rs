//! Best overall response from the timepoint responses: stop at progression, relabel (an
//! unconfirmed progression confirmed later), confirmation of responses, minimum durations,
//! then the best-ranked category. Every change is recorded for the explanation.

use rust_decimal::Decimal;
use smallvec::SmallVec;

pub use super::confirm::Unconfirmed;
use super::confirm::{confirm, count, minutes, Limits};
use super::engine::Evaluation;
use super::value::Tri;
use crate::check::ir::{Anchor, CatId, Confirm, Guard};
use crate::units::MINUTES_PER_DAY;

#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// Timepoints after this one are not considered.
    Stopped {
        t: usize,
    },
    Relabeled {
        t: usize,
        from: CatId,
        to: CatId,
        by: usize,
    },
    Confirmed {
        t: usize,
        by: usize,
        days: i64,
    },
    NotConfirmed {
        t: usize,
        from: CatId,
        to: CatId,
        line: usize,
        why: Unconfirmed,
    },
    TooEarly {
        t: usize,
        from: CatId,
        to: CatId,
        days: i64,
        min_days: Decimal,
        line: usize,
    },
}

#[derive(Debug, Clone, Default)]
pub struct BestOutcome {
    pub category: Option<CatId>,
    /// The assessment that gave it.
    pub at: Option<usize>,
    pub notes: Vec<Note>,
}

/// The best-response lines' settings in this run, worked out once per engine
/// (`Evaluation::settings`): they read params and literals only (the checker allows nothing
/// else), so they are the same for every subject.
#[derive(Debug)]
pub struct Settings {
    /// Per `confirm` line, where it applies: its minimum and maximum time (minutes).
    pub(super) confirms: Vec<Option<Limits>>,
    /// Per `between confirmations ... allow` line, where it applies: its limit.
    pub(super) allows: Vec<Option<Option<usize>>>,
    /// Per `between confirmations ... forbid` line: whether it applies.
    pub(super) forbids: Vec<bool>,
    /// Per `require` line, where it applies: its minimum time (minutes).
    pub(super) requires: Vec<Option<Decimal>>,
}

impl Settings {
    pub(super) fn new(ev: &Evaluation) -> Settings {
        let b = &ev.rs().best;
        let when = |g: &Guard| active(ev, g);
        Settings {
            confirms: (b.confirms.iter())
                .map(|r| {
                    when(&r.guard).then(|| {
                        let min = minutes(ev, &r.min).unwrap_or(Decimal::ZERO);
                        (min, r.max.as_ref().and_then(|m| minutes(ev, m)))
                    })
                })
                .collect(),
            allows: (b.allows.iter())
                .map(|a| when(&a.guard).then(|| a.max.as_ref().map(|m| count(ev, m))))
                .collect(),
            forbids: b.forbids.iter().map(|f| when(&f.guard)).collect(),
            requires: (b.requires.iter())
                .map(|r| when(&r.guard).then(|| minutes(ev, &r.min).unwrap_or(Decimal::ZERO)))
                .collect(),
        }
    }
}

/// Whether a guarded line applies in this run (its condition reads params only).
pub fn active(ev: &Evaluation, g: &Guard) -> bool {
    match g {
        Guard::Always => true,
        Guard::When(e) => ev.cond(0, None, e) == Tri::True,
        Guard::Unless(e) => ev.cond(0, None, e) != Tri::True,
    }
}

pub fn best_response(ev: &Evaluation) -> BestOutcome {
    let rs = ev.rs();
    let b = &rs.best;
    let set = ev.settings();
    let ne = rs.not_evaluable;
    let n = ev.subj.assessments.len();
    let mut out = BestOutcome::default();
    // Each timepoint's category as counted (after each step below); on the stack for most.
    let mut cats: SmallVec<[(usize, CatId); 16]> = SmallVec::new();
    cats.extend((1..n).filter_map(|t| ev.category(t, rs.overall).map(|c| (t, c))));

    if let Some(pos) = cats.iter().position(|(_, c)| b.stop_after.contains(c)) {
        if pos + 1 < cats.len() {
            out.notes.push(Note::Stopped { t: cats[pos].0 });
        }
        cats.truncate(pos + 1);
    }

    for &(from, to, followed_by) in &b.relabels {
        for i in 0..cats.len() {
            if cats[i].1 != from {
                continue;
            }
            let next = cats[i + 1..]
                .iter()
                .find(|(_, c)| *c != from && Some(*c) != ne);
            if let Some(&(tj, c)) = next {
                if c == followed_by {
                    out.notes.push(Note::Relabeled {
                        t: cats[i].0,
                        from,
                        to,
                        by: tj,
                    });
                    cats[i].1 = to;
                }
            }
        }
    }

    // The timepoints before confirmation, which confirmations read (none to keep when no
    // confirmation applies: nothing is then confirmed).
    let confirms: SmallVec<[(&Confirm, Limits); 4]> = (b.confirms.iter())
        .zip(&set.confirms)
        .filter_map(|(r, s)| Some((r, (*s)?)))
        .collect();
    let original = if confirms.is_empty() {
        SmallVec::new()
    } else {
        cats.clone()
    };
    for (rule, limits) in confirms {
        for i in 0..original.len() {
            let (ti, ci) = original[i];
            if !rule.cats.contains(&ci) {
                continue;
            }
            match confirm(ev, rule, limits, &original, i) {
                Ok((tj, days)) => out.notes.push(Note::Confirmed {
                    t: ti,
                    by: tj,
                    days,
                }),
                Err(why) => {
                    out.notes.push(Note::NotConfirmed {
                        t: ti,
                        from: ci,
                        to: rule.fallback,
                        line: rule.line,
                        why,
                    });
                    cats[i].1 = rule.fallback;
                }
            }
        }
    }

    // `stop after first confirmed C`: the assessments after it (the confirming one included,
    // which only confirmed it) do not count.
    let first_confirmed = original.iter().position(|&(ti, ci)| {
        b.stop_after_confirmed.contains(&ci)
            && out
                .notes
                .iter()
                .any(|n| matches!(n, Note::Confirmed { t, .. } if *t == ti))
    });
    if let Some(end) = first_confirmed {
        // What happened to the later assessments is moot: the confirming one only confirmed,
        // and is not an unconfirmed response.
        let last = cats[end].0;
        out.notes.retain(
            |n| !matches!(n, Note::NotConfirmed { t, .. } | Note::Relabeled { t, .. } if *t > last),
        );
        if end + 1 < cats.len() {
            out.notes.push(Note::Stopped { t: cats[end].0 });
        }
        cats.truncate(end + 1);
    }

    for (rule, min) in b.requires.iter().zip(&set.requires) {
        let Some(min) = *min else { continue };
        let anchor = match rule.anchor {
            Anchor::Start => ev.subj.start,
            Anchor::Baseline => ev.subj.assessments[0].date,
        };
        for entry in cats.iter_mut() {
            if !rule.cats.contains(&entry.1) {
                continue;
            }
            let days = (ev.subj.assessments[entry.0].date - anchor).whole_days();
            if Decimal::from(days) * MINUTES_PER_DAY < min {
                out.notes.push(Note::TooEarly {
                    t: entry.0,
                    from: entry.1,
                    to: rule.fallback,
                    days,
                    min_days: min / MINUTES_PER_DAY,
                    line: rule.line,
                });
                entry.1 = rule.fallback;
            }
        }
    }

    out.notes.sort_by_key(|n| match n {
        Note::Stopped { t }
        | Note::Relabeled { t, .. }
        | Note::Confirmed { t, .. }
        | Note::NotConfirmed { t, .. }
        | Note::TooEarly { t, .. } => *t,
    });
    let rank = |c: CatId| b.rank.iter().position(|&r| r == c).unwrap_or(usize::MAX);
    let best = cats.iter().min_by_key(|(t, c)| (rank(*c), *t));
    out.category = best.map(|(_, c)| *c).or(ne);
    out.at = best.map(|(t, _)| *t);
    out
}
