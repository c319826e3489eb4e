//! The resolved, typed ruleset. Names are indices; units are checked; definitions are in
//! evaluation order. A ruleset that reaches this form never fails with a type error at run time.

use rust_decimal::Decimal;

use crate::diag::Source;
pub use crate::syntax::ast::{AggFn, Anchor, BinOp, CmpOp, HitPolicy, Span};
use crate::units::Dim;

pub type DefId = usize;
pub type CatId = usize;
pub type ParamId = usize;
pub type InputId = usize;
pub type GroupId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A number of a dimension; `pct` only changes how it is shown.
    Num {
        dim: Dim,
        pct: bool,
    },
    Bool,
    Cat,
    Status,
    Role,
    Text,
    /// A value of the categorical input with this index (stored as its position in the list).
    Choice(u16),
    /// After an error, to avoid cascades.
    Error,
}

impl Ty {
    pub fn num(dim: Dim) -> Ty {
        Ty::Num { dim, pct: false }
    }
    pub fn describe(self) -> String {
        match self {
            Ty::Num { dim, .. } if dim.is_none() => "a plain number".into(),
            Ty::Num { dim, .. } => format!("a quantity in {dim}"),
            Ty::Bool => "a condition (true/false)".into(),
            Ty::Cat => "a category".into(),
            Ty::Status => "a lesion status".into(),
            Ty::Role => "a lesion role".into(),
            Ty::Text => "a text".into(),
            Ty::Choice(_) => "a value of a categorical input".into(),
            Ty::Error => "an invalid expression".into(),
        }
    }
}

/// Lesion status, as in the data contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Status {
    Present,
    Absent,
    TooSmall,
    NotEvaluated,
    UnequivocalProgression,
    Increased,
    Equivocal,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Present,
        Status::Absent,
        Status::TooSmall,
        Status::NotEvaluated,
        Status::UnequivocalProgression,
        Status::Increased,
        Status::Equivocal,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Absent => "absent",
            Status::TooSmall => "too-small",
            Status::NotEvaluated => "not-evaluated",
            Status::UnequivocalProgression => "unequivocal-progression",
            Status::Increased => "increased",
            Status::Equivocal => "equivocal",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Target,
    NonTarget,
    New,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Target, Role::NonTarget, Role::New];
    pub fn name(self) -> &'static str {
        match self {
            Role::Target => "target",
            Role::NonTarget => "non-target",
            Role::New => "new",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// Built-in per-lesion fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Status,
    Role,
    Nodal,
    Organ,
    Id,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Cat(CatId),
    Status(Status),
    Role(Role),
    Text(String),
    Bool(bool),
    /// A value of a categorical input, by position in its list.
    Choice(u16),
}

/// A point in the subject's history that a temporal expression refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ref {
    Baseline,
    Previous,
    /// First assessment of the current run of a category of `overall`.
    StartOf(CatId),
    /// Latest earlier assessment where a condition (an assessment-level definition) held.
    Last(DefId),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

/// A plain tag (no niche in a field), which the evaluator dispatches on at every node.
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum ExprKind {
    Num(Decimal),
    Bool(bool),
    /// A condition that is neither true nor false.
    Unknown,
    Lit(Lit),
    Param(ParamId),
    Input(InputId),
    Field(Field),
    Def(DefId),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Lit>, bool),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Agg(AggFn, Option<Box<Expr>>, Box<Group>),
    /// An aggregate over the subject's organs (`count(organs where ...)`): element and filter are
    /// evaluated for each organ.
    OrganAgg(AggFn, Option<Box<Expr>>, Option<Box<Expr>>),
    At(Box<Expr>, Ref),
    DaysSince(Ref),
    Nadir(Box<Expr>, Ref),
    Last(Box<Expr>),
    Ever(Box<Expr>),
    /// Holds at some later assessment of the subject; reads only data and params (checked).
    Later(Box<Expr>),
    Known(Box<Expr>),
    Definitely(Box<Expr>),
    Abs(Box<Expr>),
    Min2(Box<Expr>, Box<Expr>),
    Max2(Box<Expr>, Box<Expr>),
    TableCall(DefId, Vec<Expr>),
}

