//! Names, types and units: the merged syntax tree becomes the IR. Definitions are checked on
//! demand (a reference checks its target first), so the order of declarations is free.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::ir::{self, DefId, DefLevel, GroupId, Lit, Ty};
use super::merge::{kind_word, Merged};
use crate::diag::{did_you_mean, Diag};
use crate::syntax::ast::{self, ExprKind as E, ItemKind, Span};
use crate::units::{self, Dim};

#[derive(Clone, Copy, Debug)]
enum Sym {
    Def(DefId),
    Param(usize),
    Input(usize),
    Group(GroupId),
}

#[derive(Clone, Copy)]
pub(super) struct Cx {
    pub src: usize,
    pub lesion: bool,
    /// Inside a per-organ definition: lesion groups are the organ's lesions.
    pub organ: bool,
    pub super_def: Option<DefId>,
}

const FUNCTIONS: &[&str] = &[
    "baseline",
    "previous",
    "nadir",
    "last",
    "ever",
    "known",
    "definitely",
    "abs",
    "min",
    "max",
];
const FIELDS: &[&str] = &["status", "role", "nodal", "organ", "id"];

#[derive(Clone, Copy, PartialEq)]
enum State {
    New,
    Busy,
    Done,
}

pub(super) struct Resolver<'a> {
    pub m: &'a Merged,
    pub diags: &'a mut Vec<Diag>,
    syms: HashMap<String, Sym>,
    /// Category names as each ruleset of the chain writes them (a child may rename).
    cats_by_src: Vec<HashMap<String, usize>>,
    pub slot_def: Vec<Option<DefId>>,
    pub def_slot: Vec<usize>,
    pub def_level: Vec<DefLevel>,
    pub def_ty: Vec<Ty>,
    def_state: Vec<State>,
    pub bodies: Vec<Option<ir::Body>>,
    pub params: Vec<ir::Param>,
    pub inputs: Vec<ir::Input>,
    /// Inputs whose unit is unknown: typed as errors so that no second error follows.
    bad_inputs: Vec<bool>,
    group_slot: Vec<usize>,
    group_state: Vec<State>,
    pub groups: Vec<Option<ir::GroupDef>>,
}

pub fn resolve(m: Merged, diags: &mut Vec<Diag>) -> Option<ir::Ruleset> {
    let mut r = Resolver {
        m: &m,
        diags,
        syms: HashMap::new(),
        cats_by_src: (0..m.sources.len())
            .map(|si| {
                m.categories
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| c.names.get(si).cloned().flatten().map(|n| (n, i)))
                    .collect()
            })
            .collect(),
        slot_def: vec![None; m.slots.len()],
        def_slot: vec![],
        def_level: vec![],
        def_ty: vec![],
        def_state: vec![],
        bodies: vec![],
        params: vec![],
        inputs: vec![],
        bad_inputs: vec![],
        group_slot: vec![],
        group_state: vec![],
        groups: vec![],
    };
    r.declare();
    for d in 0..r.def_slot.len() {
        r.def(d);
    }
    for g in 0..r.group_slot.len() {
        r.group_def(g);
    }
    let best = r.best();
    super::order::finish(r, best)
}

impl<'a> Resolver<'a> {
    fn err(&mut self, src: usize, d: Diag) {
        self.diags.push(d.with_src(&self.m.sources[src]));
    }

    /// Gives every definition its id, and reads params and inputs.
    fn declare(&mut self) {
        for (si, slot) in self.m.slots.iter().enumerate() {
            let item = &slot.item;
            let name = item.name.node.clone();
            let sym = match &item.kind {
                ItemKind::Input {
                    level,
                    unit,
                    optional,
                } => {
                    let (dim, factor) = match units::lookup(&unit.node) {
                        Some(u) => (u.dim, u.factor),
                        None => {
                            let d = unknown_unit(&unit.node, unit.span);
                            self.err(slot.src, d);
                            (Dim::NONE, Decimal::ONE)
                        }
                    };
                    self.bad_inputs.push(units::lookup(&unit.node).is_none());
                    let level = match level {
                        ast::Level::Lesion => ir::InputLevel::Lesion,
                        ast::Level::Scan => ir::InputLevel::Scan,
                        ast::Level::Subject => ir::InputLevel::Subject,
                    };
                    self.inputs.push(ir::Input {
                        name: name.clone(),
                        level,
                        dim,
                        factor,
                        unit: unit.node.clone(),
                        optional: *optional,
                    });
                    Some(Sym::Input(self.inputs.len() - 1))
                }
                ItemKind::Param { value } => {
                    let (value, ty, unit) = match value {
                        ast::ParamValue::Bool(b) => (ir::ParamValue::Bool(*b), Ty::Bool, None),
                        ast::ParamValue::Number(d, u) => match u {
                            None => (ir::ParamValue::Num(*d), Ty::num(Dim::NONE), None),
                            Some(u) => match units::lookup(&u.node) {
                                Some(un) => (
                                    ir::ParamValue::Num(*d * un.factor),
                                    Ty::Num {
                                        dim: un.dim,
                                        pct: un.percent,
                                    },
                                    Some(u.node.clone()),
                                ),
                                None => {
                                    let d = unknown_unit(&u.node, u.span);
                                    self.err(slot.src, d);
                                    (ir::ParamValue::Num(Decimal::ZERO), Ty::Error, None)
                                }
                            },
                        },
                    };
                    if slot.hidden {
                        None
                    } else {
                        self.params.push(ir::Param {
                            name: name.clone(),
                            value,
                            ty,
                            unit,
                            description: item.description.clone(),
                        });
                        Some(Sym::Param(self.params.len() - 1))
                    }
                }
                ItemKind::Group(_) => {
                    self.group_slot.push(si);
                    self.group_state.push(State::New);
                    self.groups.push(None);
                    Some(Sym::Group(self.group_slot.len() - 1))
                }
                ItemKind::Lesion(_)
                | ItemKind::Organ(_)
                | ItemKind::Value(_)
                | ItemKind::Response(_)
                | ItemKind::Table(_) => {
                    let id = self.def_slot.len();
                    self.def_slot.push(si);
                    self.def_level.push(match item.kind {
                        ItemKind::Lesion(_) => DefLevel::Lesion,
                        ItemKind::Organ(_) => DefLevel::Organ,
                        _ => DefLevel::Assessment,
                    });
                    self.def_ty.push(
                        if matches!(item.kind, ItemKind::Response(_) | ItemKind::Table(_)) {
                            Ty::Cat
                        } else {
                            Ty::Error
                        },
                    );
                    self.def_state.push(State::New);
                    self.bodies.push(None);
                    self.slot_def[si] = Some(id);
                    Some(Sym::Def(id))
                }
                ItemKind::Best(_) => None,
            };
            if let Some(sym) = sym {
                if slot.hidden {
                    continue;
                }
                if self.cats_by_src[slot.src].contains_key(&name) {
                    let d = Diag::error(
                        "crit::duplicate",
                        format!(
                            "`{name}` is both a category and a {}",
                            kind_word(&item.kind)
                        ),
                    )
                    .label(item.name.span, "same name as a category")
                    .help("rename the definition: a name must mean one thing");
                    self.err(slot.src, d);
                }
                self.syms.insert(name, sym);
            }
        }
    }

