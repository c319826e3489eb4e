//! Event declarations: which assessment starts each event. Like the best-response block, their
//! conditions are fixed for a run (params and literals only).

use super::{Cx, Resolver};
use crate::check::ir;
use crate::syntax::ast::{self, ItemKind};

impl Resolver<'_> {
    pub(super) fn events(&mut self) -> Vec<ir::Event> {
        let mut out = vec![];
        for si in 0..self.m.slots.len() {
            let slot = &self.m.slots[si];
            let ItemKind::Event(lines) = &slot.item.kind else {
                continue;
            };
            if slot.hidden {
                continue;
            }
            let cx = Cx {
                src: slot.src,
                lesion: false,
                organ: false,
                super_def: None,
            };
            let text = self.m.sources[slot.src].inner().clone();
            let (name, description, cite, origin, src, start) = (
                slot.item.name.node.clone(),
                slot.item.description.clone(),
                slot.item.cite.clone(),
                slot.origin.clone(),
                slot.src,
                slot.item.span.start,
            );
            let lines = lines.clone();
            let lines = lines
                .iter()
                .map(|l| ir::EventLine {
                    cats: self.cats_of(&l.cats, cx),
                    confirmed: l.confirmed,
                    then: match &l.then {
                        ast::EventThen::Now => ir::EventThen::Now,
                        ast::EventThen::FollowedBy(c) => {
                            ir::EventThen::FollowedBy(self.cats_of(c, cx))
                        }
                        ast::EventThen::PendingAtEnd => ir::EventThen::PendingAtEnd,
                        ast::EventThen::UnlessNext(c) => {
                            ir::EventThen::UnlessNext(self.cats_of(c, cx))
                        }
                    },
                    guard: self.guard(l.guard.as_ref(), cx),
                    line: ir::line_of(&text, l.span.start),
                })
                .collect();
            out.push(ir::Event {
                name,
                description,
                cite,
                lines,
                src,
                line: ir::line_of(&text, start),
                origin,
            });
        }
        out
    }
}
