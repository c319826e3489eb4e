//! RECIST 1.1 written by hand in Rust, over crit's bound subjects: the reference for the
//! interpreter's overhead (`bench/run.sh`, ratio 3). Defaults of `criteria/recist-1.1.crit`
//! (no confirmation, SD at least 42 days after the start, CR checked before PD, new lymph
//! nodes under 10 mm not new lesions); a value that is not recorded makes what needs it not
//! evaluable, as a plain program would, where the interpreter reasons with bounds.

use crit::check::ir::{Role, Status};
use crit::data::model::Subject;
use rust_decimal::Decimal;

/// Categories in the order of the best-response ranking (best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cat {
    Cr,
    Pr,
    Sd,
    NonCrNonPd,
    Pd,
    Ne,
    Na,
}

impl Cat {
    pub fn name(self) -> &'static str {
        match self {
            Cat::Cr => "CR",
            Cat::Pr => "PR",
            Cat::Sd => "SD",
            Cat::NonCrNonPd => "non-CR/non-PD",
            Cat::Pd => "PD",
            Cat::Ne => "NE",
            Cat::Na => "NA",
        }
    }
}

/// Where the two measurements are among the subject's lesion-level values.
pub struct Columns {
    pub long_axis: usize,
    pub short_axis: Option<usize>,
}

fn size(s: &Subject, c: &Columns, t: usize, slot: usize) -> Option<Decimal> {
    let a = &s.assessments[t];
    let sl = &a.slots[slot];
    let value = |pos: usize| a.values[slot * s.width + pos];
    match sl.status {
        Status::Absent => Some(Decimal::ZERO),
        Status::TooSmall => Some(Decimal::from(5)),
        _ if s.lesions[sl.lesion].nodal => c.short_axis.and_then(value),
        _ => value(c.long_axis),
    }
}

fn target_sum(s: &Subject, c: &Columns, t: usize) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    for (i, sl) in s.assessments[t].slots.iter().enumerate() {
        if s.lesions[sl.lesion].role == Role::Target {
            sum += size(s, c, t, i)?;
        }
    }
    Some(sum)
}

/// Overall timepoint responses (follow-up assessments) and the best overall response.
pub fn recist(s: &Subject, c: &Columns) -> (Vec<Cat>, Cat) {
    let ten = Decimal::from(10);
    let n = s.assessments.len();
    let sums: Vec<Option<Decimal>> = (0..n).map(|t| target_sum(s, c, t)).collect();
    let has = |role: Role| s.lesions.iter().any(|l| l.role == role);
    let (targets, non_targets) = (has(Role::Target), has(Role::NonTarget));
    let mut overall = Vec::with_capacity(n.saturating_sub(1));
    for t in 1..n {
        let a = &s.assessments[t];
        let target = if !targets {
            Cat::Na
        } else {
            let mut normal = Some(true);
            for (i, sl) in a.slots.iter().enumerate() {
                let l = &s.lesions[sl.lesion];
                if l.role != Role::Target {
                    continue;
                }
                let n = size(s, c, t, i).map(|v| if l.nodal { v < ten } else { v.is_zero() });
                normal = match (normal, n) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
            }
            let nadir = sums[..t].iter().flatten().min().copied();
            match (normal, sums[t], nadir, sums[0]) {
                (None, ..) => Cat::Ne,
                (Some(true), ..) => Cat::Cr,
                (_, None, ..) => Cat::Ne,
                (_, Some(sum), Some(nadir), _)
                    if sum - nadir >= nadir * Decimal::new(2, 1)
                        && sum - nadir >= Decimal::from(5) =>
                {
                    Cat::Pd
                }
                (_, Some(sum), _, Some(base)) if sum <= base * Decimal::new(7, 1) => Cat::Pr,
                _ => Cat::Sd,
            }
        };
        let non_target = if !non_targets {
            Cat::Na
        } else {
            let nt = || {
                a.slots
                    .iter()
                    .enumerate()
                    .filter(|(_, sl)| s.lesions[sl.lesion].role == Role::NonTarget)
            };
            if nt().any(|(_, sl)| sl.status == Status::UnequivocalProgression) {
                Cat::Pd
            } else if nt().any(|(_, sl)| sl.status == Status::NotEvaluated) {
                Cat::Ne
            } else if nt().all(|(i, sl)| {
                sl.status == Status::Absent
                    || (s.lesions[sl.lesion].nodal && size(s, c, t, i).is_some_and(|v| v < ten))
            }) {
                Cat::Cr
            } else {
                Cat::NonCrNonPd
            }
        };
        let new = a.slots.iter().enumerate().any(|(i, sl)| {
            let l = &s.lesions[sl.lesion];
            let present = matches!(
                sl.status,
                Status::Present
                    | Status::TooSmall
                    | Status::Increased
                    | Status::UnequivocalProgression
            );
            let small_node = l.nodal && size(s, c, t, i).is_some_and(|v| v < ten);
            l.role == Role::New && present && !small_node
        });
        overall.push(match (target, non_target, new) {
            (Cat::Pd, _, _) | (_, Cat::Pd, _) | (_, _, true) => Cat::Pd,
            (Cat::Cr, Cat::Cr | Cat::Na, _) => Cat::Cr,
            (Cat::Cr, _, _) => Cat::Pr,
            (Cat::Na, Cat::Na, _) => Cat::Ne,
            (Cat::Na, nt, _) => nt,
            (t, _, _) => t,
        });
    }
    // Best response: up to the first PD; SD and non-CR/non-PD count from day 42 after the start.
    let mut best = Cat::Ne;
    for (k, &cat) in overall.iter().enumerate() {
        let days = (s.assessments[k + 1].date - s.start).whole_days();
        let counted = match cat {
            Cat::Sd | Cat::NonCrNonPd if days < 42 => Cat::Ne,
            other => other,
        };
        best = best.min(counted);
        if cat == Cat::Pd {
            break;
        }
    }
    (overall, best)
}
