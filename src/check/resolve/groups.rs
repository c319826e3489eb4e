//! Lesion groups: named groups (checked once; circles are reported by the dependency check),
//! filters, `except` and `top N`.

use super::{Cx, Resolver, State, Sym, STACK_GROWTH, STACK_RED_ZONE};
use crate::check::ir::{self, GroupId};
use crate::diag::{suggest, Diag};
use crate::syntax::ast::{self, ItemKind};

impl Resolver<'_> {
    pub(super) fn group_def(&mut self, g: GroupId) {
        match self.group_state[g] {
            // Referenced while being checked: a circle, which the dependency check reports with
            // its path once every group is known.
            State::Done | State::Busy => return,
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
        // A chain of groups declared in reverse order is checked by recursion, as deep as it is
        // long: grow the stack rather than limit how many groups a ruleset may have.
        let group = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || self.group(ge, cx));
        self.groups[g] = Some(ir::GroupDef {
            name: item.name.node.clone(),
            group,
            description: item.description.clone(),
        });
        self.group_state[g] = State::Done;
    }

    /// The `reject` declarations that apply (not those a child overrides).
    pub(super) fn rejects(&mut self) -> Vec<ir::Reject> {
        let m = self.m;
        let mut out = vec![];
        for (si, slot) in m.slots.iter().enumerate() {
            let ItemKind::Reject { group, at_baseline } = &slot.item.kind else {
                continue;
            };
            if slot.hidden {
                continue;
            }
            let cx = Cx {
                lesion: false,
                ..self.slot_cx(si)
            };
            let group = self.group(group, cx);
            let text = m.sources[slot.src].inner();
            out.push(ir::Reject {
                name: slot.item.name.node.clone(),
                message: slot.item.description.clone().unwrap_or_default(),
                cite: slot.item.cite.clone(),
                group,
                at_baseline: *at_baseline,
                src: slot.src,
                line: ir::line_of(text, slot.item.span.start),
            });
        }
        out
    }

    pub(super) fn group_name(&mut self, n: &ast::Name, cx: Cx) -> Option<GroupId> {
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
                d = d.help(suggest(&n.node, groups.iter().map(|s| s.as_str()), || {
                    "declare it: `group NAME = lesions where CONDITION`; `lesions` is every lesion of the assessment".into()
                }));
                self.err(cx.src, d);
                None
            }
        }
    }

    pub(super) fn group(&mut self, g: &ast::GroupExpr, cx: Cx) -> ir::Group {
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
}
