//! The evaluator: one subject at a time, assessment by assessment, every definition in the
//! checker's order. Values of every assessment are kept, so temporal references (baseline,
//! nadir, previous, runs) read them directly, and explanations can be rebuilt afterwards.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::{Arc, OnceLock};

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::best::{self, BestOutcome};
use super::value::{cat_bits, dcmp, Iv, Text, Tri, Val};
use crate::check::ir::{
    self, AggFn, BinOp, Body, CatId, CmpOp, DefId, DefLevel, ExprKind as K, InputLevel, Lit,
    ParamValue, Ref, Ruleset, Ty,
};
use crate::data::model::{same_text, Subject};
use crate::units::MINUTES_PER_DAY;

mod compile;

/// Where an expression is evaluated: for the whole assessment, for one lesion, or for one organ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Assessment,
    Lesion(usize),
    Organ(usize),
}

impl From<Option<usize>> for Scope {
    /// `None` is the assessment, `Some(l)` lesion `l`.
    fn from(l: Option<usize>) -> Scope {
        l.map(Scope::Lesion).unwrap_or(Scope::Assessment)
    }
}

impl Scope {
    fn outside_organ(self) -> bool {
        !matches!(self, Scope::Organ(_))
    }

    fn lesion(self) -> Option<usize> {
        match self {
            Scope::Lesion(l) => Some(l),
            _ => None,
        }
    }
}

/// Which rule or row decided a definition; `undecided` when its condition was unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub index: u32,
    pub undecided: bool,
}

impl Fired {
    pub const NONE: Fired = Fired {
        index: u32::MAX,
        undecided: false,
    };
    pub fn rule(&self) -> Option<usize> {
        (self.index != u32::MAX).then_some(self.index as usize)
    }
}

/// Why an arithmetic result has no exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// A division by exactly zero: the result is no value.
    DivisionByZero,
    /// Exact operands whose result is beyond the decimal range: the result is unknown.
    OutOfRange,
}

/// Where an arithmetic result lost its value, noted while a definition is evaluated so that the
/// explanation can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub t: usize,
    pub def: DefId,
    pub scope: Scope,
    pub trouble: Trouble,
    /// The arithmetic expression, in the definition's source.
    pub span: ir::Span,
}

/// A ruleset ready to run: params (with command-line overrides) and input positions.
pub struct Engine<'r> {
    pub rs: &'r Ruleset,
    /// Param values (defaults, or as set): the compiled program has them folded in, so they
    /// change only through `set_param`.
    params: Vec<ParamValue>,
    /// Position of each input within its level's value list.
    input_pos: Vec<usize>,
    /// Position of each definition among the definitions of its level, so that values are kept
    /// only where a definition has them (a lesion-level one per lesion, ...).
    def_pos: Vec<usize>,
    /// Definitions per level: assessment, lesion, organ.
    per_level: [usize; 3],
    /// Each definition's level, kept beside its position (read at every reference).
    def_level: Vec<DefLevel>,
    /// Per decision table (by definition), each cell's categories as a bit mask (row by row):
    /// a row is matched with a few bit operations instead of a search of its lists.
    masks: Vec<Vec<Option<u64>>>,
    /// Per definition, whether it is a table with a mask in every cell of every row (and
    /// some column): with a category in each column, a row then matches when each column's
    /// bit is in its mask.
    all_masked: Vec<bool>,
    /// Per decision table with a mask in every cell, its first matching row (plus one; zero:
    /// none) for every combination of one category per column, where there are at most
    /// `DENSE_MAX` (`dense_rows`): a row is then found by one index.
    dense: Vec<Option<Vec<u16>>>,
    /// Per decision table whose columns are all assessment-level definitions, those.
    table_defs: Vec<Option<Vec<DefId>>>,
    /// The definitions evaluated at every assessment, in the checker's order: those of the
    /// assessment and organ levels (lesion-level ones are evaluated where read, and so are
    /// the assessment-level ones below).
    steps: Vec<DefId>,
    /// Per assessment-level definition whose nadir from the baseline a definition reads
    /// (`nadir(sum)`), its place among those (`Scratch::base_nadir`); and how many there are.
    nadir_pos: Vec<Option<usize>>,
    nadirs: usize,
    /// Per definition, whether it is an assessment-level value (not a response) that notes
    /// nothing (`compile::notes_nothing`): it is evaluated where first read, so that one that
    /// nothing reads with these params (RECIST 1.1's `pr_confirmed` without `sticky_response`)
    /// costs nothing. Its value is the same whenever it is worked out, as it reads only
    /// values of its assessment and earlier ones, which are known by then.
    lazy: Vec<bool>,
    any_lazy: bool,
    /// Per named group, whether it is `lesions where C` with a condition on what does not
    /// change between assessments (role, nodal, organ, id, params): C is then worked out once
    /// per lesion, not at every assessment.
    fixed: Vec<bool>,
    /// Per group of fixed members whose condition reads only a lesion's nodal flag and role
    /// (and params), its value for each of those (`compile::nodal_role_index`).
    fixed_keys: Vec<Option<[Tri; compile::NODAL_ROLES]>>,
    /// Per group of fixed members whose condition is true or false for each nodal flag and
    /// role (`fixed_keys`), a bit per nodal flag and role it holds for: its members at each
    /// assessment are listed once per subject (`Scratch::listed`).
    listed: Vec<Option<u32>>,
    any_listed: bool,
    /// Every definition's body compiled (`compile.rs`); the tree walker defines their meaning
    /// and evaluates them instead when `walk` is set (tests compare the two).
    program: Vec<compile::Compiled<'r>>,
    walk: bool,
    /// The best-response lines' settings with these params, worked out at the first subject.
    settings: OnceLock<best::Settings>,
}

fn level_index(l: DefLevel) -> usize {
    match l {
        DefLevel::Assessment => 0,
        DefLevel::Lesion => 1,
        DefLevel::Organ => 2,
    }
}

/// `Scratch::key_of` where a lesion has no slot.
const NO_KEY: u8 = u8::MAX;
/// `Scratch::listed` for a group not listed at an assessment (no member list has every bit:
/// listed assessments have at most 64 slots, and a group of all 64 is listed the general
/// way too).
const NOT_LISTED: u64 = u64::MAX;
const _: () = assert!(compile::NODAL_ROLES * ir::Status::ALL.len() <= 64);
const _: () = assert!(compile::NODAL_ROLES <= 32);

/// Lesions of a group, with whether each surely belongs; most groups are a few lesions, kept
/// without an allocation.
pub type Members = SmallVec<[(usize, Tri); 16]>;

impl<'r> Engine<'r> {
    pub fn new(rs: &'r Ruleset) -> Self {
        let mut counts = [0usize; 3];
        let input_pos: Vec<usize> = rs
            .inputs
            .iter()
            .map(|i| {
                let k = match i.level {
                    InputLevel::Lesion => 0,
                    InputLevel::Scan => 1,
                    InputLevel::Subject => 2,
                };
                counts[k] += 1;
                counts[k] - 1
            })
            .collect();
        let mut per_level = [0usize; 3];
        let def_pos = rs
            .defs
            .iter()
            .map(|d| {
                let k = level_index(d.level);
                per_level[k] += 1;
                per_level[k] - 1
            })
            .collect();
        let masks: Vec<Vec<Option<u64>>> = per_table(rs, |tab| {
            tab.rows
                .iter()
                .flat_map(|r| r.cells.iter().map(cell_mask))
                .collect()
        });
        let params: Vec<ParamValue> = rs.params.iter().map(|p| p.value.clone()).collect();
        let mut nadir_pos = vec![None; rs.defs.len()];
        let mut nadirs = 0;
        for def in &rs.defs {
            crate::check::walk::for_each_expr(&def.body, &mut |e| {
                if let K::Nadir(x, Ref::Baseline) = &e.kind {
                    if let K::Def(x) = x.kind {
                        if rs.defs[x].level == DefLevel::Assessment && nadir_pos[x].is_none() {
                            nadir_pos[x] = Some(nadirs);
                            nadirs += 1;
                        }
                    }
                }
            });
        }
        let lazy: Vec<bool> = rs
            .defs
            .iter()
            .map(|d| {
                d.level == DefLevel::Assessment && d.ty != Ty::Cat && compile::notes_nothing(rs, d)
            })
            .collect();
        let program = compile::program(rs, &input_pos, &params);
        let fixed_keys = compile::fixed_keys(rs, &input_pos, &params);
        let listed = listed_of(&fixed_keys);
        Engine {
            rs,
            params,
            input_pos,
            def_pos,
            per_level,
            all_masked: masks
                .iter()
                .zip(&rs.defs)
                .map(|(m, d)| match &d.body {
                    // A cell in every column of every row (as the checker ensures), so that rows
                    // and masks align.
                    Body::Table(tab) => {
                        !tab.columns.is_empty()
                            && tab.rows.iter().all(|r| r.cells.len() == tab.columns.len())
                            && m.iter().all(Option::is_some)
                    }
                    _ => false,
                })
                .collect(),
            dense: masks
                .iter()
                .zip(&rs.defs)
                .map(|(m, d)| match &d.body {
                    Body::Table(tab) => dense_rows(tab, m, rs.categories.len()),
                    _ => None,
                })
                .collect(),
            table_defs: per_table(rs, |tab| {
                tab.columns
                    .iter()
                    .map(|c| match c.kind {
                        K::Def(x) if rs.defs[x].level == DefLevel::Assessment => Some(x),
                        _ => None,
                    })
                    .collect()
            }),
            masks,
            steps: rs
                .order
                .iter()
                .copied()
                .filter(|&d| rs.defs[d].level != DefLevel::Lesion && !lazy[d])
                .collect(),
            any_lazy: lazy.contains(&true),
            lazy,
            nadir_pos,
            nadirs,
            def_level: rs.defs.iter().map(|d| d.level).collect(),
            fixed: rs
                .groups
                .iter()
                .map(|g| fixed_where(&g.group).is_some())
                .collect(),
            program,
            any_listed: listed.iter().any(Option::is_some),
            listed,
            fixed_keys,
            walk: false,
            settings: OnceLock::new(),
        }
    }

    /// The value of each param.
    pub fn params(&self) -> &[ParamValue] {
        &self.params
    }

    /// Sets param `i`, compiling the definitions again with the new value.
    pub fn set_param(&mut self, i: usize, v: ParamValue) {
        self.params[i] = v;
        self.program = compile::program(self.rs, &self.input_pos, &self.params);
        self.fixed_keys = compile::fixed_keys(self.rs, &self.input_pos, &self.params);
        self.listed = listed_of(&self.fixed_keys);
        self.any_listed = self.listed.iter().any(Option::is_some);
        self.settings = OnceLock::new();
    }

    /// This engine evaluating every definition with the tree walker, which defines what the
    /// compiled definitions give: for tests that compare the two.
    pub fn tree_walking(mut self) -> Self {
        self.walk = true;
        self
    }

