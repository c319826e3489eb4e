//! Time-to-event outcomes of one subject: when a ruleset's events (progression, …) happen, or
//! where the subject is censored.
//!
//! Which assessment starts an event is the ruleset's business (its `event` declarations); what
//! happens around it is the usual PFS convention of the FDA guidance *Clinical Trial Endpoints
//! for the Approval of Cancer Drugs and Biologics* (2018), the same for every ruleset:
//! - no event: censored at the last adequate assessment (a post-baseline assessment whose
//!   response is not the not-evaluable category); without one, at the start (day 1);
//! - an event (or a death) after `max_missed` or more missed assessments: censored at the last
//!   adequate assessment before the gap;
//! - a death, when given, is an event unless it comes after such a gap.
//!
//! `day` counts from the treatment start, day 1 = start (ADaM: ADT − STARTDT + 1).

use rust_decimal::prelude::ToPrimitive;
use time::Date;

use super::best::{self, Note};
use super::engine::Evaluation;
use crate::check::ir::{CatId, EventThen, Guard, ParamValue};
use crate::units::MINUTES_PER_DAY;

/// Param read for the number of missed assessments that censors an event (default 2).
pub const MAX_MISSED_PARAM: &str = "max_missed";
/// Param read for the expected interval between assessments (default: the subject's median).
pub const INTERVAL_PARAM: &str = "assessment_interval";
/// Default of [`MAX_MISSED_PARAM`]: "two or more missed assessments" (FDA 2018).
pub const DEFAULT_MAX_MISSED: u32 = 2;

/// One event of one subject: its date, or the censoring date.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOutcome {
    /// The event's name as the ruleset declares it (`progression`, …); `death` for a death.
    pub name: String,
    /// The assessment the date comes from (index into the subject's assessments); `None` when
    /// the date is the start or a death.
    pub assessment: Option<usize>,
    pub date: Date,
    pub visit: Option<String>,
    /// Days from the start, the start being day 1.
    pub day: i64,
    pub censored: bool,
    /// Why: which assessment started the event, or why the subject is censored where it is.
    pub reason: String,
}

/// Where a ruleset's event lines put the event, before censoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidate {
    /// The assessment that starts the event, with the text saying why.
    pub at: Option<(usize, String)>,
    /// Something that would have been an event under another param value (e.g. an unconfirmed
    /// progression still pending at the last assessment): said when the subject is censored.
    pub note: Option<String>,
}

/// The censoring schedule: how many missed assessments censor an event, and the expected
/// interval between assessments in days (`None`: the subject's median interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub max_missed: u32,
    pub interval_days: Option<f64>,
}

impl Schedule {
    /// From the ruleset's params [`MAX_MISSED_PARAM`] and [`INTERVAL_PARAM`], when declared.
    pub fn of(ev: &Evaluation) -> Schedule {
        let rs = ev.rs();
        // The engine's values carry `--set` overrides.
        let num = |name: &str| match rs.param_id(name).map(|p| &ev.eng.params()[p]) {
            Some(ParamValue::Num(d)) => Some(*d),
            _ => None,
        };
        Schedule {
            max_missed: num(MAX_MISSED_PARAM)
                .and_then(|d| d.to_u32())
                .unwrap_or(DEFAULT_MAX_MISSED),
            interval_days: num(INTERVAL_PARAM)
                .filter(|d| d.is_sign_positive() && !d.is_zero())
                .and_then(|d| (d / MINUTES_PER_DAY).to_f64()),
        }
    }
}

/// The subject's timeline as censoring sees it.
struct Timeline<'a> {
    ev: &'a Evaluation<'a>,
    start: Date,
    /// Post-baseline assessments whose response is not the not-evaluable category.
    adequate: Vec<usize>,
    interval: Option<f64>,
    max_missed: u32,
}

