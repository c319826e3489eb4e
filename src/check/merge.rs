//! Composition: a ruleset and its ancestors become one list of definitions. `override` replaces
//! a parent's definition (kept, hidden, for `super`); redefining without `override` and
//! overriding what does not exist are errors.

use std::collections::HashMap;

use crate::diag::{suggest, Diag, Source};
use crate::syntax::ast::{self, ItemKind, Span};

pub struct MergedCategory {
    /// The final name (after every `rename`).
    pub name: String,
    /// The name each ruleset of the chain knows it by (`None` before it is declared).
    pub names: Vec<Option<String>>,
    pub class: Option<String>,
    pub description: Option<String>,
    /// Counts as a response (ORR) and as disease control (DCR).
    pub response: bool,
    pub control: bool,
    pub span: Span,
    pub src: usize,
}

/// One definition of the merged ruleset.
pub struct Slot {
    pub item: ast::Item,
    pub src: usize,
    pub origin: String,
    pub overrides: Option<String>,
    pub hidden: bool,
    /// The parent's definition this one overrides.
    pub super_slot: Option<usize>,
}

pub struct Merged {
    pub id: String,
    pub title: String,
    pub version: Option<String>,
    pub cites: Vec<String>,
    /// `chart NAME lines ...` of the nearest ruleset of the chain that has one (its lines
    /// with it), with its source.
    pub chart: Option<(ast::Chart, usize)>,
    pub sources: Vec<Source>,
    pub categories: Vec<MergedCategory>,
    pub slots: Vec<Slot>,
}

fn family(k: &ItemKind) -> &'static str {
    match k {
        ItemKind::Input { .. } => "input",
        ItemKind::Param { .. } => "param",
        ItemKind::Lesion(_) => "lesion",
        ItemKind::Organ(_) => "organ",
        ItemKind::Value(_) => "value",
        ItemKind::Group(_) => "group",
        ItemKind::Response(_) | ItemKind::Table(_) => "response",
        ItemKind::Best(_) => "best",
        ItemKind::Event(_) => "event",
        ItemKind::Reject { .. } => "reject",
    }
}

pub fn kind_word(k: &ItemKind) -> &'static str {
    match k {
        ItemKind::Input { .. } => "input",
        ItemKind::Param { .. } => "param",
        ItemKind::Lesion(_) => "lesion",
        ItemKind::Organ(_) => "organ",
        ItemKind::Value(_) => "value",
        ItemKind::Group(_) => "group",
        ItemKind::Response(_) => "response",
        ItemKind::Table(_) => "table",
        ItemKind::Best(_) => "best response",
        ItemKind::Event(_) => "event",
        ItemKind::Reject { .. } => "reject",
    }
}