    pub fn evaluate<'a>(&'a self, subj: &'a Subject) -> Evaluation<'a> {
        let n = subj.assessments.len();
        let nles = subj.lesions.len();
        let [na, nl, no] = self.per_level;
        let mut s = Scratch::take();
        s.vals.resize(n * na, Val::None);
        s.next_generation();
        let need = n * nles * nl;
        if s.lvals.len() < need {
            s.lvals.resize(need, Cell::new(Val::None));
            s.lstate.resize(need, Cell::new(0));
        }
        s.slot_of.resize(n * nles, u32::MAX);
        s.key_of.resize(n * nles, NO_KEY);
        for (t, a) in subj.assessments.iter().enumerate() {
            // The slots of each nodal flag and role as bits, and the keys among them, for the
            // groups listed once per subject (each group's are the union of those it holds
            // for); an assessment of more than 64 slots is not listed (its groups are found
            // the general way).
            let listed = self.any_listed && a.slots.len() <= 64;
            let mut by_nr = [(0u64, 0u64); compile::NODAL_ROLES];
            for (i, sl) in a.slots.iter().enumerate() {
                let Some(les) = subj.lesions.get(sl.lesion) else {
                    continue;
                };
                let key = compile::key_index(compile::Key {
                    status: sl.status,
                    nodal: les.nodal,
                    role: les.role,
                });
                s.slot_of[t * nles + sl.lesion] = i as u32;
                s.key_of[t * nles + sl.lesion] = key as u8;
                if listed {
                    let nr = &mut by_nr[compile::nodal_role_index(les.nodal, les.role)];
                    *nr = (nr.0 | 1 << i, nr.1 | 1 << key);
                }
            }
            if self.any_listed {
                s.listed.extend(self.listed.iter().map(|nrs| match nrs {
                    Some(mut nrs) if listed => {
                        let mut m = (0, 0);
                        while nrs != 0 {
                            let (slots, keys) = by_nr[nrs.trailing_zeros() as usize];
                            m = (m.0 | slots, m.1 | keys);
                            nrs &= nrs - 1;
                        }
                        m
                    }
                    _ => (NOT_LISTED, 0),
                }));
            }
        }
        s.ovals.resize(n * subj.organs.len() * no, Val::None);
        s.base_nadir.resize(n * self.nadirs, Cell::new(None));
        s.fired.resize(n * na, Fired::NONE);
        if self.any_lazy {
            s.later.resize_with(n * na, OnceCell::new);
            s.later_busy.resize(n * na, Cell::new(false));
        }
        s.absent_read.resize(n, Cell::new(0));
        s.group_at.get_mut().resize(n * self.rs.groups.len(), None);
        s.fixed_in
            .resize(self.rs.groups.len() * nles, Cell::new(None));
        s.fixed_mask.resize(self.rs.groups.len(), Cell::new(None));
        let mut ev = Evaluation {
            eng: self,
            subj,
            s,
            best: BestOutcome::default(),
            evaluating: Cell::new(None),
            absent: subj
                .absent
                .iter()
                .filter(|&&i| i < 64)
                .fold(0, |m, &i| m | 1 << i),
        };
        for t in 0..n {
            for &d in &self.steps {
                let def = &self.rs.defs[d];
                ev.evaluating.set(Some((t, d)));
                match def.level {
                    DefLevel::Assessment => {
                        // Responses describe follow-up assessments only.
                        if t == 0 && def.ty == Ty::Cat {
                            continue;
                        }
                        let (v, f) = ev.body(t, Scope::Assessment, d);
                        let i = ev.at(t, d);
                        ev.s.vals[i] = v;
                        ev.s.fired[i] = f;
                    }
                    // Evaluated when first read (`lesion_value`).
                    DefLevel::Lesion => {}
                    DefLevel::Organ => {
                        for o in 0..subj.organs.len() {
                            let (v, _) = ev.body(t, Scope::Organ(o), d);
                            let i = ev.organ_at(t, o, d);
                            ev.s.ovals[i] = v;
                        }
                    }
                }
            }
        }
        ev.evaluating.set(None);
        ev.best = best::best_response(&ev);
        ev
    }

    pub fn ne(&self) -> Option<CatId> {
        self.rs.not_evaluable
    }
}

pub struct Evaluation<'a> {
    pub eng: &'a Engine<'a>,
    pub subj: &'a Subject,
    /// Values and bookkeeping, in buffers reused from subject to subject.
    s: Scratch,
    pub best: BestOutcome,
    /// The timepoint and definition being evaluated (none while explaining).
    evaluating: Cell<Option<(usize, DefId)>>,
    /// Inputs the table has no column for (a bit per input); `Scratch::absent_read` says
    /// where they were read, so that an explanation names them only where they mattered.
    absent: u64,
}

/// An evaluation's buffers. They are kept per thread and reused by the next subject, so that
/// evaluating a subject allocates nothing once a thread has seen a subject as large.
#[derive(Default)]
struct Scratch {
    /// Values of assessment-level definitions, per assessment; of organ-level ones, per
    /// assessment and organ.
    vals: Vec<Val>,
    ovals: Vec<Val>,
    /// Lesion-level values are evaluated where they are first read: a definition that only
    /// some lesions need (new ones, say) is not evaluated for the others. Most are never read
    /// (compiled code reads what it can in place), so these are not emptied from subject to
    /// subject: a value is this subject's where its state is this evaluation's (`done`, from
    /// `generation`), or it is being evaluated (`busy`: a value that reads itself at the same
    /// assessment, which the checker rejects, would read no value rather than loop).
    lvals: Vec<Cell<Val>>,
    lstate: Vec<Cell<u32>>,
    generation: u32,
    /// Where each lesion's slot is at each assessment (`u32::MAX`: it has none there), and
    /// its key there (`compile::key_index`; `NO_KEY`: none).
    slot_of: Vec<u32>,
    key_of: Vec<u8>,
    /// The members of each group listed once per subject (`Engine::listed`) at each
    /// assessment (by assessment, then group): a bit per slot (`NOT_LISTED`: not listed), and
    /// a bit per key among them (`compile::key_index`).
    listed: Vec<(u64, u64)>,
    /// The rule or row that decided each assessment-level definition.
    fired: Vec<Fired>,
    /// Values of assessment-level definitions evaluated where first read (`Engine::lazy`),
    /// with the rule that decided each; and whether each is being evaluated (a value read
    /// again while it is, which the checker's order rules out, reads no value).
    later: Vec<OnceCell<(Val, Fired)>>,
    later_busy: Vec<Cell<bool>>,
    problems: RefCell<Vec<Problem>>,
    /// The ruleset's texts made into values (`Text::Lit`), each once.
    texts: RefCell<Vec<Arc<str>>>,
    /// Per assessment, the inputs without a column that were read there (a bit per input).
    absent_read: Vec<Cell<u64>>,
    /// The members of each named group at each assessment, once listed (outside an organ's
    /// scope): a group is used by several definitions, and its members do not change within
    /// an assessment once the values its condition reads are known, which the checker's order
    /// ensures before any use. Ranges into `group_members`.
    group_at: RefCell<Vec<Option<(u32, u32)>>>,
    group_members: RefCell<Vec<(usize, Tri)>>,
    /// Per assessment and definition whose nadir from the baseline a definition reads
    /// (`Engine::nadir_pos`), that nadir and the state it was worked out from, once worked out.
    base_nadir: Vec<Cell<Option<KeptNadir>>>,
    /// Nadirs of assessment-level definitions worked out: (assessment, definition, from).
    nadirs: RefCell<Vec<Nadir>>,
    /// Per named group of fixed members and lesion, whether the lesion belongs.
    fixed_in: Vec<Cell<Option<Tri>>>,
    /// Per named group of fixed members, a bit per lesion that surely belongs (worked out
    /// when first read; `Some(None)`: not kept so, for more than 64 lesions or a member that
    /// may belong).
    fixed_mask: Vec<Cell<Option<Option<u64>>>>,
}

/// A kept nadir: (assessment, definition, first assessment looked at), the nadir being worked
/// out, and the nadir it gives (read again by later rules of the assessment).
type Nadir = ((u32, u32, u32), NadirState, Option<(Iv, usize)>);

/// A nadir worked out: the state it was worked out from (where the next starts), and what it
/// gives.
type KeptNadir = (NadirState, Option<(Iv, usize)>);

/// A nadir being worked out: the smallest exact value and where it was, and the hull of the
/// values known only within bounds (with where the first was).
#[derive(Debug, Clone, Copy, Default)]
struct NadirState {
    best: Option<(Decimal, usize)>,
    any: Option<(Iv, usize)>,
}

impl NadirState {
    /// The nadir so far with `iv`, the value at assessment `k`.
    #[inline]
    fn step(&mut self, k: usize, iv: Iv) {
        match iv.value() {
            Some(v) if self.best.is_none_or(|(b, _)| dcmp(v, b).is_lt()) => {
                self.best = Some((v, k))
            }
            Some(_) => {}
            None => self.any = Some(self.any.map(|(a, ak)| (a.min(iv), ak)).unwrap_or((iv, k))),
        }
    }

    fn result(&self) -> Option<(Iv, usize)> {
        match (self.best, self.any) {
            (Some((v, k)), _) => Some((Iv::exact(v), k)),
            (None, a) => a,
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Vec<Scratch>> = const { RefCell::new(Vec::new()) };
}

impl Scratch {
    /// Marks every kept lesion-level value as an earlier subject's.
    fn next_generation(&mut self) {
        self.generation = match self
            .generation
            .checked_add(1)
            .filter(|g| *g < u32::MAX >> 1)
        {
            Some(g) => g,
            None => {
                // After 2^31 subjects on one thread, the states start again from nothing.
                self.lstate.iter().for_each(|s| s.set(0));
                1
            }
        };
    }

    /// The state of a lesion-level value of this generation: worked out, or being so.
    fn done(&self) -> u32 {
        self.generation << 1
    }
    fn busy(&self) -> u32 {
        self.generation << 1 | 1
    }

    /// Buffers of an earlier evaluation on this thread, emptied, or new ones.
    fn take() -> Scratch {
        SCRATCH
            .try_with(|p| p.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Empties every buffer, keeping its allocation. Every field is named, so that a field
    /// added later cannot be left holding the previous subject's values.
    fn clear(&mut self) {
        let Scratch {
            vals,
            ovals,
            // Kept: `generation` tells this subject's from earlier ones'.
            lvals: _,
            lstate: _,
            generation: _,
            slot_of,
            key_of,
            listed,
            fired,
            later,
            later_busy,
            problems,
            texts,
            absent_read,
            group_at,
            group_members,
            nadirs,
            base_nadir,
            fixed_in,
            fixed_mask,
        } = self;
        vals.clear();
        ovals.clear();
        slot_of.clear();
        key_of.clear();
        listed.clear();
        fired.clear();
        later.clear();
        later_busy.clear();
        problems.get_mut().clear();
        texts.get_mut().clear();
        absent_read.clear();
        group_at.get_mut().clear();
        group_members.get_mut().clear();
        nadirs.get_mut().clear();
        base_nadir.clear();
        fixed_in.clear();
        fixed_mask.clear();
    }
}

impl Drop for Evaluation<'_> {
    fn drop(&mut self) {
        let mut s = std::mem::take(&mut self.s);
        s.clear();
        // A few per thread: evaluations of several criteria of one subject live together.
        let _ = SCRATCH.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < 8 {
                    p.push(s);
                }
            }
        });
    }
}

