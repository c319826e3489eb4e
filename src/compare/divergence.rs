//! Why two criteria disagree about a subject: the first assessment where their timepoint
//! responses differ (by class) and, there, the decisive difference — the rule or table row each
//! applied and the first test whose outcome differs, with both sides' values and the params
//! they read. A test only one criterion has (an added rule, such as a dissociated response) is
//! shown with its values. When every timepoint agrees but the best responses differ, the first
//! step of the best response that differs (a stop, a confirmation, a minimum interval).

use std::collections::HashMap;

use time::Date;

use super::model::Outcome;
use crate::check::ir::{Body, DefId};
use crate::data::model::format_date;
use crate::eval::best::Note;
use crate::eval::engine::Evaluation;
use crate::explain::text;
use crate::explain::trace::{self, Key, Step, Texts};

/// At most this many one-sided tests are named.
const ONE_SIDED: usize = 3;

/// Where and why criteria `a` and `b` (indices into the report's criteria) part.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    pub a: usize,
    pub b: usize,
    /// The assessment where the timepoint responses first differ; `None` when only the best
    /// responses differ.
    pub at: Option<(String, Date)>,
    /// Each side's response there (or best response).
    pub responses: [String; 2],
    /// The rule or table row each applied there (or `best response`).
    pub rules: [String; 2],
    /// The decisive test as written, with where it is written: `target PD: sum - nadir(sum) >=
    /// nadir(sum) * pd_increase`; for the best response, the step.
    pub condition: Option<String>,
    /// Each side's outcome of that test with its values (`yes: 11.0 mm >= 11.0 mm (pd_increase
    /// = 20 %)`); `None` for a side without such a test.
    pub values: [Option<String>; 2],
    /// What the test reads on each side (lesions, sums), one line each.
    pub reads: [Vec<String>; 2],
    /// Tests only one side has (an added rule), when no shared test differs.
    pub only: [Vec<String>; 2],
}

impl Divergence {
    /// Whether the best-response classes of the two criteria differ for this subject (not only
    /// timepoints).
    pub fn reclassified(&self, s: &super::model::SubjectRow) -> bool {
        match (s.outcome(self.a), s.outcome(self.b)) {
            (Some(x), Some(y)) => x.best_class != y.best_class,
            _ => false,
        }
    }

    /// One line, criteria named by their letters: `WEEK 12 2024-05-27: PD [table overall row 7
    /// (Table 1)] vs SD [table overall row 5 (Table 1)]; target PD: sum - … : yes, 11.0 mm >=
    /// 11.0 mm (pd_increase = 20 %) vs no, 11.0 mm >= 13.75 mm (pd_increase = 25 %)`.
    pub fn line(&self, names: [&str; 2]) -> String {
        let [na, nb] = names;
        let Some((visit, date)) = &self.at else {
            // Only the best responses differ: the step each takes there.
            let mut s = format!(
                "best response: {na} {} vs {nb} {}",
                self.responses[0], self.responses[1]
            );
            for (name, v) in [na, nb].iter().zip(&self.values) {
                if let Some(v) = v {
                    s.push_str(&format!("; {name}: {v}"));
                }
            }
            return s;
        };
        let when = format!("{visit} {}", format_date(*date));
        let mut s = format!(
            "{when}: {na} {} [{}] vs {nb} {} [{}]",
            self.responses[0], self.rules[0], self.responses[1], self.rules[1]
        );
        if let Some(c) = &self.condition {
            let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "no such test".into());
            s.push_str(&format!(
                "; {c}: {na} {} vs {nb} {}",
                side(&self.values[0]),
                side(&self.values[1])
            ));
        }
        for (name, only) in [na, nb].iter().zip(&self.only) {
            if !only.is_empty() {
                s.push_str(&format!("; only {name}: {}", only.join("; ")));
            }
        }
        s
    }
}

/// The divergence of two evaluations of one subject, if their timepoint or best-response
/// classes differ.
pub fn find(
    (a, b): (usize, usize),
    (ea, eb): (&Evaluation, &Evaluation),
    (oa, ob): (&Outcome, &Outcome),
    texts: (&Texts, &Texts),
) -> Option<Divergence> {
    let first = oa.timepoints.iter().find_map(|x| {
        let y = ob.timepoints.iter().find(|y| y.date == x.date)?;
        (x.class != y.class).then_some(x.date)
    });
    match first {
        Some(date) => {
            let ta = index(ea, date)?;
            let tb = index(eb, date)?;
            Some(at_timepoint((a, b), (ea, eb), (ta, tb), texts))
        }
        None if oa.best_class != ob.best_class => Some(in_best((a, b), (ea, eb))),
        None => None,
    }
}

fn index(ev: &Evaluation, date: Date) -> Option<usize> {
    ev.subj.assessments.iter().position(|x| x.date == date)
}

fn category(ev: &Evaluation, t: usize, d: DefId) -> String {
    let rs = ev.rs();
    ev.category(t, d)
        .map(|c| rs.cat_name(c).to_string())
        .unwrap_or_else(|| "none".into())
}