    fn slot_cx(&self, si: usize) -> Cx {
        let slot = &self.m.slots[si];
        Cx {
            src: slot.src,
            lesion: matches!(slot.item.kind, ItemKind::Lesion(_)),
            organ: matches!(slot.item.kind, ItemKind::Organ(_)),
            super_def: slot.super_slot.and_then(|s| self.slot_def[s]),
        }
    }

    /// Checks a definition (once) and returns its type.
    fn def(&mut self, id: DefId) -> Ty {
        match self.def_state[id] {
            State::Done => return self.def_ty[id],
            State::Busy => {
                // Referenced while being checked (e.g. through `ever(x)` inside x's own
                // dependencies): the form of its body tells the type; the evaluation order check
                // later rejects real same-assessment cycles.
                let si = self.def_slot[id];
                if let Some(t) = shallow_ty(&self.m.slots[si].item.kind) {
                    return t;
                }
                if self.def_ty[id] != Ty::Cat {
                    let si = self.def_slot[id];
                    let slot = &self.m.slots[si];
                    let d = Diag::error("crit::cycle", format!("`{}` depends on itself", slot.item.name.node))
                        .label(slot.item.name.span, "its value is needed to compute itself")
                        .help("refer to an earlier assessment instead, e.g. `previous(x)`, or break the chain");
                    self.err(slot.src, d);
                }
                return self.def_ty[id];
            }
            State::New => {}
        }
        self.def_state[id] = State::Busy;
        let si = self.def_slot[id];
        let cx = self.slot_cx(si);
        let item = &self.m.slots[si].item;
        let (body, ty) = match &item.kind {
            ItemKind::Lesion(b) | ItemKind::Organ(b) | ItemKind::Value(b) => match b {
                ast::Body::Expr(e) => {
                    let e = self.expr(e, cx, None);
                    let ty = e.ty;
                    (ir::Body::Expr(e), ty)
                }
                ast::Body::Rules(rules) => {
                    let (rules, ty) = self.rules(rules, cx, None);
                    (ir::Body::Rules(rules), ty)
                }
            },
            ItemKind::Response(rules) => {
                let (rules, _) = self.rules(rules, cx, Some(Ty::Cat));
                (ir::Body::Rules(rules), Ty::Cat)
            }
            ItemKind::Table(t) => (ir::Body::Table(self.table(t, cx)), Ty::Cat),
            _ => unreachable!("only definitions have ids"),
        };
        self.bodies[id] = Some(body);
        self.def_ty[id] = ty;
        self.def_state[id] = State::Done;
        ty
    }

    fn rules(&mut self, rules: &[ast::Rule], cx: Cx, want: Option<Ty>) -> (Vec<ir::Rule>, Ty) {
        let mut out = vec![];
        let mut ty: Option<Ty> = want;
        for r in rules {
            let head = self.expr(&r.head, cx, ty.or(Some(Ty::Cat)).filter(|t| *t == Ty::Cat));
            match ty {
                None => ty = Some(head.ty),
                Some(t) if !compatible(t, head.ty) => {
                    let msg = if want == Some(Ty::Cat) {
                        format!(
                            "a response rule must give a category, but this is {}",
                            head.ty.describe()
                        )
                    } else {
                        format!(
                            "rules give different kinds of value: {} here, {} above",
                            head.ty.describe(),
                            t.describe()
                        )
                    };
                    let d = Diag::error("crit::type", msg)
                        .label(r.head.span, head.ty.describe())
                        .help("every rule of a list gives the same kind of value (a category for responses)");
                    self.err(cx.src, d);
                }
                _ => {}
            }
            let cond = r.cond.as_ref().map(|c| {
                let c = self.expr(c, cx, None);
                self.expect_bool(&c, cx, "the condition after `when`");
                c
            });
            let line = ir::line_of(self.m.sources[cx.src].inner(), r.span.start);
            out.push(ir::Rule {
                head,
                cond,
                reason: r.reason.clone(),
                cite: r.cite.clone(),
                span: r.span,
                line,
            });
        }
        if let Some(last) = rules.last() {
            if last.cond.is_some() {
                let d = Diag::error(
                    "crit::incomplete-rules",
                    "the last rule has a condition, so some cases get no value",
                )
                .label(last.span, "what if this condition is false?")
                .help("end the list with a rule that always applies: `... otherwise`");
                self.err(cx.src, d);
            }
        }
        (out, ty.unwrap_or(Ty::Error))
    }

    fn expect_bool(&mut self, e: &ir::Expr, cx: Cx, what: &str) {
        if e.ty != Ty::Bool && e.ty != Ty::Error {
            let d = Diag::error(
                "crit::type",
                format!(
                    "{what} must be a condition, but this is {}",
                    e.ty.describe()
                ),
            )
            .label(e.span, e.ty.describe())
            .help("compare it, e.g. `x >= 5 mm`, or use a yes/no definition");
            self.err(cx.src, d);
        }
    }

    fn expect_num(&mut self, e: &ir::Expr, cx: Cx, what: &str) -> Option<(Dim, bool)> {
        match e.ty {
            Ty::Num { dim, pct } => Some((dim, pct)),
            Ty::Error => None,
            t => {
                let d = Diag::error(
                    "crit::type",
                    format!("{what} must be a number, but this is {}", t.describe()),
                )
                .label(e.span, t.describe())
                .help("only numbers with units take part in arithmetic and sums");
                self.err(cx.src, d);
                None
            }
        }
    }