impl<'a> Evaluation<'a> {
    pub fn rs(&self) -> &'a Ruleset {
        self.eng.rs
    }

    /// The text of a text value.
    pub fn text(&self, x: Text) -> Arc<str> {
        let text = match x {
            Text::Organ(o) => self.subj.organs.get(o as usize).cloned(),
            Text::Id(l) => self.subj.lesions.get(l as usize).map(|l| l.id.clone()),
            Text::Lit(i) => self.s.texts.borrow().get(i as usize).cloned(),
        };
        text.unwrap_or_else(|| Arc::from(""))
    }

    /// A text of the ruleset as a value.
    fn lit_text(&self, s: &str) -> Text {
        let mut texts = self.s.texts.borrow_mut();
        let i = match texts.iter().position(|x| **x == *s) {
            Some(i) => i,
            None => {
                texts.push(Arc::from(s));
                texts.len() - 1
            }
        };
        Text::Lit(i as u32)
    }

    /// The best-response lines' settings in this run (the same for every subject).
    pub(super) fn settings(&self) -> &'a best::Settings {
        self.eng.settings.get_or_init(|| best::Settings::new(self))
    }

    /// The inputs without a column that were read at an assessment (input indices).
    pub fn absent_read(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        let m = self.s.absent_read[t].get();
        (0..64).filter(move |i| m & (1 << i) != 0)
    }

    /// Where a lesion's slot is at an assessment, if it has one there (as
    /// [`Subject::slot_index`], without the search).
    fn slot_index(&self, t: usize, l: usize) -> Option<usize> {
        let i = *self.s.slot_of.get(t * self.subj.lesions.len() + l)?;
        (i != u32::MAX).then_some(i as usize)
    }

    fn slot(&self, t: usize, l: usize) -> Option<&'a crate::data::model::Slot> {
        self.slot_index(t, l)
            .map(|i| &self.subj.assessments[t].slots[i])
    }

    fn at(&self, t: usize, d: DefId) -> usize {
        t * self.eng.per_level[0] + self.eng.def_pos[d]
    }

    fn lesion_at(&self, t: usize, l: usize, d: DefId) -> usize {
        (t * self.subj.lesions.len() + l) * self.eng.per_level[1] + self.eng.def_pos[d]
    }

    fn organ_at(&self, t: usize, o: usize, d: DefId) -> usize {
        (t * self.subj.organs.len() + o) * self.eng.per_level[2] + self.eng.def_pos[d]
    }

    /// The value of an assessment-level definition at an assessment.
    pub fn value(&self, t: usize, d: DefId) -> &Val {
        let i = self.at(t, d);
        if self.eng.lazy[d] {
            return &self.value_read(t, d, i).0;
        }
        &self.s.vals[i]
    }

    /// The value of `d` at `t` (its place `i`), a definition evaluated where first read, and
    /// the rule that decided it.
    #[inline(never)]
    fn value_read(&self, t: usize, d: DefId, i: usize) -> &(Val, Fired) {
        static NONE: (Val, Fired) = (Val::None, Fired::NONE);
        let (Some(kept), Some(busy)) = (self.s.later.get(i), self.s.later_busy.get(i)) else {
            return &NONE;
        };
        if let Some(v) = kept.get() {
            return v;
        }
        if busy.get() {
            return &NONE;
        }
        busy.set(true);
        let outer = self.evaluating.replace(Some((t, d)));
        let v = self.body(t, Scope::Assessment, d);
        self.evaluating.set(outer);
        busy.set(false);
        kept.get_or_init(|| v)
    }

    /// A lesion-level definition's value for a lesion at an assessment (no value where the
    /// lesion has no slot), evaluated on first read.
    pub fn lesion_value(&self, t: usize, l: usize, d: DefId) -> Val {
        let i = self.lesion_at(t, l, d);
        let (Some(kept), Some(state)) = (self.s.lvals.get(i), self.s.lstate.get(i)) else {
            return Val::None;
        };
        if state.get() == self.s.done() {
            return kept.get();
        }
        if self.slot(t, l).is_none() || state.get() == self.s.busy() {
            return Val::None;
        }
        state.set(self.s.busy());
        // Arithmetic problems are noted as this definition's, wherever it is first read.
        let outer = self.evaluating.replace(Some((t, d)));
        let v = self.body(t, Scope::Lesion(l), d).0;
        self.evaluating.set(outer);
        kept.set(v);
        state.set(self.s.done());
        v
    }

    pub fn organ_value(&self, t: usize, o: usize, d: DefId) -> &Val {
        &self.s.ovals[self.organ_at(t, o, d)]
    }

    /// The rule or table row that decided an assessment-level definition at an assessment.
    pub fn fired(&self, t: usize, d: DefId) -> Fired {
        match self.eng.def_level[d] {
            DefLevel::Assessment if self.eng.lazy[d] => self.value_read(t, d, self.at(t, d)).1,
            DefLevel::Assessment => self.s.fired[self.at(t, d)],
            _ => Fired::NONE,
        }
    }

    /// Arithmetic that lost its value at a timepoint (a division by zero, a result beyond the
    /// decimal range), in the order met.
    pub fn problems(&self, t: usize) -> Vec<Problem> {
        let ps = self.s.problems.borrow();
        ps.iter().filter(|p| p.t == t).copied().collect()
    }

    fn note(&self, scope: Scope, span: ir::Span, trouble: Trouble) {
        let Some((t, def)) = self.evaluating.get() else {
            return;
        };
        let p = Problem {
            t,
            def,
            scope,
            trouble,
            span,
        };
        let mut ps = self.s.problems.borrow_mut();
        if !ps.contains(&p) {
            ps.push(p);
        }
    }

    pub fn category(&self, t: usize, d: DefId) -> Option<CatId> {
        match self.value(t, d) {
            Val::Cat(c) => Some(*c),
            _ => None,
        }
    }

    fn undecided_cat(&self) -> Val {
        self.eng.ne().map(Val::Cat).unwrap_or(Val::None)
    }

    fn body(&self, t: usize, l: Scope, d: DefId) -> (Val, Fired) {
        let def = &self.rs().defs[d];
        if !self.eng.walk {
            return self.run(t, l, d, def, &self.eng.program[d]);
        }
        self.walk_body(t, l, d, def)
    }

    /// A definition's value by the tree walker, which defines it.
    fn walk_body(&self, t: usize, l: Scope, d: DefId, def: &ir::Def) -> (Val, Fired) {
        match &def.body {
            Body::Expr(e) => (self.eval(t, l, e), Fired::NONE),
            Body::Rules(rules) => self.rules(t, l, rules, 0, def.ty),
            Body::Table(tab) => self.table(t, l, d, tab, &tab.columns),
        }
    }

    /// A definition's value by its compiled body, as `walk_body` gives it.
    fn run(
        &self,
        t: usize,
        l: Scope,
        d: DefId,
        def: &ir::Def,
        body: &compile::Compiled<'_>,
    ) -> (Val, Fired) {
        match body {
            compile::Compiled::Expr(e) => (e(self, t, l), Fired::NONE),
            compile::Compiled::Rules(src, rules) => {
                for (i, (c, head)) in rules.iter().enumerate() {
                    let fired = Fired {
                        index: i as u32,
                        undecided: false,
                    };
                    let c = match c {
                        compile::Guard::Always => return (head(self, t, l), fired),
                        compile::Guard::Never => continue,
                        compile::Guard::When(c) => c,
                    };
                    match c(self, t, l) {
                        Tri::True => return (head(self, t, l), fired),
                        Tri::False => continue,
                        Tri::Unknown => return self.undecided_rule(t, l, src, i, def.ty),
                    }
                }
                (Val::None, Fired::NONE)
            }
            compile::Compiled::Lesion(per) => {
                let key = match l {
                    Scope::Lesion(les) => self.key_index(t, les),
                    _ => None,
                };
                match key.and_then(|k| per.get(k)) {
                    Some(c) => self.run(t, l, d, def, c),
                    // Without a slot (never read so), as the tree walker reads it.
                    None => self.walk_body(t, l, d, def),
                }
            }
            compile::Compiled::Table(tab, cols) => {
                // Columns that are assessment-level values (responses) read where they are
                // kept.
                if let (Some(defs), Scope::Assessment) = (&self.eng.table_defs[d], l) {
                    let vals = defs.iter().rev().map(|&c| self.value(t, c));
                    if let Some(r) = self.dense_lookup(d, tab, vals) {
                        return r;
                    }
                }
                let vals: SmallVec<[Val; 4]> = cols.iter().map(|c| c(self, t, l)).collect();
                self.lookup_def(d, tab, &vals)
            }
        }
    }

    /// Decision table `d`'s row for the values of `args` (its columns, or a call's arguments);
    /// kept out of `body`, which evaluates every definition.
    #[inline(never)]
    fn table(
        &self,
        t: usize,
        l: Scope,
        d: DefId,
        tab: &ir::Table,
        args: &[ir::Expr],
    ) -> (Val, Fired) {
        let vals: SmallVec<[Val; 4]> = args.iter().map(|c| self.eval(t, l, c)).collect();
        self.lookup_def(d, tab, &vals)
    }

    /// Decision table `d`'s row for the categories of `rev_vals` (its columns' values, the
    /// last first), by its dense index (`Engine::dense`); `None` where it has none, or a
    /// value is not a category.
    #[inline]
    fn dense_lookup<'v>(
        &self,
        d: DefId,
        tab: &ir::Table,
        rev_vals: impl Iterator<Item = &'v Val>,
    ) -> Option<(Val, Fired)> {
        let dense = self.eng.dense[d].as_ref()?;
        let n = self.rs().categories.len();
        let mut index = 0usize;
        for v in rev_vals {
            match v {
                Val::Cat(c) if *c < n => index = index * n + *c,
                _ => return None,
            }
        }
        let Some(i) = dense.get(index)?.checked_sub(1) else {
            return Some((self.undecided_cat(), Fired::NONE));
        };
        let fired = Fired {
            index: u32::from(i),
            undecided: false,
        };
        Some((Val::Cat(tab.rows.get(usize::from(i))?.output), fired))
    }

    /// Decision table `d`'s row for `vals`, as [`Self::lookup_in`] with its masks.
    fn lookup_def(&self, d: DefId, tab: &ir::Table, vals: &[Val]) -> (Val, Fired) {
        let width = tab.columns.len();
        if !self.eng.all_masked[d] || vals.len() != width {
            return self.lookup_in(tab, vals, &self.eng.masks[d]);
        }
        if let Some(r) = self.dense_lookup(d, tab, vals.iter().rev()) {
            return r;
        }
        let mut bits: SmallVec<[u64; 4]> = SmallVec::new();
        for v in vals {
            match v {
                Val::Cat(c) if *c < 64 => bits.push(1 << c),
                _ => return self.lookup_in(tab, vals, &self.eng.masks[d]),
            }
        }
        for (i, row) in self.eng.masks[d].chunks_exact(width).enumerate() {
            if row
                .iter()
                .zip(&bits)
                .all(|(m, b)| m.is_some_and(|m| m & b != 0))
            {
                let fired = Fired {
                    index: i as u32,
                    undecided: false,
                };
                let Some(row) = tab.rows.get(i) else { break };
                return (Val::Cat(row.output), fired);
            }
        }
        (self.undecided_cat(), Fired::NONE)
    }

    fn rules(&self, t: usize, l: Scope, rules: &[ir::Rule], from: usize, ty: Ty) -> (Val, Fired) {
        for (i, r) in rules.iter().enumerate().skip(from) {
            let fired = Fired {
                index: i as u32,
                undecided: false,
            };
            let Some(c) = &r.cond else {
                return (self.eval(t, l, &r.head), fired);
            };
            match self.cond(t, l, c) {
                Tri::True => return (self.eval(t, l, &r.head), fired),
                Tri::False => continue,
                Tri::Unknown => return self.undecided_rule(t, l, rules, i, ty),
            }
        }
        (Val::None, Fired::NONE)
    }

    /// Rule `i`, whose condition is unknown: a response is then not evaluable; a per-lesion
    /// class may be any of the categories that could still apply; a value is this rule's or
    /// one of the later rules'.
    #[inline(never)]
    fn undecided_rule(
        &self,
        t: usize,
        l: Scope,
        rules: &[ir::Rule],
        i: usize,
        ty: Ty,
    ) -> (Val, Fired) {
        let undecided = Fired {
            index: i as u32,
            undecided: true,
        };
        if ty == Ty::Cat && l == Scope::Assessment {
            return (self.undecided_cat(), undecided);
        }
        let here = self.eval(t, l, &rules[i].head);
        let (rest, _) = self.rules(t, l, rules, i + 1, ty);
        (join(self, here, rest), undecided)
    }

    /// First row that matches; an undecidable match before it makes the result not evaluable.
    pub fn lookup(&self, tab: &ir::Table, vals: &[Val]) -> (Val, Fired) {
        self.lookup_in(tab, vals, &[])
    }

    /// As [`Self::lookup`], with the table's cell masks (none: the cells' lists are searched).
    fn lookup_in(&self, tab: &ir::Table, vals: &[Val], masks: &[Option<u64>]) -> (Val, Fired) {
        let width = tab.columns.len();
        for (i, row) in tab.rows.iter().enumerate() {
            let mut m = Tri::True;
            for (j, (cell, v)) in row.cells.iter().zip(vals).enumerate() {
                let mask = masks.get(i * width + j).copied().flatten();
                m = m.and(match (mask, v) {
                    (Some(mask), Val::Cat(c)) if *c < 64 => Tri::from(mask >> c & 1 == 1),
                    (Some(mask), Val::Cats(b)) if *b != 0 => match b & mask {
                        x if x == *b => Tri::True,
                        0 => Tri::False,
                        _ => Tri::Unknown,
                    },
                    _ => cell_match(cell, v),
                });
                if m == Tri::False {
                    break;
                }
            }
            match m {
                Tri::True => {
                    return (
                        Val::Cat(row.output),
                        Fired {
                            index: i as u32,
                            undecided: false,
                        },
                    )
                }
                Tri::Unknown => {
                    return (
                        self.undecided_cat(),
                        Fired {
                            index: i as u32,
                            undecided: true,
                        },
                    )
                }
                Tri::False => {}
            }
        }
        (self.undecided_cat(), Fired::NONE)
    }

    /// The assessment a reference points to from `t`, if there is one.
    pub fn resolve(&self, t: usize, r: Ref) -> Option<usize> {
        match r {
            Ref::Baseline => Some(0),
            Ref::Previous => t.checked_sub(1),
            Ref::StartOf(c) => {
                let overall = self.rs().overall;
                let ne = self.eng.ne();
                let mut start = None;
                for k in (1..t).rev() {
                    match *self.value(k, overall) {
                        Val::Cat(x) if Some(x) == ne => continue,
                        Val::Cat(x) if x == c => start = Some(k),
                        _ => break,
                    }
                }
                start
            }
            Ref::Last(d) => (0..t)
                .rev()
                .find(|&k| *self.value(k, d) == Val::Bool(Tri::True)),
        }
    }

    /// Whole days from one assessment to another, as a time (`days since`: in minutes, the
    /// unit of durations).
    fn time_between(&self, from: usize, to: usize) -> Iv {
        Iv::exact(Decimal::from(self.days_between(from, to)) * MINUTES_PER_DAY)
    }

    pub fn days_between(&self, from: usize, to: usize) -> i64 {
        (self.subj.assessments[to].date - self.subj.assessments[from].date).whole_days()
    }

    /// The value of input `i` at an assessment (for a lesion, in its scope); unknown in [0, ∞).
    pub fn input(&self, t: usize, l: Scope, i: usize) -> Val {
        let input = &self.rs().inputs[i];
        let pos = self.eng.input_pos[i];
        let v = match input.level {
            InputLevel::Lesion => {
                let Some(i) = l.lesion().and_then(|l| self.slot_index(t, l)) else {
                    return Val::None;
                };
                let a = &self.subj.assessments[t];
                match a.values.get(i * self.subj.width + pos) {
                    Some(v) => *v,
                    None => return Val::None,
                }
            }
            InputLevel::Scan => self.subj.assessments[t].scan[pos],
            InputLevel::Subject => self.subj.subject_inputs[pos],
        };
        if let Some(v) = v {
            return Val::Num(Iv::exact(v));
        }
        self.mark_absent_read(t, i);
        Val::Num(unknown_input(input))
    }

    /// Notes that input `i` was read at assessment `t` where it was not recorded, if the table
    /// has no column for it.
    fn mark_absent_read(&self, t: usize, i: usize) {
        if i < 64 && self.absent & (1 << i) != 0 {
            let r = &self.s.absent_read[t];
            r.set(r.get() | 1 << i);
        }
    }

    /// Where the members of group `g` at assessment `t` are kept, for a named group outside an
    /// organ's scope: aggregates read them there, one at a time (evaluating a member may keep
    /// another group's). `None`: they are listed (`members_in`).
    fn kept_range(&self, t: usize, l: Scope, g: &ir::Group) -> Option<(usize, usize)> {
        match (g, l) {
            (_, Scope::Organ(_)) => None,
            (ir::Group::Named(id), _) => self.named_range(t, *id),
            _ => None,
        }
    }

    /// For named group `id` of fixed members (`compile::fixed_group`), outside an organ's
    /// scope, a bit per lesion that belongs: its members at an assessment are then the
    /// lesions there with their bit set (`masked`), in slot order as `named_range` lists
    /// them, without listing them. `None` for more than 64 lesions or a member that may
    /// belong.
    fn fixed_mask(&self, t: usize, id: ir::GroupId) -> Option<u64> {
        let kept = self.s.fixed_mask.get(id)?;
        if let Some(m) = kept.get() {
            return m;
        }
        let m = self.fixed_mask_of(t, id);
        kept.set(Some(m));
        m
    }

    #[inline(never)]
    fn fixed_mask_of(&self, t: usize, id: ir::GroupId) -> Option<u64> {
        let lesions = &self.subj.lesions;
        if lesions.len() > 64 {
            return None;
        }
        // The condition reads only what does not change between assessments, and notes
        // nothing (`fixed_cond`): worked out for every lesion at once, by the lesion's
        // nodal flag and role where it reads only those.
        match self.eng.fixed_keys.get(id) {
            Some(Some(tab)) => lesion_bits(lesions.len(), |i| {
                let les = &lesions[i];
                tab[compile::nodal_role_index(les.nodal, les.role)]
            }),
            _ => {
                let c = fixed_where(&self.rs().groups[id].group)?;
                lesion_bits(lesions.len(), |i| self.cond(t, Scope::Lesion(i), c))
            }
        }
    }

    /// Where lesion `l`'s status at `t`, nodal flag and role are among the keys that
    /// definitions are compiled for (`compile::key_index`); `None` without a slot.
    fn key_index(&self, t: usize, l: usize) -> Option<usize> {
        let k = *self.s.key_of.get(t * self.subj.lesions.len() + l)?;
        (k != NO_KEY).then_some(usize::from(k))
    }

    /// The members of group `id` at `t`, a bit per slot, and their keys, a bit per key,
    /// where it is listed once per subject (`Engine::listed`): each surely a member.
    pub(super) fn listed(&self, t: usize, id: ir::GroupId) -> Option<(u64, u64)> {
        let m = *self.s.listed.get(t * self.eng.listed.len() + id)?;
        (m.0 != NOT_LISTED).then_some(m)
    }

    /// The lesions of the slots at `t` whose bit is set in `slots` (`listed`), with their keys.
    #[inline]
    pub(super) fn listed_members(
        &self,
        t: usize,
        mut slots: u64,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        let a = &self.subj.assessments[t];
        let keys = (self.s.key_of.get(t * self.subj.lesions.len()..)).unwrap_or_default();
        std::iter::from_fn(move || {
            if slots == 0 {
                return None;
            }
            let i = slots.trailing_zeros() as usize;
            let les = a.slots.get(i)?.lesion;
            slots &= slots - 1;
            Some((les, usize::from(*keys.get(les)?)))
        })
    }

    /// The lesions at `t` whose bit is set in `mask` (lesions below 64), each surely a member.
    fn masked(&self, t: usize, mask: u64) -> impl Iterator<Item = (usize, Tri)> + '_ {
        self.subj.assessments[t]
            .slots
            .iter()
            .filter(move |s| s.lesion < 64 && mask >> s.lesion & 1 == 1)
            .map(|s| (s.lesion, Tri::True))
    }

    /// The kept member at position `i`: read one at a time, as evaluating a member may keep
    /// the members of another group.
    fn member(&self, i: usize) -> (usize, Tri) {
        self.s.group_members.borrow()[i]
    }

    pub fn eval(&self, t: usize, l: impl Into<Scope>, e: &ir::Expr) -> Val {
        let l: Scope = l.into();
        match &e.kind {
            K::Num(d) => Val::Num(Iv::exact(*d)),
            K::Bool(b) => Val::Bool(Tri::from(*b)),
            K::Unknown => Val::Bool(Tri::Unknown),
            K::Lit(lit) => match lit {
                Lit::Cat(c) => Val::Cat(*c),
                Lit::Status(s) => Val::Status(*s),
                Lit::Role(r) => Val::Role(*r),
                Lit::Text(s) => Val::Text(self.lit_text(s)),
                Lit::Bool(b) => Val::Bool(Tri::from(*b)),
                Lit::Choice(k) => Val::Num(Iv::exact(Decimal::from(*k))),
            },
            K::Param(p) => match &self.eng.params[*p] {
                ParamValue::Bool(b) => Val::Bool(Tri::from(*b)),
                ParamValue::Num(d) => Val::Num(Iv::exact(*d)),
                ParamValue::None => Val::None,
            },
            K::Input(i) => self.input(t, l, *i),
            K::Def(d) => match self.eng.def_level[*d] {
                DefLevel::Assessment => *self.value(t, *d),
                DefLevel::Lesion => match l {
                    Scope::Lesion(l) => self.lesion_value(t, l, *d),
                    _ => Val::None,
                },
                DefLevel::Organ => match l {
                    Scope::Organ(o) => *self.organ_value(t, o, *d),
                    _ => Val::None,
                },
            },
            K::Not(_) | K::And(_) | K::Or(_) | K::Definitely(_) | K::Cmp(..) => {
                Val::Bool(self.cond(t, l, e))
            }
            K::Agg(f, elem, g) => self.aggregate(t, l, *f, elem.as_deref(), g, e.span),
            _ => self.eval_other(t, l, e),
        }
    }

    /// The rest of [`Self::eval`]: kept out of it so that the commonest nodes (numbers,
    /// params, inputs, definitions, conditions, aggregates) are evaluated by a small function.
    #[inline(never)]
    fn eval_other(&self, t: usize, l: Scope, e: &ir::Expr) -> Val {
        match &e.kind {
            K::Field(f) => {
                let l = match l {
                    Scope::Lesion(l) => l,
                    // An organ's own field is its name.
                    Scope::Organ(o) if *f == ir::Field::Organ => {
                        return Val::Text(Text::Organ(o as u32));
                    }
                    _ => return Val::None,
                };
                let lesion = &self.subj.lesions[l];
                match f {
                    ir::Field::Status => self
                        .slot(t, l)
                        .map(|s| Val::Status(s.status))
                        .unwrap_or(Val::None),
                    ir::Field::Role => Val::Role(lesion.role),
                    ir::Field::Nodal => Val::Bool(Tri::from(lesion.nodal)),
                    ir::Field::Organ => lesion
                        .organ_index
                        .map(|o| Val::Text(Text::Organ(o as u32)))
                        .unwrap_or(Val::None),
                    ir::Field::Id => Val::Text(Text::Id(l as u32)),
                }
            }
            K::Neg(x) => num1(self.eval(t, l, x), Iv::negate),
            K::Abs(x) => num1(self.eval(t, l, x), Iv::abs),
            K::Bin(op, a, b) => {
                let (Val::Num(x), Val::Num(y)) = (self.eval(t, l, a), self.eval(t, l, b)) else {
                    return Val::None;
                };
                self.arith(l, e.span, *op, x, y)
                    .map(Val::Num)
                    .unwrap_or(Val::None)
            }
            K::Min2(a, b) | K::Max2(a, b) => {
                let (Val::Num(x), Val::Num(y)) = (self.eval(t, l, a), self.eval(t, l, b)) else {
                    return Val::None;
                };
                Val::Num(if matches!(e.kind, K::Min2(..)) {
                    x.min(y)
                } else {
                    x.max(y)
                })
            }
            K::In(x, items, negated) => {
                let v = self.eval(t, l, x);
                if v == Val::None {
                    return Val::Bool(Tri::False);
                }
                if let Val::Cats(m) = v {
                    let hit = some_all(
                        (0..64)
                            .filter(|c| m & (1 << c) != 0)
                            .map(|c| items.contains(&Lit::Cat(c))),
                    );
                    return Val::Bool(if *negated { hit.negate() } else { hit });
                }
                let hit = match v {
                    // A categorical value not known exactly: each value it may be.
                    Val::Num(iv) if !iv.is_exact() => choice_points(iv)
                        .map(|ks| some_all(ks.map(|k| items.contains(&Lit::Choice(k)))))
                        .unwrap_or(Tri::Unknown),
                    _ => Tri::from(items.iter().any(|lit| lit_eq(self, lit, &v))),
                };
                Val::Bool(if *negated { hit.negate() } else { hit })
            }
            K::If(c, a, b) => match self.cond(t, l, c) {
                Tri::True => self.eval(t, l, a),
                Tri::False => self.eval(t, l, b),
                Tri::Unknown => {
                    let j = join(self, self.eval(t, l, a), self.eval(t, l, b));
                    if e.ty == Ty::Cat && j == Val::None {
                        self.undecided_cat()
                    } else {
                        j
                    }
                }
            },
            K::OrganAgg(f, elem, filter) => {
                self.organ_aggregate(t, *f, elem.as_deref(), filter.as_deref(), e.span)
            }
            K::At(x, r) => match self.resolve(t, *r) {
                Some(k) => self.eval(k, l, x),
                None => Val::None,
            },
            K::DaysSince(r) => match self.resolve(t, *r) {
                Some(k) => Val::Num(self.time_between(k, t)),
                None => Val::None,
            },
            K::Nadir(x, r) => match self.resolve(t, *r) {
                Some(k0) => self
                    .nadir_kept(t, l, x, k0)
                    .map(|(v, _)| Val::Num(v))
                    .unwrap_or(Val::None),
                None => Val::None,
            },
            K::Last(x) => self.last(t, l, x).map(|(v, _)| v).unwrap_or(Val::None),
            K::Ever(x) => {
                let mut acc = Tri::False;
                for k in 0..t {
                    acc = acc.or(self.cond(k, l, x));
                }
                Val::Bool(acc)
            }
            // Reads only data (the checker makes sure), so later assessments can be looked at.
            K::Later(x) => {
                let mut acc = Tri::False;
                for k in t + 1..self.subj.assessments.len() {
                    acc = acc.or(self.cond(k, l, x));
                    if acc == Tri::True {
                        break;
                    }
                }
                Val::Bool(acc)
            }
            K::Known(x) => Val::Bool(Tri::from(match self.eval(t, l, x) {
                Val::Num(iv) => iv.is_exact(),
                Val::Bool(b) => b != Tri::Unknown,
                Val::None => false,
                _ => true,
            })),
            K::TableCall(d, args) => {
                let Body::Table(tab) = &self.rs().defs[*d].body else {
                    return Val::None;
                };
                self.table(t, l, *d, tab, args).0
            }
            // Evaluated by `eval` itself.
            K::Num(_)
            | K::Bool(_)
            | K::Unknown
            | K::Lit(_)
            | K::Param(_)
            | K::Input(_)
            | K::Def(_)
            | K::Not(_)
            | K::And(_)
            | K::Or(_)
            | K::Definitely(_)
            | K::Cmp(..)
            | K::Agg(..) => self.eval(t, l, e),
        }
    }

    /// `x op y`, noting where the result lost its value (`None`: a division by zero).
    #[inline(always)]
    fn arith(&self, l: Scope, span: ir::Span, op: BinOp, x: Iv, y: Iv) -> Option<Iv> {
        let (r, trouble) = calc(op, x, y);
        if let Some(trouble) = trouble {
            self.note(l, span, trouble);
        }
        r
    }

    /// `a op b`, as the value of `K::Cmp`.
    #[inline(never)]
    fn comparison(&self, t: usize, l: Scope, op: CmpOp, a: &ir::Expr, b: &ir::Expr) -> Tri {
        match self.field_is(t, l, op, a, b) {
            Some(r) => r,
            None => self.compare_values(t, l, op, a, b),
        }
    }

    /// `a op b` of values (other than a lesion's role or status against a literal).
    #[inline(never)]
    fn compare_values(&self, t: usize, l: Scope, op: CmpOp, a: &ir::Expr, b: &ir::Expr) -> Tri {
        // A text literal is compared where it is, not copied into a value.
        fn text(x: &ir::Expr) -> Option<&str> {
            match &x.kind {
                K::Lit(Lit::Text(s)) => Some(s.as_str()),
                _ => None,
            }
        }
        match (text(a), text(b)) {
            (None, Some(s)) => compare_text(self, op, &self.eval(t, l, a), s),
            (Some(s), None) => compare_text(self, op, &self.eval(t, l, b), s),
            _ => compare(self, op, &self.eval(t, l, a), &self.eval(t, l, b)),
        }
    }

    /// Whether a condition holds (`truth` of its value), without making values for the
    /// commonest forms: connectives, comparisons, fields and definitions are read in place.
    pub fn cond(&self, t: usize, l: impl Into<Scope>, e: &ir::Expr) -> Tri {
        let l: Scope = l.into();
        match &e.kind {
            K::Bool(b) => Tri::from(*b),
            K::Not(x) => self.cond(t, l, x).negate(),
            K::And(xs) => self.connective(t, l, xs, true),
            K::Or(xs) => self.connective(t, l, xs, false),
            K::Definitely(x) => Tri::from(self.cond(t, l, x) == Tri::True),
            K::Cmp(op, a, b) => self.comparison(t, l, *op, a, b),
            K::Param(p) => match &self.eng.params[*p] {
                ParamValue::Bool(b) => Tri::from(*b),
                _ => Tri::False,
            },
            K::Field(ir::Field::Nodal) => match l {
                Scope::Lesion(l) => Tri::from(self.subj.lesions[l].nodal),
                _ => Tri::False,
            },
            K::Def(d) => match (self.eng.def_level[*d], l) {
                (DefLevel::Assessment, _) => truth(self.value(t, *d)),
                (DefLevel::Lesion, Scope::Lesion(l)) => truth(&self.lesion_value(t, l, *d)),
                (DefLevel::Organ, Scope::Organ(o)) => truth(self.organ_value(t, o, *d)),
                _ => Tri::False,
            },
            _ => truth(&self.eval(t, l, e)),
        }
    }

    /// `and` (all) or `or` (any) of conditions, stopping once the result is decided.
    #[inline(never)]
    fn connective(&self, t: usize, l: Scope, xs: &[ir::Expr], all: bool) -> Tri {
        let (mut acc, decided) = if all {
            (Tri::True, Tri::False)
        } else {
            (Tri::False, Tri::True)
        };
        for x in xs {
            let v = self.cond(t, l, x);
            acc = if all { acc.and(v) } else { acc.or(v) };
            if acc == decided {
                break;
            }
        }
        acc
    }

    /// `role = target`, `status != absent`: a lesion's role or status compared with a literal
    /// without making values (the commonest conditions of lesion groups); as [`compare`].
    #[inline]
    fn field_is(&self, t: usize, l: Scope, op: CmpOp, a: &ir::Expr, b: &ir::Expr) -> Option<Tri> {
        let (f, lit) = match (&a.kind, &b.kind) {
            (K::Field(f), K::Lit(x)) | (K::Lit(x), K::Field(f)) => (*f, x),
            _ => return None,
        };
        let Scope::Lesion(l) = l else {
            return None;
        };
        let same = match (f, lit) {
            (ir::Field::Role, Lit::Role(r)) => self.subj.lesions[l].role == *r,
            (ir::Field::Status, Lit::Status(s)) => match self.slot(t, l) {
                Some(slot) => slot.status == *s,
                // No value: a comparison with it is false.
                None => return Some(Tri::False),
            },
            _ => return None,
        };
        Some(Tri::from(same == (op == CmpOp::Eq)))
    }

    /// Smallest exact value over assessments `from..t`, and where it was.
    pub fn nadir(
        &self,
        t: usize,
        l: impl Into<Scope>,
        x: &ir::Expr,
        from: usize,
    ) -> Option<(Iv, usize)> {
        let l: Scope = l.into();
        let mut st = NadirState::default();
        for k in from..t {
            self.nadir_step(&mut st, k, l, x);
        }
        st.result()
    }

    /// The nadir so far with the value at assessment `k`.
    fn nadir_step(&self, st: &mut NadirState, k: usize, l: Scope, x: &ir::Expr) {
        if let Val::Num(iv) = self.eval(k, l, x) {
            st.step(k, iv);
        }
    }

    /// As [`Self::nadir`]; the nadir of an assessment-level definition is kept once worked
    /// out, as rules read it several times (`sum - nadir(sum) >= nadir(sum) * ...`), and the
    /// next assessment's nadir starts from it.
    fn nadir_kept(&self, t: usize, l: Scope, x: &ir::Expr, from: usize) -> Option<(Iv, usize)> {
        let d = match (&x.kind, l) {
            (K::Def(d), Scope::Assessment) if self.eng.def_level[*d] == DefLevel::Assessment => *d,
            _ => return self.nadir(t, l, x, from),
        };
        if let (0, Some(p)) = (from, self.eng.nadir_pos[d]) {
            return self.base_nadir(t, d, p);
        }
        let key = |t: usize| (t as u32, d as u32, from as u32);
        let mut st = NadirState::default();
        let mut begin = from;
        {
            let nadirs = self.s.nadirs.borrow();
            let kept = |t: usize| nadirs.iter().rev().find(|(k, ..)| *k == key(t));
            if let Some((_, _, r)) = kept(t) {
                return *r;
            }
            // The value of a definition reads nothing else: the nadir up to the previous
            // assessment and that assessment's value give this one.
            if let Some((_, prev, _)) = t.checked_sub(1).filter(|&p| p > from).and_then(kept) {
                (st, begin) = (*prev, t - 1);
            }
        }
        self.nadir_extend(&mut st, d, begin..t);
        let r = st.result();
        self.s.nadirs.borrow_mut().push((key(t), st, r));
        r
    }

    /// The nadir `st` of definition `d` extended with its kept values (as `eval` reads them)
    /// at assessments `ks`.
    #[inline]
    fn nadir_extend(&self, st: &mut NadirState, d: DefId, ks: std::ops::Range<usize>) {
        for k in ks {
            if let Val::Num(iv) = self.value(k, d) {
                st.step(k, *iv);
            }
        }
    }

    /// `nadir_kept(t, Scope::Assessment, x, 0)` of assessment-level definition `x` (`d`), as
    /// compiled code reads it (the nadir's definition known when compiling).
    pub(super) fn nadir_from_baseline(
        &self,
        t: usize,
        d: DefId,
        x: &ir::Expr,
    ) -> Option<(Iv, usize)> {
        match self.eng.nadir_pos[d] {
            Some(p) => self.base_nadir(t, d, p),
            None => self.nadir_kept(t, Scope::Assessment, x, 0),
        }
    }

    /// `nadir_kept` from the baseline of assessment-level definition `d`, kept by assessment
    /// where a definition reads it (at `p` among those, `Engine::nadir_pos`): rules read it
    /// several times at an assessment, and the next assessment's starts from it.
    fn base_nadir(&self, t: usize, d: DefId, p: usize) -> Option<(Iv, usize)> {
        let k = self.eng.nadirs;
        let cell = &self.s.base_nadir[t * k + p];
        if let Some((_, r)) = cell.get() {
            return r;
        }
        // The nadir up to the previous assessment and that assessment's value give this one.
        let (mut st, begin) = match t.checked_sub(1).filter(|&q| q > 0) {
            Some(q) => match self.s.base_nadir[q * k + p].get() {
                Some((st, _)) => (st, q),
                None => (NadirState::default(), 0),
            },
            None => (NadirState::default(), 0),
        };
        self.nadir_extend(&mut st, d, begin..t);
        let r = st.result();
        cell.set(Some((st, r)));
        r
    }

    /// The first later assessment where a condition on the data holds.
    pub fn later(&self, t: usize, l: impl Into<Scope>, x: &ir::Expr) -> Option<usize> {
        let l: Scope = l.into();
        (t + 1..self.subj.assessments.len()).find(|&k| self.cond(k, l, x) == Tri::True)
    }

    /// Latest earlier value that is decided (a category other than not-evaluable, an exact number).
    pub fn last(&self, t: usize, l: impl Into<Scope>, x: &ir::Expr) -> Option<(Val, usize)> {
        let l: Scope = l.into();
        let ne = self.eng.ne();
        (0..t).rev().find_map(|k| {
            let v = self.eval(k, l, x);
            decided(&v, ne).then_some((v, k))
        })
    }

    /// Lesions of a group at an assessment, with whether each surely belongs.
    pub fn members(&self, t: usize, g: &ir::Group) -> Members {
        self.members_in(t, Scope::Assessment, g)
    }

    /// Members within a scope: in an organ's scope, only that organ's lesions.
    pub fn members_in(&self, t: usize, scope: Scope, g: &ir::Group) -> Members {
        match g {
            ir::Group::All => {
                let organ = match scope {
                    Scope::Organ(o) => Some(o),
                    _ => None,
                };
                self.subj.assessments[t]
                    .slots
                    .iter()
                    .filter(|s| organ.is_none() || self.subj.lesions[s.lesion].organ_index == organ)
                    .map(|s| (s.lesion, Tri::True))
                    .collect()
            }
            ir::Group::Named(id) => {
                let group = &self.rs().groups[*id].group;
                if matches!(scope, Scope::Organ(_)) {
                    return self.members_in(t, scope, group);
                }
                match self.named_range(t, *id) {
                    Some((a, b)) => self.s.group_members.borrow()[a..b]
                        .iter()
                        .copied()
                        .collect(),
                    None => self.members_in(t, scope, group),
                }
            }
            ir::Group::Where(base, c) => {
                let mut m = self.members_in(t, scope, base);
                m.retain(|(l, m)| {
                    *m = m.and(self.cond(t, Some(*l), c));
                    *m != Tri::False
                });
                m
            }
            ir::Group::Except(base, other) => {
                let out = self.members_in(t, scope, &self.rs().groups[*other].group);
                let mut m = self.members_in(t, scope, base);
                m.retain(|(l, m)| {
                    let inside = out
                        .iter()
                        .find(|(o, _)| o == l)
                        .map(|(_, om)| *om)
                        .unwrap_or(Tri::False);
                    *m = m.and(inside.negate());
                    *m != Tri::False
                });
                m
            }
            ir::Group::Top {
                n,
                of,
                key,
                per_organ,
            } => {
                let cands = self.members_in(t, scope, of);
                let count = |e: &ir::Expr| match self.eval(t, None, e) {
                    Val::Num(iv) => iv
                        .value()
                        .and_then(|v| rust_decimal::prelude::ToPrimitive::to_usize(&v.trunc())),
                    _ => None,
                };
                let n = count(n).unwrap_or(0);
                let per = per_organ.as_ref().and_then(count);
                let keyed: Vec<(usize, Tri, Option<Decimal>)> = cands
                    .iter()
                    .map(|&(l, m)| {
                        let k = match self.eval(t, Some(l), key) {
                            Val::Num(iv) => iv.value(),
                            _ => None,
                        };
                        (l, m, k)
                    })
                    .collect();
                if keyed.iter().any(|(_, m, k)| *m != Tri::True || k.is_none()) {
                    // Ranking undecided: any candidate may be selected.
                    return cands.into_iter().map(|(l, _)| (l, Tri::Unknown)).collect();
                }
                let chosen = self.select(keyed.iter().map(|(l, _, k)| (*l, *k)).collect(), n, per);
                let mut out: Members = chosen.into_iter().map(|l| (l, Tri::True)).collect();
                out.sort_by_key(|(l, _)| *l);
                out
            }
        }
    }

    /// The `n` lesions with the largest keys (`None` = unbounded), at most `per` per organ,
    /// ties by lesion id.
    fn select(
        &self,
        mut keyed: Vec<(usize, Option<Decimal>)>,
        n: usize,
        per: Option<usize>,
    ) -> Vec<usize> {
        let lesions = &self.subj.lesions;
        let rank = |k: Option<Decimal>| k.map(|d| (0u8, d)).unwrap_or((1, Decimal::ZERO));
        keyed.sort_by(|a, b| {
            rank(b.1)
                .cmp(&rank(a.1))
                .then_with(|| lesions[a.0].id.cmp(&lesions[b.0].id))
        });
        let mut out = vec![];
        let mut per_organ_count: Vec<(usize, usize)> = vec![];
        for (l, _) in keyed {
            if out.len() >= n {
                break;
            }
            if let (Some(limit), Some(organ)) = (per, lesions[l].organ_index) {
                match per_organ_count.iter_mut().find(|(o, _)| *o == organ) {
                    Some((_, c)) if *c >= limit => continue,
                    Some((_, c)) => *c += 1,
                    None => per_organ_count.push((organ, 1)),
                }
            }
            out.push(l);
        }
        out
    }

    /// Sum or max of the ranking value over a "top N" group whose values are partly unknown:
    /// both are monotone in every value, so selecting on the lower bounds gives the lower bound
    /// and selecting on the upper bounds the upper one.
    fn top_bounds(
        &self,
        t: usize,
        scope: Scope,
        f: AggFn,
        elem: &ir::Expr,
        g: &ir::Group,
    ) -> Option<Val> {
        let g = match g {
            ir::Group::Named(id) => &self.rs().groups[*id].group,
            other => other,
        };
        let ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } = g
        else {
            return None;
        };
        if !same_value(elem, key) {
            return None;
        }
        let cands = self.members_in(t, scope, of);
        if cands.iter().any(|(_, m)| *m != Tri::True) {
            return None;
        }
        let count = |e: &ir::Expr| match self.eval(t, None, e) {
            Val::Num(iv) => iv
                .value()
                .and_then(|v| rust_decimal::prelude::ToPrimitive::to_usize(&v.trunc())),
            _ => None,
        };
        let (n, per) = (count(n).unwrap_or(0), per_organ.as_ref().and_then(count));
        let keys: Vec<(usize, Iv)> = cands
            .iter()
            .filter_map(|&(l, _)| match self.eval(t, Some(l), key) {
                Val::Num(iv) => Some((l, iv)),
                _ => None,
            })
            .collect();
        if keys.iter().all(|(_, iv)| iv.is_exact()) {
            return None;
        }
        let pick = |hi: bool| -> Vec<Option<Decimal>> {
            let keyed = keys
                .iter()
                .map(|(l, iv)| {
                    (
                        *l,
                        if hi {
                            iv.hi
                        } else {
                            Some(iv.lo.unwrap_or(Decimal::ZERO))
                        },
                    )
                })
                .collect();
            let chosen = self.select(keyed, n, per);
            chosen
                .iter()
                .map(|l| {
                    keys.iter()
                        .find(|(k, _)| k == l)
                        .and_then(|(_, iv)| if hi { iv.hi } else { iv.lo })
                })
                .collect()
        };
        let agg = |vals: Vec<Option<Decimal>>| -> Option<Option<Decimal>> {
            if vals.is_empty() {
                return None;
            }
            let mut acc = if f == AggFn::Sum {
                Some(Decimal::ZERO)
            } else {
                None
            };
            for v in vals {
                let v = v?;
                acc = Some(match (f, acc) {
                    (AggFn::Sum, Some(a)) => a.checked_add(v)?,
                    (_, Some(a)) => a.max(v),
                    (_, None) => v,
                });
            }
            Some(acc)
        };
        let lo = agg(pick(false)).flatten();
        let hi = agg(pick(true)).unwrap_or(None);
        Some(Val::Num(Iv { lo, hi }))
    }

    fn aggregate(
        &self,
        t: usize,
        scope: Scope,
        f: AggFn,
        elem: Option<&ir::Expr>,
        g: &ir::Group,
        span: ir::Span,
    ) -> Val {
        if let (AggFn::Sum | AggFn::Max, Some(e)) = (f, elem) {
            if let Some(v) = self.top_bounds(t, scope, f, e, g) {
                return v;
            }
        }
        if let Some((a, b)) = self.kept_range(t, scope, g) {
            let items = (a..b).map(|i| {
                let (l, m) = self.member(i);
                (m, Scope::Lesion(l))
            });
            return self.fold(t, scope, f, elem, items, span);
        }
        let items = self
            .members_in(t, scope, g)
            .into_iter()
            .map(|(l, m)| (m, Scope::Lesion(l)));
        self.fold(t, scope, f, elem, items, span)
    }

    /// Where the members of a named group at an assessment are kept, listing them the first
    /// time; `None` if they cannot be kept (beyond `u32` positions).
    fn named_range(&self, t: usize, id: ir::GroupId) -> Option<(usize, usize)> {
        let k = t * self.rs().groups.len() + id;
        if let Some((a, b)) = self.s.group_at.borrow().get(k).copied().flatten() {
            return Some((a as usize, b as usize));
        }
        let group = &self.rs().groups[id].group;
        let a = match group {
            ir::Group::Where(_, c) if self.eng.fixed[id] => {
                let a = self.s.group_members.borrow().len();
                self.fixed_members(t, id, c);
                a
            }
            _ => {
                // Listing the members may keep another group's first.
                let m = self.members_in(t, Scope::Assessment, group);
                let mut store = self.s.group_members.borrow_mut();
                store.extend_from_slice(&m);
                store.len() - m.len()
            }
        };
        let b = self.s.group_members.borrow().len();
        let (a32, b32) = (u32::try_from(a).ok()?, u32::try_from(b).ok()?);
        *self.s.group_at.borrow_mut().get_mut(k)? = Some((a32, b32));
        Some((a, b))
    }

    /// Adds the members of `lesions where c` at an assessment to the kept members, for a
    /// condition on what does not change between assessments: worked out for a lesion the
    /// first time it is met (the condition reads no group, so the store is not in use).
    fn fixed_members(&self, t: usize, id: ir::GroupId, c: &ir::Expr) {
        let nles = self.subj.lesions.len();
        for sl in &self.subj.assessments[t].slots {
            let Some(kept) = self.s.fixed_in.get(id * nles + sl.lesion) else {
                continue;
            };
            let m = kept.get().unwrap_or_else(|| {
                let m = self.cond(t, Scope::Lesion(sl.lesion), c);
                kept.set(Some(m));
                m
            });
            if m != Tri::False {
                self.s.group_members.borrow_mut().push((sl.lesion, m));
            }
        }
    }

    /// Over the subject's organs, each kept when the filter holds.
    fn organ_aggregate(
        &self,
        t: usize,
        f: AggFn,
        elem: Option<&ir::Expr>,
        filter: Option<&ir::Expr>,
        span: ir::Span,
    ) -> Val {
        let items = (0..self.subj.organs.len())
            .map(|o| {
                let m = filter
                    .map(|c| self.cond(t, Scope::Organ(o), c))
                    .unwrap_or(Tri::True);
                (m, Scope::Organ(o))
            })
            .filter(|(m, _)| *m != Tri::False);
        self.fold(t, Scope::Assessment, f, elem, items, span)
    }

    /// An aggregate over members that belong for sure (true) or maybe (unknown).
    fn fold(
        &self,
        t: usize,
        scope: Scope,
        f: AggFn,
        elem: Option<&ir::Expr>,
        items: impl Iterator<Item = (Tri, Scope)>,
        span: ir::Span,
    ) -> Val {
        match f {
            AggFn::Count => Val::Num(count_members(items.map(|(m, _)| m))),
            AggFn::All | AggFn::Any => {
                let elem = elem.expect("checked: all/any have a condition");
                let mut acc = Tri::from(f == AggFn::All);
                for (m, s) in items {
                    acc = quantify(f == AggFn::All, acc, m, self.cond(t, s, elem));
                }
                Val::Bool(acc)
            }
            AggFn::Sum | AggFn::Max | AggFn::Min => {
                let elem = elem.expect("checked: sum/max/min have a value");
                let mut acc = fold_start(f);
                for (m, s) in items {
                    let Val::Num(v) = self.eval(t, s, elem) else {
                        continue;
                    };
                    let (r, out_of_range) = fold_value(f, acc, v, m);
                    if out_of_range {
                        self.note(scope, span, Trouble::OutOfRange);
                    }
                    acc = Some(r);
                }
                acc.map(Val::Num).unwrap_or(Val::None)
            }
        }
    }
}