/// The rule or row that decided `d` at `t`, briefly: `table overall row 7 (Table 1)`,
/// `rule 1 (DR)`, `undecided at rule 3 (PD)`.
fn rule(ev: &Evaluation, t: usize, d: DefId) -> String {
    let rs = ev.rs();
    let def = &rs.defs[d];
    let f = ev.fired(t, d);
    match (&def.body, f.rule()) {
        (Body::Table(tab), Some(i)) => {
            let label = tab.rows[i]
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("table {} row {}{label}", def.name, i + 1)
        }
        (Body::Rules(rules), Some(i)) => {
            let head = text::head_text(rs, d, &rules[i]);
            let how = if f.undecided {
                "undecided at rule"
            } else {
                "rule"
            };
            format!("{how} {} ({head})", i + 1)
        }
        _ => def.name.clone(),
    }
}

/// A step's verdict with its values (`ev` is the evaluation traced).
fn shown(ev: &Evaluation, s: &Step) -> String {
    let values = s.values(ev);
    if values.is_empty() || values == s.verdict {
        s.verdict.to_string()
    } else if values.starts_with('(') {
        format!("{} {values}", s.verdict)
    } else {
        format!("{}, {values}", s.verdict)
    }
}

fn place(s: &Step) -> String {
    if s.rule.starts_with("table ") || s.rule == s.def {
        format!("{}: {}", s.def, s.text)
    } else {
        format!("{} {}: {}", s.def, s.rule, s.text)
    }
}

/// A one-sided test with what it reads (each read named once per side): `responding_targets >=
/// dr_min_responding: yes, 1 >= 1 (responding_targets = 1: T01 change -40.0 % (40.0 → 24.0
/// mm))`.
fn one_sided(ev: &Evaluation, s: &Step, seen: &mut Vec<String>) -> String {
    let reads: Vec<String> = s
        .reads(ev)
        .iter()
        .filter(|r| r.contains(':') || r.contains('('))
        .filter(|r| !seen.contains(r))
        .take(2)
        .cloned()
        .collect();
    seen.extend(reads.iter().cloned());
    if reads.is_empty() {
        format!("{}: {}", place(s), shown(ev, s))
    } else {
        format!("{}: {} ({})", place(s), shown(ev, s), reads.join("; "))
    }
}

fn at_timepoint(
    (a, b): (usize, usize),
    (ea, eb): (&Evaluation, &Evaluation),
    (ta, tb): (usize, usize),
    (xa, xb): (&Texts, &Texts),
) -> Divergence {
    let (oa, ob) = (ea.rs().overall, eb.rs().overall);
    let sa = trace::trace(ea, ta, oa, xa);
    let sb = trace::trace(eb, tb, ob, xb);
    fn by_key<'k>(steps: &'k [Step]) -> HashMap<Key<'k>, usize> {
        let mut m = HashMap::with_capacity(steps.len());
        m.extend(steps.iter().enumerate().map(|(i, s)| (s.key(), i)));
        m
    }
    let (ka, kb) = (by_key(&sa), by_key(&sb));
    let x = &ea.subj.assessments[ta];
    let mut d = Divergence {
        a,
        b,
        at: Some((x.visit.clone(), x.date)),
        responses: [category(ea, ta, oa), category(eb, tb, ob)],
        rules: [rule(ea, ta, oa), rule(eb, tb, ob)],
        condition: None,
        values: [None, None],
        reads: [vec![], vec![]],
        only: [vec![], vec![]],
    };
    // The first shared test whose outcome differs, in the order the first criterion reads.
    let shared = sa.iter().filter(|s| s.leaf).find_map(|x| {
        let y = &sb[*kb.get(&x.key())?];
        (x.verdict != y.verdict).then_some((x, y))
    });
    if let Some((x, y)) = shared {
        d.condition = Some(place(x));
        d.values = [Some(shown(ea, x)), Some(shown(eb, y))];
        d.reads = [x.reads(ea), y.reads(eb)];
        return d;
    }
    // Otherwise what applied on one side has no counterpart on the other: a rule one criterion
    // adds. The overriding side's added tests are the reason; without an override, both sides'.
    let (mut seen_a, mut seen_b) = (vec![], vec![]);
    let only =
        |ev: &Evaluation, mine: &[Step], theirs: &HashMap<Key, usize>, seen: &mut Vec<String>| {
            mine.iter()
                .filter(|s| s.leaf && s.applied && s.supports && !theirs.contains_key(&s.key()))
                .take(ONE_SIDED)
                .map(|s| one_sided(ev, s, seen))
                .collect::<Vec<String>>()
        };
    let (only_a, only_b) = (
        only(ea, &sa, &kb, &mut seen_a),
        only(eb, &sb, &ka, &mut seen_b),
    );
    let overrides = |ev: &Evaluation, d: DefId| ev.rs().defs[d].overrides.is_some();
    let [mut only_a, mut only_b] = match (overrides(ea, oa), overrides(eb, ob)) {
        (true, false) if !only_a.is_empty() => [only_a, vec![]],
        (false, true) if !only_b.is_empty() => [vec![], only_b],
        _ => [only_a, only_b],
    };
    // Why the other side did not reach the same category: its rule for it, where it has one.
    let head = |ev: &Evaluation, t: usize, d: DefId| match (
        &ev.rs().defs[d].body,
        ev.fired(t, d).rule(),
    ) {
        (Body::Rules(rules), Some(i)) => Some(text::head_text(ev.rs(), d, &rules[i])),
        _ => None,
    };
    let missed = |ev: &Evaluation,
                  steps: &[Step],
                  def: &str,
                  head: Option<String>,
                  seen: &mut Vec<String>| {
        let Some(head) = head else { return vec![] };
        steps
            .iter()
            .filter(|s| s.leaf && s.def == def && s.rule == head && !s.supports)
            .take(1)
            .map(|s| format!("not {}", one_sided(ev, s, seen)))
            .collect::<Vec<String>>()
    };
    let (name_a, name_b) = (&ea.rs().defs[oa].name, &eb.rs().defs[ob].name);
    let (shows_a, shows_b) = (!only_a.is_empty(), !only_b.is_empty());
    if shows_a {
        only_b.extend(missed(eb, &sb, name_b, head(ea, ta, oa), &mut seen_b));
    }
    if shows_b {
        only_a.extend(missed(ea, &sa, name_a, head(eb, tb, ob), &mut seen_a));
    }
    d.only = [only_a, only_b];
    d
}

