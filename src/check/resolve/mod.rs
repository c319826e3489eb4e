//! Names, types and units: the merged syntax tree becomes the IR. Definitions are checked on
//! demand (a reference checks its target first), so the order of declarations is free.
//!
//! One concern per file: `declare` (symbols, params, inputs), `defs` (definition bodies and rule
//! lists), `names` (names, categories, temporal references), `exprs` (expressions, functions,
//! aggregates), `types` (type and unit checks), `groups`, `tables` (table bodies and lookups),
//! `best` (the best-response block).

mod best;
mod declare;
mod defs;
mod events;
mod exprs;
mod groups;
mod names;
mod tables;
mod types;

use std::collections::HashMap;

use super::ir::{self, DefId, DefLevel, GroupId, Ty};
use super::merge::Merged;
use super::resolved::Resolved;
use crate::diag::Diag;
use crate::syntax::ast::ItemKind;

/// On-demand checking recurses along chains of definitions and groups: when less stack than
/// the red zone is left, the chain goes on in a new segment of `STACK_GROWTH` bytes.
const STACK_RED_ZONE: usize = 256 << 10;
const STACK_GROWTH: usize = 4 << 20;

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

#[derive(Clone, Copy, PartialEq)]
enum State {
    New,
    Busy,
    Done,
}

struct Resolver<'a> {
    m: &'a Merged,
    diags: &'a mut Vec<Diag>,
    syms: HashMap<String, Sym>,
    /// Category names as each ruleset of the chain writes them (a child may rename).
    cats_by_src: Vec<HashMap<String, usize>>,
    slot_def: Vec<Option<DefId>>,
    def_slot: Vec<usize>,
    def_level: Vec<DefLevel>,
    def_ty: Vec<Ty>,
    def_state: Vec<State>,
    bodies: Vec<Option<ir::Body>>,
    params: Vec<ir::Param>,
    inputs: Vec<ir::Input>,
    /// Inputs whose unit is unknown: typed as errors so that no second error follows.
    bad_inputs: Vec<bool>,
    group_slot: Vec<usize>,
    group_state: Vec<State>,
    groups: Vec<Option<ir::GroupDef>>,
}

/// Resolves every name of the merged ruleset; errors go to `diags`, checking goes on after them.
pub fn resolve(m: &Merged, diags: &mut Vec<Diag>) -> Resolved {
    let mut r = Resolver {
        m,
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
    let events = r.events();
    let rejects = r.rejects();
    Resolved {
        slot_def: r.slot_def,
        def_slot: r.def_slot,
        def_level: r.def_level,
        def_ty: r.def_ty,
        bodies: r.bodies,
        params: r.params,
        inputs: r.inputs,
        groups: r.groups,
        group_slot: r.group_slot,
        best,
        events,
        rejects,
    }
}

impl Resolver<'_> {
    fn err(&mut self, src: usize, d: Diag) {
        self.diags.push(d.with_src(&self.m.sources[src]));
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
}