/// `x op y` of two exact values, where that is exact too: `None` for a division by zero or a
/// result beyond the decimal range.
#[inline]
fn exact_calc(op: BinOp, x: Decimal, y: Decimal) -> Option<Decimal> {
    match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div if y.is_zero() => None,
        BinOp::Div => x.checked_div(y),
    }
}

/// `x op y`, and the problem to note: a division by zero (no value), or a finite result out
/// of reach of finite operands (beyond the decimal range; or the divisor may be zero, which
/// leaves the quotient unbounded and is not a problem).
fn calc(op: BinOp, x: Iv, y: Iv) -> (Option<Iv>, Option<Trouble>) {
    // Two exact operands (most of a cohort's arithmetic): one operation on their values, as
    // the interval operations below give it; a division by zero and a result beyond the
    // decimal range go the general way, which says so.
    if let (Some(a), Some(b)) = (x.same_bits(), y.same_bits()) {
        if let Some(r) = exact_calc(op, a, b) {
            return (Some(Iv::exact(r)), None);
        }
    }
    let r = match op {
        BinOp::Add => x.plus(y),
        BinOp::Sub => x.minus(y),
        BinOp::Mul => x.times(y),
        BinOp::Div => match x.over(y) {
            Some(r) => r,
            None => return (None, Some(Trouble::DivisionByZero)),
        },
    };
    let lost =
        x.is_finite() && y.is_finite() && !r.is_finite() && (op != BinOp::Div || !y.may_be_zero());
    (Some(r), lost.then_some(Trouble::OutOfRange))
}