impl<'a> Timeline<'a> {
    fn new(ev: &'a Evaluation<'a>, schedule: Schedule) -> Timeline<'a> {
        let rs = ev.rs();
        let n = ev.subj.assessments.len();
        let adequate = (1..n)
            .filter(|t| match ev.category(*t, rs.overall) {
                Some(c) => Some(c) != rs.not_evaluable,
                None => false,
            })
            .collect();
        let interval = schedule.interval_days.or_else(|| {
            let mut gaps: Vec<i64> = (1..n).map(|t| ev.days_between(t - 1, t)).collect();
            gaps.sort_unstable();
            match gaps.len() {
                0 => None,
                k if k % 2 == 1 => Some(gaps[k / 2] as f64),
                k => Some((gaps[k / 2 - 1] + gaps[k / 2]) as f64 / 2.0),
            }
        });
        Timeline {
            ev,
            start: ev.subj.start,
            adequate,
            interval,
            max_missed: schedule.max_missed,
        }
    }

    fn day(&self, d: Date) -> i64 {
        (d - self.start).whole_days() + 1
    }

    fn label(&self, t: usize) -> String {
        let a = &self.ev.subj.assessments[t];
        format!("{} {}", a.visit, a.date)
    }

    /// Last adequate assessment strictly before `date`.
    fn last_adequate_before(&self, date: Date) -> Option<usize> {
        self.adequate
            .iter()
            .rev()
            .copied()
            .find(|t| self.ev.subj.assessments[*t].date < date)
    }

    /// Assessments missed between the last adequate assessment before `date` (or the baseline)
    /// and `date`: the whole intervals in the gap, less the one that ends at `date`.
    fn missed_before(&self, date: Date) -> (Option<usize>, u32) {
        let last = self.last_adequate_before(date);
        let from = match last {
            Some(t) => self.ev.subj.assessments[t].date,
            None => self.ev.subj.assessments[0].date,
        };
        let missed = match self.interval {
            Some(i) if i > 0.0 => {
                let gap = (date - from).whole_days() as f64;
                ((gap / i).round() as i64 - 1).max(0) as u32
            }
            _ => 0,
        };
        (last, missed)
    }

    fn censored_at(&self, name: &str, t: Option<usize>, reason: String) -> EventOutcome {
        match t {
            Some(t) => {
                let a = &self.ev.subj.assessments[t];
                EventOutcome {
                    name: name.to_string(),
                    assessment: Some(t),
                    date: a.date,
                    visit: Some(a.visit.clone()),
                    day: self.day(a.date),
                    censored: true,
                    reason,
                }
            }
            None => EventOutcome {
                name: name.to_string(),
                assessment: None,
                date: self.start,
                visit: None,
                day: 1,
                censored: true,
                reason,
            },
        }
    }

    /// The outcome for an event starting on `date` (an assessment, or a death when `t` is
    /// `None`), censored when it follows too many missed assessments.
    fn event_or_gap(&self, name: &str, t: Option<usize>, date: Date, why: String) -> EventOutcome {
        let (last, missed) = self.missed_before(date);
        if self.max_missed > 0 && missed >= self.max_missed {
            let at = match last {
                Some(l) => format!(
                    "the last adequate assessment before the gap, {}",
                    self.label(l)
                ),
                None => "the start (no adequate assessment before the gap)".to_string(),
            };
            return self.censored_at(
                name,
                last,
                format!(
                    "{why}, after {missed} missed assessment(s) ({} = {}, expected every {} days): censored at {at}",
                    MAX_MISSED_PARAM,
                    self.max_missed,
                    self.interval.map(|i| format!("{i}")).unwrap_or_default()
                ),
            );
        }
        EventOutcome {
            name: name.to_string(),
            assessment: t,
            date,
            visit: t.map(|t| self.ev.subj.assessments[t].visit.clone()),
            day: self.day(date),
            censored: false,
            reason: why,
        }
    }

    fn no_event(&self, name: &str, note: Option<String>) -> EventOutcome {
        let last = self.adequate.last().copied();
        let mut reason = match last {
            Some(t) => format!(
                "no {name}: censored at the last adequate assessment, {}",
                self.label(t)
            ),
            None => format!(
                "no {name} and no adequate post-baseline assessment: censored at the start (day 1)"
            ),
        };
        if let Some(n) = note {
            reason.push_str("; ");
            reason.push_str(&n);
        }
        self.censored_at(name, last, reason)
    }
}

/// Applies the censoring rules to an event candidate (and a death date, when known).
pub fn resolve(
    ev: &Evaluation,
    name: &str,
    candidate: Candidate,
    death: Option<Date>,
    schedule: Schedule,
) -> EventOutcome {
    let tl = Timeline::new(ev, schedule);
    let at = candidate
        .at
        .map(|(t, why)| (t, ev.subj.assessments[t].date, why));
    match (at, death) {
        (Some((_, date, _)), Some(d)) if d < date => {
            tl.event_or_gap(name, None, d, format!("death on {d} before any {name}"))
        }
        (Some((t, date, why)), _) => tl.event_or_gap(name, Some(t), date, why),
        (None, Some(d)) => tl.event_or_gap(name, None, d, format!("death on {d}")),
        (None, None) => tl.no_event(name, candidate.note),
    }
}

/// The name of the event that PFS is built on.
pub const PROGRESSION: &str = "progression";