#[derive(Debug, Clone)]
pub enum Group {
    All,
    Named(GroupId),
    Where(Box<Group>, Expr),
    Except(Box<Group>, GroupId),
    Top {
        n: Expr,
        of: Box<Group>,
        key: Expr,
        per_organ: Option<Expr>,
    },
}

#[derive(Debug, Clone)]
pub struct GroupDef {
    pub name: String,
    pub group: Group,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub name: String,
    pub class: Option<String>,
    pub description: Option<String>,
    /// Counts as a response (ORR) and as disease control (DCR), whatever the class.
    pub response: bool,
    pub control: bool,
}

/// What a category counts as when its declaration does not say: complete and partial responses
/// are responses and disease control, stable disease is disease control.
pub fn counts_of_class(class: Option<&str>) -> (bool, bool) {
    match class {
        Some("complete" | "partial") => (true, true),
        Some("stable") => (false, true),
        _ => (false, false),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Bool(bool),
    Num(Decimal),
    /// No value (`none`): a limit that does not apply. Reads as no value in expressions.
    None,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub value: ParamValue,
    pub ty: Ty,
    /// Unit as written, for display and for `--set` values.
    pub unit: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLevel {
    Lesion,
    Scan,
    Subject,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub level: InputLevel,
    pub dim: Dim,
    /// Base units per declared unit (data values in the declared unit are multiplied by it).
    pub factor: Decimal,
    pub unit: String,
    pub optional: bool,
    /// The values of a categorical input, in order (empty for a quantity).
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefLevel {
    Lesion,
    Organ,
    Assessment,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub head: Expr,
    pub cond: Option<Expr>,
    pub reason: Option<String>,
    pub cite: Option<String>,
    pub span: Span,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Any,
    Set(Vec<Lit>),
    Not(Vec<Lit>),
}

impl Cell {
    pub fn matches(&self, v: &Lit) -> bool {
        match self {
            Cell::Any => true,
            Cell::Set(xs) => xs.contains(v),
            Cell::Not(xs) => !xs.contains(v),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub output: CatId,
    pub label: Option<String>,
    pub span: Span,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Expr>,
    pub hit: HitPolicy,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Expr(Expr),
    Rules(Vec<Rule>),
    Table(Table),
}

#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub level: DefLevel,
    pub body: Body,
    pub ty: Ty,
    /// Categories a category-valued definition can take.
    pub domain: Vec<CatId>,
    /// Shown among the timepoint's named responses.
    pub is_response: bool,
    /// A parent's definition kept for `super`.
    pub hidden: bool,
    pub description: Option<String>,
    pub cite: Option<String>,
    /// Index into `Ruleset::sources`.
    pub src: usize,
    /// Ruleset that wrote this definition, and the one whose definition it overrides.
    pub origin: String,
    pub overrides: Option<String>,
    /// The parent's definition this one overrides (what `super` reads).
    pub parent: Option<DefId>,
    pub span: Span,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum Guard {
    Always,
    When(Expr),
    Unless(Expr),
}

#[derive(Debug, Clone)]
pub struct Require {
    pub cats: Vec<CatId>,
    pub min: Expr,
    pub anchor: Anchor,
    pub fallback: CatId,
    pub guard: Guard,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub cats: Vec<CatId>,
    pub by: Vec<CatId>,
    pub min: Expr,
    /// Latest confirmation (`and at most X later`); a param of `none` means no limit.
    pub max: Option<Expr>,
    pub fallback: CatId,
    pub guard: Guard,
    pub line: usize,
}

/// `between confirmations [of C] allow [at most N] CATS`: categories that may come between a
/// response and its confirmation without breaking it.
#[derive(Debug, Clone)]
pub struct Allow {
    /// The confirmed categories it applies to; empty: all.
    pub of: Vec<CatId>,
    pub cats: Vec<CatId>,
    /// At most this many; `None`: any number.
    pub max: Option<Expr>,
    pub guard: Guard,
    pub line: usize,
}

/// `between confirmations [of C] forbid CATS after CATS`: once one of `after` has come in the
/// confirmation period, one of `cats` breaks it (and cannot confirm).
#[derive(Debug, Clone)]
pub struct Forbid {
    pub of: Vec<CatId>,
    pub cats: Vec<CatId>,
    pub after: Vec<CatId>,
    pub guard: Guard,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Best {
    /// Best first.
    pub rank: Vec<CatId>,
    pub stop_after: Vec<CatId>,
    /// `stop after first confirmed C`: after the assessment that confirms the first such C.
    pub stop_after_confirmed: Vec<CatId>,
    pub requires: Vec<Require>,
    pub confirms: Vec<Confirm>,
    pub allows: Vec<Allow>,
    pub forbids: Vec<Forbid>,
    /// (from, to, followed_by)
    pub relabels: Vec<(CatId, CatId, CatId)>,
    pub src: usize,
    pub line: usize,
    pub origin: String,
}

/// What an event line asks of the assessments after the one it finds.
#[derive(Debug, Clone, PartialEq)]
pub enum EventThen {
    Now,
    FollowedBy(Vec<CatId>),
    PendingAtEnd,
    UnlessNext(Vec<CatId>),
}

#[derive(Debug, Clone)]
pub struct EventLine {
    pub cats: Vec<CatId>,
    /// Only an assessment the best response's `confirm` lines confirm.
    pub confirmed: bool,
    pub then: EventThen,
    pub guard: Guard,
    pub line: usize,
}

/// An event a ruleset declares (`event progression ...`).
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub description: Option<String>,
    pub cite: Option<String>,
    pub lines: Vec<EventLine>,
    pub src: usize,
    pub line: usize,
    pub origin: String,
}

/// Lesions a ruleset cannot judge (`reject`): a subject with one of them is a data error.
#[derive(Debug, Clone)]
pub struct Reject {
    pub name: String,
    /// The description: the data error's message.
    pub message: String,
    pub cite: Option<String>,
    pub group: Group,
    /// Checked at the baseline assessment only (otherwise at every assessment).
    pub at_baseline: bool,
    pub src: usize,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Ruleset {
    pub id: String,
    pub title: String,
    pub version: Option<String>,
    pub cites: Vec<String>,
    /// `chart NAME`: the assessment-level number whose change from baseline comparisons chart.
    pub chart: Option<DefId>,
    /// `chart NAME lines ...`: the percent params drawn as the waterfall's reference lines,
    /// each with `true` for a decrease (`-P`).
    pub chart_lines: Vec<(ParamId, bool)>,
    /// Source files, the ruleset's ancestors first.
    pub sources: Vec<Source>,
    pub categories: Vec<Category>,
    pub not_evaluable: Option<CatId>,
    pub params: Vec<Param>,
    pub inputs: Vec<Input>,
    pub groups: Vec<GroupDef>,
    pub defs: Vec<Def>,
    /// Evaluation order of `defs`.
    pub order: Vec<DefId>,
    pub overall: DefId,
    /// Named responses in output order.
    pub responses: Vec<DefId>,
    pub best: Best,
    /// Declared events, in declaration order.
    pub events: Vec<Event>,
    pub rejects: Vec<Reject>,
}

impl Ruleset {
    pub fn cat_name(&self, c: CatId) -> &str {
        &self.categories[c].name
    }
    /// The type of input `i`'s values: a quantity, or a categorical value.
    pub fn input_ty(&self, i: usize) -> Ty {
        let input = &self.inputs[i];
        if input.choices.is_empty() {
            Ty::num(input.dim)
        } else {
            Ty::Choice(i as u16)
        }
    }
    pub fn param_id(&self, name: &str) -> Option<ParamId> {
        self.params.iter().position(|p| p.name == name)
    }
    pub fn category_id(&self, name: &str) -> Option<CatId> {
        self.categories.iter().position(|c| c.name == name)
    }
    /// The display name of a source, e.g. `recist-1.1.crit`.
    pub fn source_name(&self, src: usize) -> String {
        self.sources[src].name().to_string()
    }
    pub fn source_text(&self, src: usize) -> &str {
        self.sources[src].inner().as_str()
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}
