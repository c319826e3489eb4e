//! The untyped syntax tree, straight from the grammar. Every node carries its byte span in the
//! source so that the checker can point at it.

use rust_decimal::Decimal;

/// Byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.len()).into()
    }
}

#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

pub type Name = Spanned<String>;

#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    pub id: Name,
    pub title: String,
    pub extends: Option<Name>,
    pub version: Option<String>,
    pub cites: Vec<String>,
    /// `chart NAME lines ...`: the number the comparison's charts show the change of.
    pub chart: Option<Chart>,
    pub categories: Vec<CategoryDecl>,
    pub renames: Vec<(Name, Name)>,
    pub items: Vec<Item>,
}

impl Default for Name {
    fn default() -> Self {
        Spanned {
            node: String::new(),
            span: Span::default(),
        }
    }
}

/// `chart NAME lines -P, +Q`: the charted value and the waterfall's reference lines.
#[derive(Debug, Clone)]
pub struct Chart {
    pub value: Name,
    /// Percent params drawn as reference lines; `true` for a decrease (`-P`).
    pub lines: Vec<(Name, bool)>,
}

#[derive(Debug, Clone)]
pub struct CategoryDecl {
    pub name: Name,
    pub class: Option<Name>,
    pub description: Option<String>,
    /// `counts as ...`: (response, disease control); `None` takes them from the class.
    pub counts: Option<(bool, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Lesion,
    Scan,
    Subject,
}

/// A declaration that defines a name.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: Name,
    pub is_override: bool,
    pub description: Option<String>,
    pub cite: Option<String>,
    pub kind: ItemKind,
    /// The whole declaration.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    Input {
        level: Level,
        ty: InputType,
        optional: bool,
    },
    Param {
        value: ParamValue,
    },
    /// Per-lesion definition (`lesion`), evaluated for each lesion at each assessment.
    Lesion(Body),
    /// Per-organ definition (`organ`), evaluated for each organ over its lesions.
    Organ(Body),
    Value(Body),
    Group(GroupExpr),
    Response(Vec<Rule>),
    Table(Table),
    Best(Vec<BestLine>),
    /// An event: when it starts (`event progression ...`).
    Event(Vec<EventLine>),
    /// Lesions the ruleset cannot judge (`reject`): a subject with one is a data error.
    Reject {
        group: GroupExpr,
        at_baseline: bool,
    },
}

/// What an input holds: a quantity in a unit, or one of a declared list of values.
#[derive(Debug, Clone)]
pub enum InputType {
    Unit(Name),
    Choice(Vec<Name>),
}

#[derive(Debug, Clone)]
pub enum ParamValue {
    Bool(bool),
    Number(Decimal, Option<Name>),
    /// No value (`none`), with the unit a value would have.
    None(Option<Name>),
}

#[derive(Debug, Clone)]
pub enum Body {
    Expr(Expr),
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub head: Expr,
    /// `None` for `otherwise`.
    pub cond: Option<Expr>,
    pub reason: Option<String>,
    pub cite: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitPolicy {
    Unique,
    Any,
    First,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Expr>,
    pub hit: HitPolicy,
    pub rows: Vec<TableRow>,
    pub header_span: Span,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub cells: Vec<Cell>,
    pub output: Name,
    pub label: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Any(Span),
    Is(Vec<Name>),
    Not(Vec<Name>),
}

#[derive(Debug, Clone)]
pub enum Guard {
    When(Expr),
    Unless(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Baseline,
}

#[derive(Debug, Clone)]
pub enum BestLine {
    Rank(Vec<Name>, Span),
    /// `stop after first [confirmed] C`: the flag is `confirmed`.
    StopAfter(Vec<Name>, bool, Span),
    Require {
        cats: Vec<Name>,
        min: Expr,
        anchor: Anchor,
        fallback: Name,
        guard: Option<Guard>,
        span: Span,
    },
    Confirm {
        cats: Vec<Name>,
        by: Vec<Name>,
        min: Expr,
        /// `and at most X later`.
        max: Option<Expr>,
        fallback: Name,
        guard: Option<Guard>,
        span: Span,
    },
    /// `between confirmations [of C] allow [at most N] CATS`.
    Allow {
        of: Vec<Name>,
        cats: Vec<Name>,
        max: Option<Expr>,
        guard: Option<Guard>,
        span: Span,
    },
    /// `between confirmations [of C] forbid CATS after CATS`.
    Forbid {
        of: Vec<Name>,
        cats: Vec<Name>,
        after: Vec<Name>,
        guard: Option<Guard>,
        span: Span,
    },
    Relabel {
        from: Name,
        to: Name,
        followed_by: Name,
        span: Span,
    },
}

/// `first CATS [followed by CATS | pending at end] [when|unless COND]`.
#[derive(Debug, Clone)]
pub struct EventLine {
    pub cats: Vec<Name>,
    /// Only an assessment that a `confirm` line of the best response confirms.
    pub confirmed: bool,
    pub then: EventThen,
    pub guard: Option<Guard>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum EventThen {
    /// The assessment itself starts the event.
    Now,
    /// Only when the next assessment outside these categories (and not evaluable) is one of
    /// the given ones; the event is dated at the first.
    FollowedBy(Vec<Name>),
    /// Only when no later assessment leaves these categories (still pending at the end).
    PendingAtEnd,
    /// Unless the next evaluable assessment is one of these (it negates the event).
    UnlessNext(Vec<Name>),
}

#[derive(Debug, Clone)]
pub enum GroupExpr {
    Named(Name),
    Top {
        n: Box<Expr>,
        of: Name,
        key: Box<Expr>,
        per_organ: Option<Box<Expr>>,
        span: Span,
    },
    Where(Box<GroupExpr>, Box<Expr>),
    Except(Box<GroupExpr>, Name),
}

impl GroupExpr {
    pub fn span(&self) -> Span {
        match self {
            GroupExpr::Named(n) => n.span,
            GroupExpr::Top { span, .. } => *span,
            GroupExpr::Where(g, e) => Span::new(g.span().start, e.span.end),
            GroupExpr::Except(g, n) => Span::new(g.span().start, n.span.end),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFn {
    Sum,
    Max,
    Min,
    Count,
    All,
    Any,
}

#[derive(Debug, Clone)]
pub enum Reference {
    Baseline,
    Previous,
    StartOf(Name),
    Last(Name),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Number(Decimal, Option<Name>),
    Bool(bool),
    /// `unknown`: a condition that is neither true nor false.
    Unknown,
    Str(String),
    Name(String),
    Super,
    SuperCall(Vec<Expr>),
    Call(Name, Vec<Expr>, Option<Reference>),
    Agg(AggFn, Option<Box<Expr>>, GroupExpr),
    DaysSince(Reference),
    At(Box<Expr>, Reference),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Spanned<String>>, bool),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}