/// `Engine::listed`: per group of fixed members known true or false for each nodal flag and
/// role, a bit per one it holds for.
fn listed_of(fixed_keys: &[Option<[Tri; compile::NODAL_ROLES]>]) -> Vec<Option<u32>> {
    fixed_keys
        .iter()
        .map(|tab| {
            let tab = tab.as_ref()?;
            tab.iter().all(|x| *x != Tri::Unknown).then(|| {
                (tab.iter().enumerate())
                    .filter(|(_, x)| **x == Tri::True)
                    .fold(0u32, |m, (i, _)| m | 1 << i)
            })
        })
        .collect()
}

/// `f` of each definition's decision table, by definition (the default for the others).
fn per_table<T: Default>(rs: &Ruleset, f: impl Fn(&ir::Table) -> T) -> Vec<T> {
    rs.defs
        .iter()
        .map(|d| match &d.body {
            Body::Table(tab) => f(tab),
            _ => T::default(),
        })
        .collect()
}

/// Combinations of categories a dense decision table may hold (`Engine::dense`).
const DENSE_MAX: usize = 4096;

/// A decision table's first matching row (plus one; zero: none) for each combination of one
/// category per column, the first column varying fastest; `masks`: its cells' masks, row by
/// row. `None` where a cell has no mask, or for more than `DENSE_MAX` combinations.
fn dense_rows(tab: &ir::Table, masks: &[Option<u64>], categories: usize) -> Option<Vec<u16>> {
    let width = tab.columns.len();
    let size = (0..width).try_fold(1usize, |n, _| n.checked_mul(categories))?;
    if width == 0
        || size > DENSE_MAX
        || categories > 64
        || tab.rows.len() >= usize::from(u16::MAX)
        || masks.len() != tab.rows.len() * width
        || tab.rows.iter().any(|r| r.cells.len() != width)
    {
        return None;
    }
    let masks: Vec<u64> = masks.iter().copied().collect::<Option<_>>()?;
    let row_of = |mut i: usize| {
        let cats: Vec<usize> = (0..width)
            .map(|_| {
                let c = i % categories;
                i /= categories;
                c
            })
            .collect();
        masks
            .chunks_exact(width)
            .position(|row| row.iter().zip(&cats).all(|(m, &c)| m >> c & 1 == 1))
            .map_or(0, |r| r as u16 + 1)
    };
    Some((0..size).map(row_of).collect())
}