    fn table(&mut self, t: &ast::Table, cx: Cx) -> ir::Table {
        let columns: Vec<ir::Expr> = t.columns.iter().map(|c| self.expr(c, cx, None)).collect();
        for c in &columns {
            if !matches!(c.ty, Ty::Cat | Ty::Bool | Ty::Error) {
                let d = Diag::error("crit::type", format!("a table column must be a category or a condition, but this is {}", c.ty.describe()))
                    .label(c.span, c.ty.describe())
                    .help("tables decide on categories (responses) or yes/no conditions; compare numbers in a `value` first");
                self.err(cx.src, d);
            }
        }
        let mut rows = vec![];
        for row in &t.rows {
            if row.cells.len() != columns.len() {
                let d = Diag::error(
                    "crit::table",
                    format!(
                        "this row has {} cells but the table has {} columns",
                        row.cells.len(),
                        columns.len()
                    ),
                )
                .label(row.span, "wrong number of cells")
                .label(t.header_span, "columns declared here")
                .help("write one cell per column, `-` for any value");
                self.err(cx.src, d);
                continue;
            }
            let mut cells = vec![];
            for (cell, col) in row.cells.iter().zip(&columns) {
                cells.push(match cell {
                    ast::Cell::Any(_) => ir::Cell::Any,
                    ast::Cell::Is(names) => ir::Cell::Set(self.cell_lits(names, col.ty, cx)),
                    ast::Cell::Not(names) => ir::Cell::Not(self.cell_lits(names, col.ty, cx)),
                });
            }
            let output = self.category(&row.output, cx).unwrap_or(0);
            let line = ir::line_of(self.m.sources[cx.src].inner(), row.span.start);
            rows.push(ir::Row {
                cells,
                output,
                label: row.label.clone(),
                span: row.span,
                line,
            });
        }
        ir::Table {
            columns,
            hit: t.hit,
            rows,
        }
    }

    fn cell_lits(&mut self, names: &[ast::Name], ty: Ty, cx: Cx) -> Vec<Lit> {
        names
            .iter()
            .filter_map(|n| match ty {
                Ty::Bool => match n.node.as_str() {
                    "true" | "yes" => Some(Lit::Bool(true)),
                    "false" | "no" => Some(Lit::Bool(false)),
                    _ => {
                        let d = Diag::error(
                            "crit::table",
                            format!("`{}` is not a value of a yes/no column", n.node),
                        )
                        .label(n.span, "expected true or false")
                        .help("cells of a condition column are `true`, `false` or `-`");
                        self.err(cx.src, d);
                        None
                    }
                },
                _ => self.category(n, cx).map(Lit::Cat),
            })
            .collect()
    }

