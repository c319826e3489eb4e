//! Declarations: every definition gets its id and its symbol; params and inputs are read with
//! their units.

use rust_decimal::Decimal;

use super::types::{in_base_units, unknown_unit};
use super::{Resolver, State, Sym};
use crate::check::ir::{self, DefLevel, Ty};
use crate::check::merge::{kind_word, Slot};
use crate::diag::Diag;
use crate::syntax::ast::{self, ItemKind};
use crate::units::{self, Dim};

impl Resolver<'_> {
    /// Gives every definition its id, and reads params and inputs.
    pub(super) fn declare(&mut self) {
        let m = self.m;
        for (si, slot) in m.slots.iter().enumerate() {
            let item = &slot.item;
            let sym = match &item.kind {
                ItemKind::Input { .. } => Some(self.input(slot)),
                ItemKind::Param { value } => self.param(slot, value),
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
                | ItemKind::Table(_) => Some(self.definition(si)),
                ItemKind::Best(_) | ItemKind::Event(_) | ItemKind::Reject { .. } => None,
            };
            if let Some(sym) = sym {
                if slot.hidden {
                    continue;
                }
                let name = &item.name.node;
                if self.cats_by_src[slot.src].contains_key(name) {
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
                self.syms.insert(name.clone(), sym);
            }
        }
    }

    fn input(&mut self, slot: &Slot) -> Sym {
        let ItemKind::Input {
            level,
            ty,
            optional,
        } = &slot.item.kind
        else {
            unreachable!("called for inputs")
        };
        let level = match level {
            ast::Level::Lesion => ir::InputLevel::Lesion,
            ast::Level::Scan => ir::InputLevel::Scan,
            ast::Level::Subject => ir::InputLevel::Subject,
        };
        let (dim, factor, unit, choices, bad) = match ty {
            ast::InputType::Unit(unit) => match units::lookup(&unit.node) {
                Some(u) => (u.dim, u.factor, unit.node.clone(), vec![], false),
                None => {
                    let d = unknown_unit(&unit.node, unit.span);
                    self.err(slot.src, d);
                    (Dim::NONE, Decimal::ONE, unit.node.clone(), vec![], true)
                }
            },
            ast::InputType::Choice(values) => (
                Dim::NONE,
                Decimal::ONE,
                String::new(),
                self.choices(values, slot.src),
                false,
            ),
        };
        self.bad_inputs.push(bad);
        self.inputs.push(ir::Input {
            name: slot.item.name.node.clone(),
            level,
            dim,
            factor,
            unit,
            optional: *optional,
            choices,
        });
        Sym::Input(self.inputs.len() - 1)
    }

    /// The values of a categorical input: distinct, and few enough to index.
    fn choices(&mut self, values: &[ast::Name], src: usize) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for v in values {
            if out.contains(&v.node) {
                let d = Diag::error("crit::duplicate", format!("`{}` is listed twice", v.node))
                    .label(v.span, "listed before")
                    .help("list each value of a categorical input once");
                self.err(src, d);
            } else {
                out.push(v.node.clone());
            }
        }
        if out.len() > usize::from(u16::MAX) {
            out.truncate(usize::from(u16::MAX));
        }
        out
    }

    /// A param's value in base units; hidden (overridden) params get no symbol.
    fn param(&mut self, slot: &Slot, value: &ast::ParamValue) -> Option<Sym> {
        // A number (or `none`) with its unit: the value in base units and its type.
        let (number, unit) = match value {
            ast::ParamValue::Bool(_) => (None, None),
            ast::ParamValue::Number(d, u) => (Some(*d), u.as_ref()),
            ast::ParamValue::None(u) => (None, u.as_ref()),
        };
        let (value, ty, unit) = match (value, unit) {
            (ast::ParamValue::Bool(b), _) => (ir::ParamValue::Bool(*b), Ty::Bool, None),
            (_, None) => (
                number.map_or(ir::ParamValue::None, ir::ParamValue::Num),
                Ty::num(Dim::NONE),
                None,
            ),
            (_, Some(u)) => {
                let un = units::lookup(&u.node).ok_or_else(|| unknown_unit(&u.node, u.span));
                let v = un.and_then(|un| match number {
                    Some(d) => {
                        in_base_units(d, &un, &u.node, u.span).map(|v| (ir::ParamValue::Num(v), un))
                    }
                    None => Ok((ir::ParamValue::None, un)),
                });
                match v {
                    Ok((v, un)) => (
                        v,
                        Ty::Num {
                            dim: un.dim,
                            pct: un.percent,
                        },
                        Some(u.node.clone()),
                    ),
                    Err(diag) => {
                        self.err(slot.src, diag);
                        (ir::ParamValue::Num(Decimal::ZERO), Ty::Error, None)
                    }
                }
            }
        };
        if slot.hidden {
            return None;
        }
        self.params.push(ir::Param {
            name: slot.item.name.node.clone(),
            value,
            ty,
            unit,
            description: slot.item.description.clone(),
        });
        Some(Sym::Param(self.params.len() - 1))
    }

    /// A lesion, organ or assessment definition; its body is checked later, on demand.
    fn definition(&mut self, si: usize) -> Sym {
        let kind = &self.m.slots[si].item.kind;
        let id = self.def_slot.len();
        self.def_slot.push(si);
        self.def_level.push(match kind {
            ItemKind::Lesion(_) => DefLevel::Lesion,
            ItemKind::Organ(_) => DefLevel::Organ,
            _ => DefLevel::Assessment,
        });
        self.def_ty.push(
            if matches!(kind, ItemKind::Response(_) | ItemKind::Table(_)) {
                Ty::Cat
            } else {
                Ty::Error
            },
        );
        self.def_state.push(State::New);
        self.bodies.push(None);
        self.slot_def[si] = Some(id);
        Sym::Def(id)
    }
}