/// Members for sure (true) and at most (also unknown), as an interval.
fn count_members(items: impl Iterator<Item = Tri>) -> Iv {
    let (mut sure, mut all) = (0usize, 0usize);
    for m in items {
        sure += usize::from(m == Tri::True);
        all += 1;
    }
    Iv {
        lo: Some(Decimal::from(sure)),
        hi: Some(Decimal::from(all)),
    }
}

/// `all` (or `any`) so far with a member that belongs for sure or maybe (`m`) and its truth.
#[inline(always)]
fn quantify(all: bool, acc: Tri, m: Tri, v: Tri) -> Tri {
    if all {
        acc.and(m.negate().or(v))
    } else {
        acc.or(m.and(v))
    }
}

/// A sum starts at zero, a maximum or minimum at no value.
fn fold_start(f: AggFn) -> Option<Iv> {
    (f == AggFn::Sum).then_some(Iv::exact(Decimal::ZERO))
}

/// A sum, maximum or minimum so far with a member's value: a member that only may belong
/// widens the result. True in second place when finite values summed beyond the decimal range.
#[inline(always)]
fn fold_value(f: AggFn, acc: Option<Iv>, v: Iv, m: Tri) -> (Iv, bool) {
    let r = match (f, acc) {
        (AggFn::Sum, Some(a)) => {
            let v = if m == Tri::True {
                v
            } else {
                v.hull(Iv::exact(Decimal::ZERO))
            };
            let r = a.plus(v);
            return (r, a.is_finite() && v.is_finite() && !r.is_finite());
        }
        (_, None) if m == Tri::True => v,
        (AggFn::Max, None) => Iv { lo: None, hi: v.hi },
        (_, None) => Iv { lo: v.lo, hi: None },
        (AggFn::Max, Some(a)) if m == Tri::True => a.max(v),
        (AggFn::Max, Some(a)) => a.hull(a.max(v)),
        (_, Some(a)) if m == Tri::True => a.min(v),
        (_, Some(a)) => a.hull(a.min(v)),
    };
    (r, false)
}