    pub fn category(&mut self, n: &ast::Name, cx: Cx) -> Option<usize> {
        if let Some(&c) = self.cats_by_src[cx.src].get(&n.node) {
            return Some(c);
        }
        let names: Vec<String> = self.cats_by_src[cx.src].keys().cloned().collect();
        let mut d = Diag::error(
            "crit::unknown-name",
            format!("unknown category `{}`", n.node),
        )
        .label(n.span, "not a declared category");
        d = match did_you_mean(&n.node, names.iter().map(|s| s.as_str())) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => {
                let mut all: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                all.sort();
                d.help(format!(
                    "declare it under `categories`; the categories are: {}",
                    all.join(", ")
                ))
            }
        };
        self.err(cx.src, d);
        None
    }

    fn group_def(&mut self, g: GroupId) {
        match self.group_state[g] {
            State::Done => return,
            State::Busy => {
                let slot = &self.m.slots[self.group_slot[g]];
                let d = Diag::error(
                    "crit::cycle",
                    format!(
                        "group `{}` is defined in terms of itself",
                        slot.item.name.node
                    ),
                )
                .label(slot.item.name.span, "defined here")
                .help("build groups from `lesions` or from other groups");
                self.err(slot.src, d);
                return;
            }
            State::New => {}
        }
        self.group_state[g] = State::Busy;
        let si = self.group_slot[g];
        let cx = Cx {
            lesion: false,
            ..self.slot_cx(si)
        };
        let item = &self.m.slots[si].item;
        let ItemKind::Group(ge) = &item.kind else {
            unreachable!()
        };
        let group = self.group(ge, cx);
        self.groups[g] = Some(ir::GroupDef {
            name: item.name.node.clone(),
            group,
            description: item.description.clone(),
        });
        self.group_state[g] = State::Done;
    }

    fn group_name(&mut self, n: &ast::Name, cx: Cx) -> Option<GroupId> {
        match self.syms.get(&n.node) {
            Some(Sym::Group(g)) => {
                let g = *g;
                self.group_def(g);
                Some(g)
            }
            _ => {
                let groups: Vec<String> = self
                    .syms
                    .iter()
                    .filter(|(_, s)| matches!(s, Sym::Group(_)))
                    .map(|(k, _)| k.clone())
                    .chain(["lesions".to_string()])
                    .collect();
                let mut d = Diag::error(
                    "crit::unknown-name",
                    format!("unknown lesion group `{}`", n.node),
                )
                .label(n.span, "not a group");
                d = match did_you_mean(&n.node, groups.iter().map(|s| s.as_str())) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("declare it: `group NAME = lesions where CONDITION`; `lesions` is every lesion of the assessment"),
                };
                self.err(cx.src, d);
                None
            }
        }
    }

    fn group(&mut self, g: &ast::GroupExpr, cx: Cx) -> ir::Group {
        let lcx = Cx { lesion: true, ..cx };
        match g {
            ast::GroupExpr::Named(n) if n.node == "lesions" => ir::Group::All,
            ast::GroupExpr::Named(n) => match self.group_name(n, cx) {
                Some(g) => ir::Group::Named(g),
                None => ir::Group::All,
            },
            ast::GroupExpr::Where(base, cond) => {
                let base = self.group(base, cx);
                let c = self.expr(cond, lcx, None);
                self.expect_bool(&c, cx, "a group filter after `where`");
                ir::Group::Where(Box::new(base), c)
            }
            ast::GroupExpr::Except(base, n) => {
                let base = self.group(base, cx);
                match self.group_name(n, cx) {
                    Some(other) => ir::Group::Except(Box::new(base), other),
                    None => base,
                }
            }
            ast::GroupExpr::Top {
                n,
                of,
                key,
                per_organ,
                ..
            } => {
                let of = self.group(&ast::GroupExpr::Named(of.clone()), cx);
                let n = self.expr(n, cx, None);
                self.expect_plain(&n, cx, "the number of lesions to select");
                let key = self.expr(key, lcx, None);
                self.expect_num(&key, cx, "the value lesions are ranked by");
                let per_organ = per_organ.as_ref().map(|p| {
                    let p = self.expr(p, cx, None);
                    self.expect_plain(&p, cx, "the limit per organ");
                    p
                });
                ir::Group::Top {
                    n,
                    of: Box::new(of),
                    key,
                    per_organ,
                }
            }
        }
    }

    fn expect_plain(&mut self, e: &ir::Expr, cx: Cx, what: &str) {
        if let Some((dim, _)) = self.expect_num(e, cx, what) {
            if !dim.is_none() {
                let d = Diag::error(
                    "crit::unit",
                    format!("{what} must be a plain count, but this is in {dim}"),
                )
                .label(e.span, format!("{dim}"))
                .help("write a plain number, e.g. `5`");
                self.err(cx.src, d);
            }
        }
    }

    fn reference(&mut self, r: &ast::Reference, cx: Cx) -> ir::Ref {
        match r {
            ast::Reference::Baseline => ir::Ref::Baseline,
            ast::Reference::Previous => ir::Ref::Previous,
            ast::Reference::StartOf(c) => ir::Ref::StartOf(self.category(c, cx).unwrap_or(0)),
            ast::Reference::Last(n) => match self.syms.get(&n.node).copied() {
                Some(Sym::Def(d)) if self.def_level[d] == DefLevel::Assessment => {
                    let ty = if self.def_state[d] == State::Busy {
                        self.def_ty[d]
                    } else {
                        self.def(d)
                    };
                    if ty != Ty::Bool && ty != Ty::Error {
                        let diag = Diag::error("crit::type", format!("`last {}` needs a condition, but `{}` is {}", n.node, n.node, ty.describe()))
                            .label(n.span, ty.describe())
                            .help("`x at last C` is x at the latest earlier assessment where the condition C held; to get a response's latest evaluable value write `last(R)`");
                        self.err(cx.src, diag);
                    }
                    ir::Ref::Last(d)
                }
                _ => {
                    let d = self.unknown_name(&n.node, n.span, cx);
                    self.err(cx.src, d);
                    ir::Ref::Baseline
                }
            },
        }
    }

    fn unknown_name(&self, name: &str, span: Span, cx: Cx) -> Diag {
        let mut cands: Vec<&str> = self.syms.keys().map(|s| s.as_str()).collect();
        cands.extend(self.cats_by_src[cx.src].keys().map(|s| s.as_str()));
        if cx.lesion {
            cands.extend(FIELDS);
        }
        let mut d = Diag::error("crit::unknown-name", format!("unknown name `{name}`"))
            .label(span, "not defined");
        let renamed = self
            .m
            .categories
            .iter()
            .find(|c| c.name != name && c.names.iter().flatten().any(|n| n == name));
        if let Some(c) = renamed {
            d = d.help(format!(
                "the category `{name}` is called `{}` in this ruleset (renamed)",
                c.name
            ));
        } else if name.contains('-') || name.contains('/') {
            d = d.help("names may contain `-` and `/`; if you meant subtraction or division, put spaces around the operator");
        } else if let Some(s) = did_you_mean(name, cands) {
            d = d.help(format!("did you mean `{s}`?"));
        } else if !cx.lesion && FIELDS.contains(&name) {
            d = d.help(format!("`{name}` is a lesion field: use it inside a lesion definition or a group condition"));
        } else {
            d = d.help(
                "define it with `value`, `lesion`, `param` or `input`, or declare it as a category",
            );
        }
        d
    }

    /// A name in expression position. `hint` steers names that are both (e.g. `target` is a role
    /// and a response).
    fn name(&mut self, s: &str, span: Span, cx: Cx, hint: Option<Ty>) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        match hint {
            Some(Ty::Status) => {
                if let Some(st) = ir::Status::parse(s) {
                    return mk(K::Lit(Lit::Status(st)), Ty::Status);
                }
            }
            Some(Ty::Role) => {
                if let Some(r) = ir::Role::parse(s) {
                    return mk(K::Lit(Lit::Role(r)), Ty::Role);
                }
            }
            Some(Ty::Cat) => {
                if let Some(&c) = self.cats_by_src[cx.src].get(s) {
                    return mk(K::Lit(Lit::Cat(c)), Ty::Cat);
                }
            }
            _ => {}
        }
        if cx.lesion {
            let f = match s {
                "status" => Some((ir::Field::Status, Ty::Status)),
                "role" => Some((ir::Field::Role, Ty::Role)),
                "nodal" => Some((ir::Field::Nodal, Ty::Bool)),
                "organ" => Some((ir::Field::Organ, Ty::Text)),
                "id" => Some((ir::Field::Id, Ty::Text)),
                _ => None,
            };
            if let Some((f, ty)) = f {
                return mk(K::Field(f), ty);
            }
        }
        if cx.organ && !cx.lesion && s == "organ" {
            return mk(K::Field(ir::Field::Organ), Ty::Text);
        }
        match self.syms.get(s).copied() {
            Some(Sym::Def(d)) => {
                if self.def_level[d] == DefLevel::Organ && (cx.lesion || !cx.organ) {
                    let diag = Diag::error("crit::level", format!("`{s}` is a per-organ definition, used here outside an organ"))
                        .label(span, "one value per organ")
                        .help(format!("aggregate it over organs, e.g. `count(organs where {s} ...)` or `any(organs: {s} ...)`"));
                    self.err(cx.src, diag);
                    return mk(K::Def(d), Ty::Error);
                }
                if self.def_level[d] == DefLevel::Lesion && !cx.lesion {
                    let diag = Diag::error("crit::level", format!("`{s}` is a per-lesion definition, used here outside a lesion"))
                        .label(span, "one value per lesion")
                        .help(format!("aggregate it over a group, e.g. `sum({s} of targets)` or `all(targets: {s} ...)`"));
                    self.err(cx.src, diag);
                    return mk(K::Def(d), Ty::Error);
                }
                let ty = self.def(d);
                mk(K::Def(d), ty)
            }
            Some(Sym::Param(p)) => mk(K::Param(p), self.params[p].ty),
            Some(Sym::Input(i)) => {
                let inp = &self.inputs[i];
                if inp.level == ir::InputLevel::Lesion && !cx.lesion {
                    let diag = Diag::error(
                        "crit::level",
                        format!("`{s}` is a lesion measurement, used here outside a lesion"),
                    )
                    .label(span, "one value per lesion")
                    .help(format!(
                        "aggregate it over a group, e.g. `max({s} of lesions)`"
                    ));
                    self.err(cx.src, diag);
                    return mk(K::Input(i), Ty::Error);
                }
                mk(
                    K::Input(i),
                    if self.bad_inputs[i] {
                        Ty::Error
                    } else {
                        Ty::num(inp.dim)
                    },
                )
            }
            Some(Sym::Group(_)) => {
                let diag = Diag::error(
                    "crit::type",
                    format!("`{s}` is a lesion group, not a value"),
                )
                .label(span, "a group")
                .help(format!(
                    "use it in an aggregate: `count({s})`, `sum(size of {s})`, `any({s}: ...)`"
                ));
                self.err(cx.src, diag);
                mk(K::Bool(false), Ty::Error)
            }
            None => {
                if let Some(&c) = self.cats_by_src[cx.src].get(s) {
                    return mk(K::Lit(Lit::Cat(c)), Ty::Cat);
                }
                if let Some(st) = ir::Status::parse(s) {
                    return mk(K::Lit(Lit::Status(st)), Ty::Status);
                }
                if let Some(r) = ir::Role::parse(s) {
                    return mk(K::Lit(Lit::Role(r)), Ty::Role);
                }
                let d = self.unknown_name(s, span, cx);
                self.err(cx.src, d);
                mk(K::Bool(false), Ty::Error)
            }
        }
    }

    pub fn expr(&mut self, e: &ast::Expr, cx: Cx, hint: Option<Ty>) -> ir::Expr {
        use ir::ExprKind as K;
        let span = e.span;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        match &e.kind {
            E::Number(d, unit) => match unit {
                None => mk(K::Num(*d), Ty::num(Dim::NONE)),
                Some(u) => match units::lookup(&u.node) {
                    Some(un) => mk(
                        K::Num(*d * un.factor),
                        Ty::Num {
                            dim: un.dim,
                            pct: un.percent,
                        },
                    ),
                    None => {
                        let diag = unknown_unit(&u.node, u.span);
                        self.err(cx.src, diag);
                        mk(K::Num(*d), Ty::Error)
                    }
                },
            },
            E::Bool(b) => mk(K::Bool(*b), Ty::Bool),
            E::Str(s) => mk(K::Lit(Lit::Text(s.clone())), Ty::Text),
            E::Name(s) => self.name(s, span, cx, hint),
            E::Super => match cx.super_def {
                Some(d) => {
                    let ty = self.def(d);
                    mk(K::Def(d), ty)
                }
                None => {
                    let diag = Diag::error("crit::super", "`super` outside an override")
                        .label(span, "no parent definition here")
                        .help("`super` is the parent's value inside `override response/value/table ...`");
                    self.err(cx.src, diag);
                    mk(K::Bool(false), Ty::Error)
                }
            },
            E::SuperCall(args) => match cx.super_def {
                Some(d) => {
                    self.def(d);
                    self.table_call(d, args, span, cx)
                }
                None => {
                    let diag = Diag::error("crit::super", "`super(...)` outside an override")
                        .label(span, "no parent table here")
                        .help("`super(a, b, c)` looks up the parent's table with other inputs, inside an override");
                    self.err(cx.src, diag);
                    mk(K::Bool(false), Ty::Error)
                }
            },
            E::Call(name, args, since) => self.call(name, args, since.as_ref(), span, cx),
            E::Agg(f, elem, group) => {
                // Over organs: `count(organs where ...)`, `any(organs: ...)`.
                let organs = match group {
                    ast::GroupExpr::Named(n) if n.node == "organs" => Some(None),
                    ast::GroupExpr::Where(b, c) if matches!(&**b, ast::GroupExpr::Named(n) if n.node == "organs") => {
                        Some(Some(c))
                    }
                    _ => None,
                };
                if let Some(filter) = organs {
                    let ocx = Cx {
                        lesion: false,
                        organ: true,
                        ..cx
                    };
                    let filter = filter.map(|c| {
                        let c = self.expr(c, ocx, None);
                        self.expect_bool(&c, cx, "an organ filter after `where`");
                        Box::new(c)
                    });
                    let elem = elem.as_ref().map(|x| self.expr(x, ocx, None));
                    let ty = self.agg_ty(*f, elem.as_ref(), span, cx);
                    return mk(K::OrganAgg(*f, elem.map(Box::new), filter), ty);
                }
                let g = self.group(group, cx);
                let lcx = Cx { lesion: true, ..cx };
                let elem = elem.as_ref().map(|x| self.expr(x, lcx, None));
                let ty = self.agg_ty(*f, elem.as_ref(), span, cx);
                mk(K::Agg(*f, elem.map(Box::new), Box::new(g)), ty)
            }
            E::DaysSince(r) => {
                let r = self.reference(r, cx);
                mk(K::DaysSince(r), Ty::num(Dim::TIME))
            }
            E::At(x, r) => {
                let x = self.expr(x, cx, hint);
                let r = self.reference(r, cx);
                let ty = x.ty;
                mk(K::At(Box::new(x), r), ty)
            }
            E::Neg(x) => {
                let x = self.expr(x, cx, None);
                let ty = match self.expect_num(&x, cx, "the operand of `-`") {
                    Some((dim, pct)) => Ty::Num { dim, pct },
                    None => Ty::Error,
                };
                mk(K::Neg(Box::new(x)), ty)
            }
            E::Bin(op, a, b) => {
                let a = self.expr(a, cx, None);
                let b = self.expr(b, cx, None);
                let ty = self.arith(*op, &a, &b, cx);
                mk(K::Bin(*op, Box::new(a), Box::new(b)), ty)
            }
            E::Cmp(op, a, b) => {
                let a = self.expr(a, cx, None);
                let h = match a.ty {
                    t @ (Ty::Cat | Ty::Status | Ty::Role | Ty::Text) => Some(t),
                    _ => None,
                };
                let b = self.expr(b, cx, h);
                self.compare(*op, &a, &b, cx);
                mk(K::Cmp(*op, Box::new(a), Box::new(b)), Ty::Bool)
            }
            E::In(x, items, negated) => {
                let x = self.expr(x, cx, None);
                let lits = items
                    .iter()
                    .filter_map(|it| self.set_item(it, x.ty, cx))
                    .collect();
                mk(K::In(Box::new(x), lits, *negated), Ty::Bool)
            }
            E::Not(x) => {
                let x = self.expr(x, cx, None);
                self.expect_bool(&x, cx, "the operand of `not`");
                mk(K::Not(Box::new(x)), Ty::Bool)
            }
            E::And(xs) | E::Or(xs) => {
                let xs: Vec<ir::Expr> = xs.iter().map(|x| self.expr(x, cx, None)).collect();
                for x in &xs {
                    self.expect_bool(x, cx, "each side of `and`/`or`");
                }
                mk(
                    if matches!(e.kind, E::And(_)) {
                        K::And(xs)
                    } else {
                        K::Or(xs)
                    },
                    Ty::Bool,
                )
            }
            E::If(c, a, b) => {
                let c = self.expr(c, cx, None);
                self.expect_bool(&c, cx, "the condition after `if`");
                let a = self.expr(a, cx, hint);
                let b = self.expr(b, cx, hint.or(Some(a.ty)).filter(|t| *t == Ty::Cat));
                let ty = if compatible(a.ty, b.ty) {
                    merge_ty(a.ty, b.ty)
                } else {
                    let diag = Diag::error(
                        "crit::type",
                        format!(
                            "the two branches differ: {} and {}",
                            a.ty.describe(),
                            b.ty.describe()
                        ),
                    )
                    .label(a.span, a.ty.describe())
                    .label(b.span, b.ty.describe())
                    .help(
                        "both branches of `a if c else b` must be the same kind, in the same unit",
                    );
                    self.err(cx.src, diag);
                    Ty::Error
                };
                mk(K::If(Box::new(c), Box::new(a), Box::new(b)), ty)
            }
        }
    }

    /// The type of an aggregate from its function and element.
    fn agg_ty(&mut self, f: ast::AggFn, elem: Option<&ir::Expr>, span: Span, cx: Cx) -> Ty {
        match (f, elem) {
            (ast::AggFn::Count, None) => Ty::num(Dim::NONE),
            (ast::AggFn::Count, Some(x)) => {
                let diag = Diag::error("crit::aggregate", "`count` counts the lesions of a group")
                    .label(x.span, "not expected here")
                    .help("filter the group instead: `count(targets where status = absent)`");
                self.err(cx.src, diag);
                Ty::Error
            }
            (ast::AggFn::All | ast::AggFn::Any, Some(x)) => {
                self.expect_bool(x, cx, "the condition of `all`/`any`");
                Ty::Bool
            }
            (ast::AggFn::Sum | ast::AggFn::Max | ast::AggFn::Min, Some(x)) => {
                match self.expect_num(x, cx, "the value summed") {
                    Some((dim, pct)) => Ty::Num { dim, pct },
                    None => Ty::Error,
                }
            }
            (_, None) => {
                let diag = Diag::error("crit::aggregate", "this aggregate needs a value per lesion")
                            .label(span, "no value given")
                            .help("write `sum(size of targets)`, `max(sul_peak of lesions)` or `all(targets: size = 0 mm)`");
                self.err(cx.src, diag);
                Ty::Error
            }
        }
    }

    fn set_item(&mut self, it: &ast::Name, ty: Ty, cx: Cx) -> Option<Lit> {
        match ty {
            Ty::Cat => self.category(it, cx).map(Lit::Cat),
            Ty::Status => ir::Status::parse(&it.node).map(Lit::Status).or_else(|| {
                let d = Diag::error(
                    "crit::unknown-name",
                    format!("unknown lesion status `{}`", it.node),
                )
                .label(it.span, "not a status")
                .help(format!(
                    "{}the statuses are: {}",
                    did_you_mean(&it.node, ir::Status::ALL.iter().map(|s| s.name()))
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default(),
                    ir::Status::ALL
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                self.err(cx.src, d);
                None
            }),
            Ty::Role => ir::Role::parse(&it.node).map(Lit::Role).or_else(|| {
                let d = Diag::error(
                    "crit::unknown-name",
                    format!("unknown lesion role `{}`", it.node),
                )
                .label(it.span, "not a role")
                .help("the roles are: target, non-target, new");
                self.err(cx.src, d);
                None
            }),
            Ty::Text => Some(Lit::Text(it.node.clone())),
            Ty::Error => None,
            t => {
                let d = Diag::error(
                    "crit::type",
                    format!(
                        "`in {{...}}` needs a category, status, role or text, not {}",
                        t.describe()
                    ),
                )
                .label(it.span, "cannot be a member")
                .help("compare numbers with <, <=, >, >=");
                self.err(cx.src, d);
                None
            }
        }
    }

    fn arith(&mut self, op: ast::BinOp, a: &ir::Expr, b: &ir::Expr, cx: Cx) -> Ty {
        let (Some((da, pa)), Some((db, pb))) = (
            self.expect_num(a, cx, "an operand"),
            self.expect_num(b, cx, "an operand"),
        ) else {
            return Ty::Error;
        };
        match op {
            ast::BinOp::Add | ast::BinOp::Sub => {
                if da != db {
                    let word = if op == ast::BinOp::Add {
                        "add"
                    } else {
                        "subtract"
                    };
                    let d = unit_mismatch(
                        format!("cannot {word} {} and {}", dim_words(da), dim_words(db)),
                        a,
                        b,
                    );
                    self.err(cx.src, d);
                    return Ty::Error;
                }
                Ty::Num {
                    dim: da,
                    pct: pa || pb,
                }
            }
            ast::BinOp::Mul => {
                let dim = da.times(db);
                Ty::Num {
                    dim,
                    pct: dim.is_none() && (pa || pb),
                }
            }
            ast::BinOp::Div => {
                let dim = da.per(db);
                Ty::Num {
                    dim,
                    pct: dim.is_none() && (pa || pb || (da == db && !da.is_none())),
                }
            }
        }
    }

    fn compare(&mut self, op: ast::CmpOp, a: &ir::Expr, b: &ir::Expr, cx: Cx) {
        if a.ty == Ty::Error || b.ty == Ty::Error {
            return;
        }
        match (a.ty, b.ty) {
            (Ty::Num { dim: da, .. }, Ty::Num { dim: db, .. }) => {
                if da != db {
                    let d = unit_mismatch(
                        format!("cannot compare {} with {}", dim_words(da), dim_words(db)),
                        a,
                        b,
                    );
                    self.err(cx.src, d);
                }
            }
            (x, y) if x == y => {
                if !matches!(op, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                    let d = Diag::error("crit::type", format!("`{}` orders numbers, but these are {}", op.symbol(), x.describe()))
                        .label(a.span, x.describe())
                        .help("categories, statuses and conditions are compared with `=`, `!=` or `in {...}`");
                    self.err(cx.src, d);
                }
            }
            (x, y) => {
                let d = Diag::error(
                    "crit::type",
                    format!("cannot compare {} with {}", x.describe(), y.describe()),
                )
                .label(a.span, x.describe())
                .label(b.span, y.describe())
                .help("both sides of a comparison must be the same kind of value");
                self.err(cx.src, d);
            }
        }
    }

    fn table_call(&mut self, d: DefId, args: &[ast::Expr], span: Span, cx: Cx) -> ir::Expr {
        let ncols = match &self.m.slots[self.def_slot[d]].item.kind {
            ItemKind::Table(t) => Some(t.columns.len()),
            _ => None,
        };
        let args: Vec<ir::Expr> = args
            .iter()
            .map(|a| self.expr(a, cx, Some(Ty::Cat)))
            .collect();
        match ncols {
            Some(n) if n == args.len() => ir::Expr {
                kind: ir::ExprKind::TableCall(d, args),
                ty: Ty::Cat,
                span,
            },
            Some(n) => {
                let diag = Diag::error(
                    "crit::arity",
                    format!(
                        "this table has {n} columns but {} values are given",
                        args.len()
                    ),
                )
                .label(span, "wrong number of values")
                .help("give one value per column, in the order of the table's header");
                self.err(cx.src, diag);
                ir::Expr {
                    kind: ir::ExprKind::Bool(false),
                    ty: Ty::Error,
                    span,
                }
            }
            None => {
                let diag = Diag::error(
                    "crit::type",
                    format!(
                        "`{}` is not a table, so it cannot be looked up with values",
                        self.m.slots[self.def_slot[d]].item.name.node
                    ),
                )
                .label(span, "not a table")
                .help("only decision tables take values in parentheses");
                self.err(cx.src, diag);
                ir::Expr {
                    kind: ir::ExprKind::Bool(false),
                    ty: Ty::Error,
                    span,
                }
            }
        }
    }

    fn call(
        &mut self,
        name: &ast::Name,
        args: &[ast::Expr],
        since: Option<&ast::Reference>,
        span: Span,
        cx: Cx,
    ) -> ir::Expr {
        use ir::ExprKind as K;
        let mk = |kind, ty| ir::Expr { kind, ty, span };
        let f = name.node.as_str();
        if let Some(Sym::Def(d)) = self.syms.get(f).copied() {
            return self.table_call(d, args, span, cx);
        }
        if !FUNCTIONS.contains(&f) {
            let tables: Vec<&str> = self
                .syms
                .iter()
                .filter(|(_, s)| matches!(s, Sym::Def(_)))
                .map(|(k, _)| k.as_str())
                .collect();
            let mut d = Diag::error("crit::unknown-name", format!("unknown function `{f}`"))
                .label(name.span, "not a function");
            d = match did_you_mean(f, FUNCTIONS.iter().copied().chain(tables)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("the functions are: {}", FUNCTIONS.join(", "))),
            };
            self.err(cx.src, d);
            return mk(K::Bool(false), Ty::Error);
        }
        let want = if matches!(f, "min" | "max") { 2 } else { 1 };
        if args.len() != want {
            let d = Diag::error(
                "crit::arity",
                format!(
                    "`{f}` takes {want} value{}, not {}",
                    if want == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .label(span, "wrong number of values")
            .help(if matches!(f, "min" | "max") {
                "for the largest value over a group write `max(x of group)`"
            } else {
                "e.g. `baseline(sum)`"
            });
            self.err(cx.src, d);
            return mk(K::Bool(false), Ty::Error);
        }
        if since.is_some() && f != "nadir" {
            let d = Diag::error(
                "crit::syntax",
                format!("`since` only goes with `nadir`, not `{f}`"),
            )
            .label(span, "here")
            .help("write `nadir(x since last reset)` for the smallest value since a reference");
            self.err(cx.src, d);
        }
        let a = self.expr(&args[0], cx, None);
        let ty = a.ty;
        match f {
            "baseline" => mk(K::At(Box::new(a), ir::Ref::Baseline), ty),
            "previous" => mk(K::At(Box::new(a), ir::Ref::Previous), ty),
            "last" => mk(K::Last(Box::new(a)), ty),
            "nadir" => {
                self.expect_num(&a, cx, "the value of `nadir`");
                let r = since
                    .map(|r| self.reference(r, cx))
                    .unwrap_or(ir::Ref::Baseline);
                mk(K::Nadir(Box::new(a), r), ty)
            }
            "ever" => {
                self.expect_bool(&a, cx, "the value of `ever`");
                mk(K::Ever(Box::new(a)), Ty::Bool)
            }
            "known" => mk(K::Known(Box::new(a)), Ty::Bool),
            "definitely" => {
                self.expect_bool(&a, cx, "the value of `definitely`");
                mk(K::Definitely(Box::new(a)), Ty::Bool)
            }
            "abs" => {
                self.expect_num(&a, cx, "the value of `abs`");
                mk(K::Abs(Box::new(a)), ty)
            }
            _ => {
                let b = self.expr(&args[1], cx, None);
                self.arith(ast::BinOp::Sub, &a, &b, cx);
                let ty = merge_ty(a.ty, b.ty);
                if f == "min" {
                    mk(K::Min2(Box::new(a), Box::new(b)), ty)
                } else {
                    mk(K::Max2(Box::new(a), Box::new(b)), ty)
                }
            }
        }
    }

    fn best(&mut self) -> Option<ir::Best> {
        let si = self
            .m
            .slots
            .iter()
            .rposition(|s| matches!(s.item.kind, ItemKind::Best(_)) && !s.hidden)?;
        let slot = &self.m.slots[si];
        let cx = Cx {
            src: slot.src,
            lesion: false,
            organ: false,
            super_def: None,
        };
        let ItemKind::Best(lines) = &slot.item.kind else {
            unreachable!()
        };
        let mut b = ir::Best {
            src: slot.src,
            line: ir::line_of(self.m.sources[slot.src].inner(), slot.item.span.start),
            origin: slot.origin.clone(),
            ..Default::default()
        };
        let text = self.m.sources[slot.src].inner().clone();
        for l in lines {
            match l {
                ast::BestLine::Rank(cats, _) => b.rank = self.cats_of(cats, cx),
                ast::BestLine::StopAfter(cats, _) => b.stop_after = self.cats_of(cats, cx),
                ast::BestLine::Require {
                    cats,
                    min,
                    anchor,
                    fallback,
                    guard,
                    span,
                } => {
                    let cats = self.cats_of(cats, cx);
                    let min = self.duration(min, cx);
                    let fallback = self.category(fallback, cx).unwrap_or(0);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.requires.push(ir::Require {
                        cats,
                        min,
                        anchor: *anchor,
                        fallback,
                        guard,
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::Confirm {
                    cats,
                    by,
                    min,
                    fallback,
                    guard,
                    span,
                } => {
                    let cats = self.cats_of(cats, cx);
                    let by = self.cats_of(by, cx);
                    let min = self.duration(min, cx);
                    let fallback = self.category(fallback, cx).unwrap_or(0);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.confirms.push(ir::Confirm {
                        cats,
                        by,
                        min,
                        fallback,
                        guard,
                        line: ir::line_of(&text, span.start),
                    });
                }
                ast::BestLine::AllowNe { max, ne, guard, .. } => {
                    let max = self.expr(max, cx, None);
                    self.expect_plain(&max, cx, "the number of not-evaluable assessments allowed");
                    self.constant(&max, cx);
                    let ne = self.category(ne, cx).unwrap_or(0);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.allow_ne = Some((max, ne, guard));
                }
                ast::BestLine::AllowCats { cats, guard, .. } => {
                    let cats = self.cats_of(cats, cx);
                    let guard = self.guard(guard.as_ref(), cx);
                    b.allow_between.push((cats, guard));
                }
                ast::BestLine::Relabel {
                    from,
                    to,
                    followed_by,
                    ..
                } => {
                    let f = self.category(from, cx).unwrap_or(0);
                    let t = self.category(to, cx).unwrap_or(0);
                    let fb = self.category(followed_by, cx).unwrap_or(0);
                    b.relabels.push((f, t, fb));
                }
            }
        }
        Some(b)
    }

    fn cats_of(&mut self, names: &[ast::Name], cx: Cx) -> Vec<usize> {
        names.iter().filter_map(|n| self.category(n, cx)).collect()
    }

    fn duration(&mut self, e: &ast::Expr, cx: Cx) -> ir::Expr {
        let x = self.expr(e, cx, None);
        if let Some((dim, _)) = self.expect_num(&x, cx, "a duration") {
            if dim != Dim::TIME {
                let d = Diag::error(
                    "crit::unit",
                    format!(
                        "a duration must be in days or weeks, but this is {}",
                        dim_words(dim)
                    ),
                )
                .label(x.span, dim_words(dim))
                .help("write e.g. `42 days` or `6 weeks`");
                self.err(cx.src, d);
            }
        }
        self.constant(&x, cx);
        x
    }

    fn guard(&mut self, g: Option<&ast::Guard>, cx: Cx) -> ir::Guard {
        match g {
            None => ir::Guard::Always,
            Some(ast::Guard::When(e)) | Some(ast::Guard::Unless(e)) => {
                let x = self.expr(e, cx, None);
                self.expect_bool(&x, cx, "the condition of a best-response line");
                self.constant(&x, cx);
                if matches!(g, Some(ast::Guard::When(_))) {
                    ir::Guard::When(x)
                } else {
                    ir::Guard::Unless(x)
                }
            }
        }
    }

    /// Best-response settings are fixed for a run: only params and literals.
    fn constant(&mut self, e: &ir::Expr, cx: Cx) {
        if !is_constant(e) {
            let d = Diag::error(
                "crit::best",
                "a best-response setting can only use params and numbers",
            )
            .label(e.span, "depends on the data")
            .help("declare a `param` and use it here");
            self.err(cx.src, d);
        }
    }
}

/// The type of a definition that its outermost form decides (conditions, categories).
fn shallow_ty(kind: &ItemKind) -> Option<Ty> {
    let e = match kind {
        ItemKind::Response(_) | ItemKind::Table(_) => return Some(Ty::Cat),
        ItemKind::Lesion(ast::Body::Expr(e)) | ItemKind::Value(ast::Body::Expr(e)) => e,
        _ => return None,
    };
    match &e.kind {
        E::Cmp(..) | E::In(..) | E::And(_) | E::Or(_) | E::Not(_) | E::Bool(_) => Some(Ty::Bool),
        E::Agg(ast::AggFn::All | ast::AggFn::Any, ..) => Some(Ty::Bool),
        _ => None,
    }
}

fn is_constant(e: &ir::Expr) -> bool {
    use ir::ExprKind as K;
    match &e.kind {
        K::Num(_) | K::Bool(_) | K::Lit(_) | K::Param(_) => true,
        K::Neg(x) | K::Not(x) | K::Abs(x) => is_constant(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            is_constant(a) && is_constant(b)
        }
        K::And(xs) | K::Or(xs) => xs.iter().all(is_constant),
        K::If(c, a, b) => is_constant(c) && is_constant(a) && is_constant(b),
        _ => false,
    }
}

fn compatible(a: Ty, b: Ty) -> bool {
    match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (Ty::Num { dim: x, .. }, Ty::Num { dim: y, .. }) => x == y,
        (x, y) => x == y,
    }
}

fn merge_ty(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Error, t) | (t, Ty::Error) => t,
        (Ty::Num { dim, pct: p }, Ty::Num { pct: q, .. }) => Ty::Num { dim, pct: p || q },
        (t, _) => t,
    }
}

fn dim_words(d: Dim) -> String {
    if d.is_none() {
        "a plain number".into()
    } else {
        format!("{d}")
    }
}

fn unit_mismatch(msg: String, a: &ir::Expr, b: &ir::Expr) -> Diag {
    let (Ty::Num { dim: da, .. }, Ty::Num { dim: db, .. }) = (a.ty, b.ty) else {
        unreachable!()
    };
    let plain = if da.is_none() {
        Some((a, db))
    } else if db.is_none() {
        Some((b, da))
    } else {
        None
    };
    let help = match plain {
        Some((_, other)) => {
            let (u, _) = units::display_unit(other, None);
            format!("give the number its unit, e.g. `5 {u}`")
        }
        None => {
            "both sides must be in the same dimension (mm with mm, SUL with SUL, days with days)"
                .into()
        }
    };
    Diag::error("crit::unit", msg)
        .label(a.span, dim_words(da))
        .label(b.span, dim_words(db))
        .help(help)
}

fn unknown_unit(u: &str, span: Span) -> Diag {
    let mut d = Diag::error("crit::unit", format!("unknown unit `{u}`")).label(span, "not a unit");
    d = match did_you_mean(u, units::unit_names()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!(
            "the units are: {}",
            units::unit_names().collect::<Vec<_>>().join(", ")
        )),
    };
    d
}