/// Where the ruleset's declaration of `name` puts the event: the earliest assessment that an
/// active line finds. `None` when the ruleset declares no such event.
fn candidate(ev: &Evaluation, name: &str) -> Option<Candidate> {
    let rs = ev.rs();
    let decl = rs.events.iter().find(|e| e.name == name)?;
    let n = ev.subj.assessments.len();
    let cats: Vec<Option<CatId>> = (0..n)
        .map(|t| {
            if t == 0 {
                None
            } else {
                ev.category(t, rs.overall)
            }
        })
        .collect();
    let at = |t: usize| {
        let a = &ev.subj.assessments[t];
        format!("{} {}", a.visit, a.date)
    };
    let file = rs.source_name(decl.src);
    let mut best: Option<(usize, String)> = None;
    let mut note = None;
    for line in &decl.lines {
        let inside = |c: Option<CatId>| c.is_some_and(|c| line.cats.contains(&c));
        // Leaving the run: a later assessment with a category outside the line's, not NE.
        let leaves = |c: Option<CatId>| c.is_some() && !inside(c) && c != rs.not_evaluable;
        let found = (1..n).filter(|t| inside(cats[*t])).find_map(|t| {
            let name = rs.cat_name(cats[t]?);
            let seen = if line.confirmed {
                let by = confirmed_by(ev, t)?;
                format!(
                    "{name} at {}, confirmed by {} at {}",
                    at(t),
                    cats[by].map_or("?", |c| rs.cat_name(c)),
                    at(by)
                )
            } else {
                format!("{name} at {}", at(t))
            };
            match &line.then {
                EventThen::Now => Some((t, seen)),
                EventThen::FollowedBy(by) => {
                    let next = (t + 1..n).find(|u| leaves(cats[*u]))?;
                    let c = cats[next]?;
                    by.contains(&c).then(|| {
                        (
                            t,
                            format!("{seen}, confirmed by {} at {}", rs.cat_name(c), at(next)),
                        )
                    })
                }
                EventThen::PendingAtEnd => (!(t + 1..n).any(|u| leaves(cats[u]))).then(|| {
                    (
                        t,
                        format!("{seen}, still unconfirmed at the last assessment"),
                    )
                }),
                EventThen::UnlessNext(by) => {
                    let next =
                        (t + 1..n).find(|u| cats[*u].is_some() && cats[*u] != rs.not_evaluable);
                    match next.and_then(|u| Some((u, cats[u]?))) {
                        Some((_, c)) if by.contains(&c) => None,
                        Some((u, c)) => Some((
                            t,
                            format!(
                                "{seen}, not negated by the next assessment ({} at {})",
                                rs.cat_name(c),
                                at(u)
                            ),
                        )),
                        None => Some((t, format!("{seen}, the last evaluable assessment"))),
                    }
                }
            }
        });
        let Some((t, why)) = found else { continue };
        let why = format!("{why} [{file}:{}]", line.line);
        if !best::active(ev, &line.guard) {
            // Say what would have been an event under the other param value.
            let cond = match &line.guard {
                Guard::When(e) | Guard::Unless(e) => rs
                    .source_text(decl.src)
                    .get(e.span.start..e.span.end)
                    .unwrap_or("")
                    .to_string(),
                Guard::Always => String::new(),
            };
            let value = if matches!(line.guard, Guard::Unless(_)) {
                "true"
            } else {
                "false"
            };
            note.get_or_insert(format!("{why}: not an event, as `{cond}` is {value}"));
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| t < *b) {
            best = Some((t, why));
        }
    }
    // A note about a later assessment than the event is moot.
    if best.is_some() {
        note = None;
    }
    Some(Candidate { at: best, note })
}

/// The assessment that confirmed assessment `t` under the best response's `confirm` lines.
fn confirmed_by(ev: &Evaluation, t: usize) -> Option<usize> {
    ev.best.notes.iter().find_map(|n| match n {
        Note::Confirmed { t: c, by, .. } if *c == t => Some(*by),
        _ => None,
    })
}

/// Names of the events a ruleset declares, in declaration order.
pub fn declared(ev: &Evaluation) -> Vec<String> {
    ev.rs().events.iter().map(|e| e.name.clone()).collect()
}

/// Every event the ruleset declares for this subject, progression first, with the death date
/// when known (a death is then a progression event, unless it follows a gap).
pub fn events(ev: &Evaluation, death: Option<Date>) -> Vec<EventOutcome> {
    let schedule = Schedule::of(ev);
    declared(ev)
        .iter()
        .filter_map(|name| {
            let c = candidate(ev, name)?;
            let d = if name == PROGRESSION { death } else { None };
            Some(resolve(ev, name, c, d, schedule))
        })
        .collect()
}

/// The subject's progression event (or censoring) under the ruleset, without deaths: the date
/// PFS, `crit eval --format summary` and "up to and including progression" use. `None` when the
/// ruleset declares no progression event.
pub fn progression(ev: &Evaluation) -> Option<EventOutcome> {
    let c = candidate(ev, PROGRESSION)?;
    Some(resolve(ev, PROGRESSION, c, None, Schedule::of(ev)))
}