/// A bit for each of `n` lesions (at most 64) where `holds` is true; `None` where it is
/// unknown for one.
fn lesion_bits(n: usize, holds: impl Fn(usize) -> Tri) -> Option<u64> {
    (0..n).try_fold(0u64, |m, i| match holds(i) {
        Tri::True => Some(m | 1 << i),
        Tri::False => Some(m),
        Tri::Unknown => None,
    })
}

/// The condition of a group of fixed members, `lesions where C` with C on what does not
/// change between assessments (`fixed_cond`).
fn fixed_where(g: &ir::Group) -> Option<&ir::Expr> {
    match g {
        ir::Group::Where(base, c) if matches!(**base, ir::Group::All) && fixed_cond(c) => Some(c),
        _ => None,
    }
}

/// Whether a condition reads only what is the same at every assessment: a lesion's role,
/// nodal flag, organ and id, literals and params (no arithmetic, which may note a problem at
/// the assessment where it is met).
fn fixed_cond(e: &ir::Expr) -> bool {
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Unknown | K::Lit(_) | K::Param(_) => true,
        K::Field(f) => *f != ir::Field::Status,
        K::Not(x) | K::Known(x) | K::Definitely(x) | K::In(x, ..) => fixed_cond(x),
        K::Cmp(_, a, b) => fixed_cond(a) && fixed_cond(b),
        K::And(xs) | K::Or(xs) => xs.iter().all(fixed_cond),
        K::If(c, a, b) => fixed_cond(c) && fixed_cond(a) && fixed_cond(b),
        _ => false,
    }
}