/// A step of the best response, keyed by its assessment and kind so that two criteria's steps
/// can be matched.
fn steps(ev: &Evaluation) -> Vec<(usize, u8, String)> {
    ev.best
        .notes
        .iter()
        .filter_map(|n| {
            let (t, kind) = match n {
                Note::Stopped { t } => (*t, 0),
                Note::Relabeled { t, .. } => (*t, 1),
                Note::NotConfirmed { t, .. } => (*t, 2),
                Note::TooEarly { t, .. } => (*t, 3),
                // A confirmation that both have is no difference; one only a side has shows
                // as the other side's not-confirmed step.
                Note::Confirmed { .. } => return None,
            };
            Some((t, kind, text::note(ev, n)))
        })
        .collect()
}

/// What a criterion without a given step does with that timepoint.
fn without(ev: &Evaluation, t: usize, kind: u8) -> String {
    let rs = ev.rs();
    let cat = category(ev, t, rs.overall);
    let at = text::at(ev, t);
    match kind {
        0 => {
            let stops: Vec<&str> = rs.best.stop_after.iter().map(|&c| rs.cat_name(c)).collect();
            if stops.is_empty() {
                format!("{cat} at {at} does not stop the count")
            } else {
                format!(
                    "{cat} at {at} does not stop the count (stop after first {})",
                    stops.join(", ")
                )
            }
        }
        _ => format!("{cat} at {at} counts as it is"),
    }
}

fn in_best((a, b): (usize, usize), (ea, eb): (&Evaluation, &Evaluation)) -> Divergence {
    let best = |ev: &Evaluation| {
        let rs = ev.rs();
        ev.best
            .category
            .map(|c| rs.cat_name(c).to_string())
            .unwrap_or_else(|| "none".into())
    };
    let place = |ev: &Evaluation| {
        let rs = ev.rs();
        format!(
            "best response · {}:{}",
            rs.source_name(rs.best.src),
            rs.best.line
        )
    };
    let mut d = Divergence {
        a,
        b,
        at: None,
        responses: [best(ea), best(eb)],
        rules: [place(ea), place(eb)],
        condition: None,
        values: [None, None],
        reads: [vec![], vec![]],
        only: [vec![], vec![]],
    };
    let (na, nb) = (steps(ea), steps(eb));
    // The earliest step that only one side takes.
    let mut candidates: Vec<(Date, usize, usize, u8, &str)> = vec![];
    for (side, (mine, theirs, em, et)) in [(&na, &nb, ea, eb), (&nb, &na, eb, ea)]
        .into_iter()
        .enumerate()
    {
        for (t, kind, text) in mine.iter() {
            let date = em.subj.assessments[*t].date;
            let matched = theirs
                .iter()
                .any(|(u, k, _)| k == kind && et.subj.assessments[*u].date == date);
            if !matched {
                candidates.push((date, side, *t, *kind, text));
            }
        }
    }
    candidates.sort_by_key(|c| (c.0, c.1));
    if let Some(&(date, side, _, kind, text)) = candidates.first() {
        let theirs = if side == 0 { eb } else { ea };
        let other = theirs
            .subj
            .assessments
            .iter()
            .position(|x| x.date == date)
            .map(|u| without(theirs, u, kind))
            .unwrap_or_else(|| "no such step".into());
        d.condition = Some(format!("best response at {}", format_date(date)));
        d.values[side] = Some(text.to_string());
        d.values[1 - side] = Some(other);
    }
    d
}