pub fn merge(chain: &[(Source, ast::Ruleset)], diags: &mut Vec<Diag>) -> Merged {
    let leaf = &chain.last().unwrap().1;
    let mut m = Merged {
        id: leaf.id.node.clone(),
        title: leaf.title.clone(),
        version: leaf.version.clone(),
        cites: leaf.cites.clone(),
        chart: chain
            .iter()
            .enumerate()
            .rev()
            .find_map(|(si, (_, rs))| rs.chart.clone().map(|n| (n, si))),
        sources: chain.iter().map(|(s, _)| s.clone()).collect(),
        categories: vec![],
        slots: vec![],
    };
    let mut visible: HashMap<String, usize> = HashMap::new();
    for (si, (src, rs)) in chain.iter().enumerate() {
        let origin = rs.id.node.clone();
        // Categories: added, then renamed.
        for c in &rs.categories {
            if let Some(prev) = m.categories.iter().find(|p| p.name == c.name.node) {
                let mut d = Diag::error("crit::duplicate", format!("category `{}` is declared twice", c.name.node))
                    .label(c.name.span, "declared again here")
                    .help("each category is declared once; a child ruleset only declares the categories it adds");
                if prev.src == si {
                    d = d.label(prev.span, "first declared here");
                }
                diags.push(d.with_src(src));
                continue;
            }
            let class = c.class.as_ref().map(|n| n.node.clone());
            let (response, control) = c
                .counts
                .unwrap_or_else(|| super::ir::counts_of_class(class.as_deref()));
            m.categories.push(MergedCategory {
                names: vec![None; si],
                name: c.name.node.clone(),
                class,
                description: c.description.clone(),
                response,
                control,
                span: c.name.span,
                src: si,
            });
        }
        for (from, to) in &rs.renames {
            if m.categories.iter().any(|c| c.name == to.node) {
                diags.push(
                    Diag::error(
                        "crit::duplicate",
                        format!(
                            "cannot rename to `{}`: that category already exists",
                            to.node
                        ),
                    )
                    .label(to.span, "already a category")
                    .help("pick a new name")
                    .with_src(src),
                );
                continue;
            }
            match m.categories.iter_mut().find(|c| c.name == from.node) {
                Some(c) => c.name = to.node.clone(),
                None => {
                    let names: Vec<&str> = m.categories.iter().map(|c| c.name.as_str()).collect();
                    let mut d = Diag::error(
                        "crit::unknown-name",
                        format!("cannot rename `{}`: no such category", from.node),
                    )
                    .label(from.span, "not a category of the parent");
                    d = d.help(suggest(&from.node, names.iter().copied(), || {
                        format!("the categories are: {}", names.join(", "))
                    }));
                    diags.push(d.with_src(src));
                }
            }
        }
        for c in m.categories.iter_mut() {
            c.names.push(Some(c.name.clone()));
        }
        // Definitions.
        let mut own: HashMap<String, Span> = HashMap::new();
        for item in &rs.items {
            let name = item.name.node.clone();
            if let Some(first) = own.get(&name) {
                diags.push(
                    Diag::error("crit::duplicate", format!("`{name}` is defined twice"))
                        .label(item.name.span, "defined again here")
                        .label(*first, "first defined here")
                        .help("give one of them another name, or delete one")
                        .with_src(src),
                );
                continue;
            }
            own.insert(name.clone(), item.name.span);
            let existing = visible.get(&name).copied();
            match (existing, item.is_override) {
                (Some(old), true) => {
                    let old_family = family(&m.slots[old].item.kind);
                    if old_family != family(&item.kind) {
                        diags.push(
                            Diag::error(
                                "crit::override",
                                format!(
                                    "`override {}` cannot replace {} `{name}`, which is a {}",
                                    kind_word(&item.kind),
                                    m.slots[old].origin,
                                    kind_word(&m.slots[old].item.kind)
                                ),
                            )
                            .label(item.name.span, "overridden here")
                            .help(format!(
                                "override it with the same kind: `override {} {name} ...`",
                                kind_word(&m.slots[old].item.kind)
                            ))
                            .with_src(src),
                        );
                        continue;
                    }
                    let parent_origin = m.slots[old].origin.clone();
                    m.slots[old].hidden = true;
                    m.slots.push(Slot {
                        item: item.clone(),
                        src: si,
                        origin: origin.clone(),
                        overrides: Some(parent_origin),
                        hidden: false,
                        super_slot: Some(old),
                    });
                    visible.insert(name, m.slots.len() - 1);
                }
                (Some(old), false) => {
                    diags.push(
                        Diag::error(
                            "crit::redefinition",
                            format!("`{name}` is already defined by {}", m.slots[old].origin),
                        )
                        .label(item.name.span, "redefined here without `override`")
                        .help(format!(
                            "to replace the parent's definition write `override {} {name} ...`; to add a new one, pick another name",
                            kind_word(&item.kind)
                        ))
                        .with_src(src),
                    );
                }
                (None, true) => {
                    let names: Vec<&str> = visible.keys().map(|s| s.as_str()).collect();
                    let what = if si == 0 {
                        "this ruleset extends nothing".to_string()
                    } else {
                        format!("no parent defines `{name}`")
                    };
                    let mut d = Diag::error(
                        "crit::override",
                        format!("`override` of `{name}`, but {what}"),
                    )
                    .label(item.name.span, "nothing to override");
                    d = d.help(suggest(&name, names.iter().copied(), || {
                        "remove `override` to define a new name".into()
                    }));
                    diags.push(d.with_src(src));
                    m.slots.push(Slot {
                        item: item.clone(),
                        src: si,
                        origin: origin.clone(),
                        overrides: None,
                        hidden: false,
                        super_slot: None,
                    });
                    visible.insert(name, m.slots.len() - 1);
                }
                (None, false) => {
                    m.slots.push(Slot {
                        item: item.clone(),
                        src: si,
                        origin: origin.clone(),
                        overrides: None,
                        hidden: false,
                        super_slot: None,
                    });
                    visible.insert(name, m.slots.len() - 1);
                }
            }
        }
    }
    m
}