/// The same per-lesion value (a definition or an input), for monotone bounds.
fn same_value(a: &ir::Expr, b: &ir::Expr) -> bool {
    match (&a.kind, &b.kind) {
        (K::Def(x), K::Def(y)) => x == y,
        (K::Input(x), K::Input(y)) => x == y,
        _ => false,
    }
}

/// An input's value where it was not recorded: any of a categorical input's values; any
/// number for HU; else [0, ∞).
fn unknown_input(input: &ir::Input) -> Iv {
    if !input.choices.is_empty() {
        Iv {
            lo: Some(Decimal::ZERO),
            hi: Some(Decimal::from(input.choices.len() - 1)),
        }
    } else if input.dim.hu != 0 {
        Iv::ALL
    } else {
        Iv::NONNEG
    }
}

/// Whether a value is decided: a category other than not-evaluable, an exact number, true or
/// false, ... (what `last` looks back for).
fn decided(v: &Val, ne: Option<CatId>) -> bool {
    match v {
        Val::None => false,
        Val::Cat(c) => Some(*c) != ne,
        Val::Num(iv) => iv.is_exact(),
        Val::Bool(b) => *b != Tri::Unknown,
        _ => true,
    }
}

pub fn truth(v: &Val) -> Tri {
    match v {
        Val::Bool(b) => *b,
        _ => Tri::False,
    }
}

fn num1(v: Val, f: fn(Iv) -> Iv) -> Val {
    match v {
        Val::Num(x) => Val::Num(f(x)),
        other => other,
    }
}

fn join(ev: &Evaluation, a: Val, b: Val) -> Val {
    if let (Some(x), Some(y)) = (cat_bits(&a), cat_bits(&b)) {
        let m = x | y;
        return if m.count_ones() == 1 {
            Val::Cat(m.trailing_zeros() as usize)
        } else {
            Val::Cats(m)
        };
    }
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => Val::Num(x.hull(y)),
        (Val::Bool(x), Val::Bool(y)) if x == y => Val::Bool(x),
        (Val::Bool(_), Val::Bool(_)) => Val::Bool(Tri::Unknown),
        // Texts that compare the same (`same_text`): either gives every comparison's result.
        (Val::Text(x), Val::Text(y)) if same_text(&ev.text(x), &ev.text(y)) => a,
        (x, y) if x == y => x,
        _ => Val::None,
    }
}

fn lit_eq(ev: &Evaluation, lit: &Lit, v: &Val) -> bool {
    match (lit, v) {
        (Lit::Cat(a), Val::Cat(b)) => a == b,
        (Lit::Status(a), Val::Status(b)) => a == b,
        (Lit::Role(a), Val::Role(b)) => a == b,
        (Lit::Text(a), Val::Text(b)) => same_text(a, &ev.text(*b)),
        (Lit::Bool(a), Val::Bool(b)) => Tri::from(*a) == *b,
        (Lit::Choice(k), Val::Num(iv)) => iv.value() == Some(Decimal::from(*k)),
        _ => false,
    }
}

/// The positions a categorical value known only as an interval may take.
fn choice_points(iv: Iv) -> Option<impl Iterator<Item = u16>> {
    use rust_decimal::prelude::ToPrimitive;
    let lo = iv.lo?.ceil().to_u16()?;
    let hi = iv.hi?.floor().to_u16()?;
    Some(lo..=hi)
}

/// The categories (ids below 64) a table cell matches, as bits; `None` when the cell names
/// something else (a truth value), which is then matched as [`cell_match`] does.
fn cell_mask(cell: &ir::Cell) -> Option<u64> {
    let (ir::Cell::Set(lits) | ir::Cell::Not(lits)) = cell else {
        return Some(u64::MAX);
    };
    let mut m = 0u64;
    for lit in lits {
        match lit {
            Lit::Cat(c) if *c < 64 => m |= 1 << c,
            _ => return None,
        }
    }
    Some(if matches!(cell, ir::Cell::Not(_)) {
        !m
    } else {
        m
    })
}

fn cell_match(cell: &ir::Cell, v: &Val) -> Tri {
    match v {
        Val::Cats(m) => some_all(
            (0..64)
                .filter(|c| m & (1 << c) != 0)
                .map(|c| cell.matches(&Lit::Cat(c))),
        ),
        Val::Cat(c) => Tri::from(cell.matches(&Lit::Cat(*c))),
        Val::Bool(Tri::Unknown) => {
            let (t, f) = (
                cell.matches(&Lit::Bool(true)),
                cell.matches(&Lit::Bool(false)),
            );
            match (t, f) {
                (true, true) => Tri::True,
                (false, false) => Tri::False,
                _ => Tri::Unknown,
            }
        }
        Val::Bool(b) => Tri::from(cell.matches(&Lit::Bool(*b == Tri::True))),
        _ => Tri::from(matches!(cell, ir::Cell::Any)),
    }
}

/// True when every possibility holds, false when none does, unknown otherwise.
fn some_all(mut it: impl Iterator<Item = bool>) -> Tri {
    let first = it.next().unwrap_or(false);
    if it.all(|x| x == first) {
        Tri::from(first)
    } else {
        Tri::Unknown
    }
}

/// `v op "text"`: as [`compare`] with a text value.
fn compare_text(ev: &Evaluation, op: CmpOp, v: &Val, text: &str) -> Tri {
    match v {
        Val::Text(x) => Tri::from(same_text(&ev.text(*x), text) == (op == CmpOp::Eq)),
        Val::None | Val::Cats(_) => Tri::False,
        _ => Tri::from(op != CmpOp::Eq),
    }
}

pub fn compare(ev: &Evaluation, op: CmpOp, a: &Val, b: &Val) -> Tri {
    if matches!(a, Val::Cats(_)) || matches!(b, Val::Cats(_)) {
        let (Some(x), Some(y)) = (cat_bits(a), cat_bits(b)) else {
            return Tri::False;
        };
        let eq = if x & y == 0 { Tri::False } else { Tri::Unknown };
        return if op == CmpOp::Ne { eq.negate() } else { eq };
    }
    match (a, b) {
        (Val::None, _) | (_, Val::None) => Tri::False,
        (Val::Num(x), Val::Num(y)) => match op {
            CmpOp::Lt => x.lt(*y),
            CmpOp::Le => x.le(*y),
            CmpOp::Gt => y.lt(*x),
            CmpOp::Ge => y.le(*x),
            CmpOp::Eq => x.same(*y),
            CmpOp::Ne => x.same(*y).negate(),
        },
        (Val::Bool(x), Val::Bool(y)) => {
            let eq = if *x == Tri::Unknown || *y == Tri::Unknown {
                Tri::Unknown
            } else {
                Tri::from(x == y)
            };
            if op == CmpOp::Ne {
                eq.negate()
            } else {
                eq
            }
        }
        (Val::Text(x), Val::Text(y)) => {
            Tri::from(same_text(&ev.text(*x), &ev.text(*y)) == (op == CmpOp::Eq))
        }
        (x, y) => Tri::from((x == y) == (op == CmpOp::Eq)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every decision table of every shipped ruleset has a dense index (`dense_rows`), which
    /// gives the row (or none) that its cells' masks give, for every combination of one
    /// category per column.
    #[test]
    fn dense_tables_as_masks() {
        let mut tables = 0;
        for (id, _) in crate::registry::shipped() {
            let checked = crate::check::load(id).unwrap_or_else(|_| panic!("{id} loads"));
            let rs = &checked.ruleset;
            let eng = Engine::new(rs);
            let n = rs.categories.len();
            for (d, def) in rs.defs.iter().enumerate() {
                let Body::Table(tab) = &def.body else {
                    continue;
                };
                let dense = eng.dense[d]
                    .as_ref()
                    .expect("every shipped table has its index");
                tables += 1;
                let width = tab.columns.len();
                assert_eq!(dense.len(), n.pow(width as u32), "{id} {}", def.name);
                for (i, &row) in dense.iter().enumerate() {
                    let mut rest = i;
                    let cats: Vec<u64> = (0..width)
                        .map(|_| {
                            let c = rest % n;
                            rest /= n;
                            1 << c
                        })
                        .collect();
                    let by_masks = eng.masks[d].chunks_exact(width).position(|r| {
                        r.iter()
                            .zip(&cats)
                            .all(|(m, c)| m.is_some_and(|m| m & c != 0))
                    });
                    assert_eq!(
                        row.checked_sub(1).map(usize::from),
                        by_masks,
                        "{id} {} combination {i}",
                        def.name
                    );
                }
            }
        }
        assert!(tables >= 7, "{tables} tables");
    }

    /// Kept lesion-level values are this subject's only at this generation; when the count
    /// runs out, every state starts again from nothing (none may pass for a later subject's).
    #[test]
    fn generations_of_kept_lesion_values() {
        let mut s = Scratch::default();
        s.next_generation();
        assert_eq!((s.generation, s.done(), s.busy()), (1, 2, 3));
        s.lstate = vec![Cell::new(2), Cell::new(3)];
        s.next_generation();
        assert!(s
            .lstate
            .iter()
            .all(|x| x.get() != s.done() && x.get() != s.busy()));
        s.generation = (u32::MAX >> 1) - 1;
        s.lstate = vec![Cell::new(s.done() + 2), Cell::new(s.busy() + 2)];
        s.next_generation();
        assert_eq!(s.generation, 1);
        assert!(s.lstate.iter().all(|x| x.get() == 0));
    }

    /// Two exact operands: `calc` gives what the interval operations give, for sums,
    /// differences, products and quotients of values of several scales and signs, zero, and
    /// results beyond the decimal range (noted as such).
    #[test]
    fn exact_calc_as_intervals() {
        let values = [
            "0", "0.0", "-0", "5", "5.0", "4.9", "-12.25", "0.2", "1000000", "3",
        ];
        let mut values: Vec<Decimal> = values.iter().map(|v| v.parse().unwrap()).collect();
        values.push(Decimal::MAX);
        for &a in &values {
            for &b in &values {
                for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div] {
                    let (x, y) = (Iv::exact(a), Iv::exact(b));
                    let general = match op {
                        BinOp::Add => Some(x.plus(y)),
                        BinOp::Sub => Some(x.minus(y)),
                        BinOp::Mul => Some(x.times(y)),
                        BinOp::Div => x.over(y),
                    };
                    let (r, trouble) = calc(op, x, y);
                    assert_eq!(r, general, "{a} {op:?} {b}");
                    let lost = match general {
                        None => Some(Trouble::DivisionByZero),
                        Some(g) if !g.is_finite() => Some(Trouble::OutOfRange),
                        Some(_) => None,
                    };
                    assert_eq!(trouble, lost, "{a} {op:?} {b}");
                }
            }
        }
    }
}
