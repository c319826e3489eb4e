//! Dependencies between definitions and lesion groups. A group may not refer to itself at any
//! assessment, directly or through other groups (listing its lesions would never end), and
//! groups expanded into what uses them nest at most `MAX_DEPTH` deep. Definitions are evaluated
//! in an order where each follows what it reads at the same assessment; a circle there is an
//! error. Graph walks here are iterative, so no ruleset runs them out of stack.

use super::ir::{self, DefId, ExprKind as K, GroupId, Span};
use super::walk::{children, for_each_root, walk};
use crate::diag::{Diag, Source};
use crate::syntax::MAX_DEPTH;

/// Where a group is declared: its name and source.
pub(super) type Place = (Span, usize);

/// Reports groups that refer to themselves or nest too deeply, and replaces each by `lesions`, so
/// that the later passes, which follow groups recursively, always end. Returns each group's
/// depth, expanded.
pub(super) fn check_groups(
    groups: &mut [ir::GroupDef],
    places: &[Place],
    sources: &[Source],
    diags: &mut Vec<Diag>,
) -> Vec<usize> {
    let refs: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            let mut out = vec![];
            group_refs(&g.group, &mut out);
            out
        })
        .collect();
    let (finished, circles) = depth_first(&refs);
    let mut cut = vec![false; groups.len()];
    for circle in circles {
        if circle.iter().any(|&g| cut[g]) {
            continue;
        }
        let path: Vec<&str> = circle.iter().map(|&g| groups[g].name.as_str()).collect();
        let (span, src) = places[circle[0]];
        diags.push(
            Diag::error(
                "crit::cycle",
                format!(
                    "lesion group `{}` is defined in terms of itself: {}",
                    path[0],
                    path.join(" -> ")
                ),
            )
            .label(span, "part of the circle")
            .help(
                "build each group from `lesions` or from groups that do not use it; to use a \
                 group at another assessment, name a value first (`value n = count(g)`)",
            )
            .with_src(&sources[src]),
        );
        for &g in &circle {
            cut[g] = true;
        }
    }
    // Depth of each group expanded, its parts first (finishing order). A group built on one
    // that was cut is cut too, unreported: one error says what is wrong.
    let mut depth = vec![1usize; groups.len()];
    for g in finished {
        if cut[g] || refs[g].iter().any(|&h| cut[h]) {
            cut[g] = true;
            groups[g].group = ir::Group::All;
            continue;
        }
        let d = group_depth(&groups[g].group, &depth);
        if d > MAX_DEPTH {
            cut[g] = true;
            let (span, src) = places[g];
            diags.push(
                Diag::error(
                    "crit::too-deep",
                    format!(
                        "lesion group `{}` nests more than {MAX_DEPTH} levels deep with the groups it is built from",
                        groups[g].name
                    ),
                )
                .label(span, "built on too many layers")
                .help("build it from `lesions` or from fewer layers of groups")
                .with_src(&sources[src]),
            );
            groups[g].group = ir::Group::All;
            continue;
        }
        depth[g] = d;
    }
    depth
}

/// Reports definitions that, with the groups they aggregate over expanded, nest deeper than
/// evaluation and explanation may recurse.
pub(super) fn check_depths(
    defs: &[ir::Def],
    group_depth: &[usize],
    sources: &[Source],
    diags: &mut Vec<Diag>,
) {
    for d in defs {
        let mut deepest = 0;
        for_each_root(&d.body, &mut |e| {
            deepest = deepest.max(expr_depth(e, group_depth))
        });
        if deepest > MAX_DEPTH {
            diags.push(
                Diag::error(
                    "crit::too-deep",
                    format!(
                        "`{}` nests more than {MAX_DEPTH} levels deep with the groups it aggregates over",
                        d.name
                    ),
                )
                .label(d.span, "nested too deeply")
                .help("give inner parts a name of their own (`value part = ...`), or build its groups from fewer layers")
                .with_src(&sources[d.src]),
            );
        }
    }
}

/// Every group that a group's definition refers to, at any assessment (not through
/// definitions, whose values are computed once per assessment).
fn group_refs(g: &ir::Group, out: &mut Vec<GroupId>) {
    fn inside(e: &ir::Expr, out: &mut Vec<GroupId>) {
        walk(e, &mut |x| {
            if let K::Agg(_, _, g) = &x.kind {
                named_parts(g, out);
            }
        })
    }
    let mut g = g;
    loop {
        match g {
            ir::Group::All => return,
            ir::Group::Named(h) => return out.push(*h),
            ir::Group::Where(b, c) => {
                inside(c, out);
                g = b;
            }
            ir::Group::Except(b, h) => {
                out.push(*h);
                g = b;
            }
            ir::Group::Top {
                n,
                of,
                key,
                per_organ,
            } => {
                inside(n, out);
                inside(key, out);
                if let Some(p) = per_organ {
                    inside(p, out);
                }
                g = of;
            }
        }
    }
}

/// The named groups a group expression is built on (its expressions are walked separately).
fn named_parts(g: &ir::Group, out: &mut Vec<GroupId>) {
    match g {
        ir::Group::All => {}
        ir::Group::Named(h) => out.push(*h),
        ir::Group::Where(b, _) => named_parts(b, out),
        ir::Group::Except(b, h) => {
            out.push(*h);
            named_parts(b, out);
        }
        ir::Group::Top { of, .. } => named_parts(of, out),
    }
}

/// Nesting depth of a group with its named groups expanded (`depth` holds theirs).
fn group_depth(g: &ir::Group, depth: &[usize]) -> usize {
    1 + match g {
        ir::Group::All => 0,
        ir::Group::Named(h) => depth[*h],
        ir::Group::Where(b, c) => group_depth(b, depth).max(expr_depth(c, depth)),
        ir::Group::Except(b, h) => group_depth(b, depth).max(depth[*h]),
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            let p = per_organ.as_ref().map_or(0, |p| expr_depth(p, depth));
            group_depth(of, depth)
                .max(expr_depth(n, depth))
                .max(expr_depth(key, depth))
                .max(p)
        }
    }
}

/// Nesting depth of an expression with the groups it aggregates over expanded.
fn expr_depth(e: &ir::Expr, depth: &[usize]) -> usize {
    let mut deepest = match &e.kind {
        K::Agg(_, _, g) => group_depth(g, depth),
        _ => 0,
    };
    children(e, &mut |x| deepest = deepest.max(expr_depth(x, depth)));
    1 + deepest
}

/// A definition or a group, as one node of the same-assessment dependencies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Def(DefId),
    Group(GroupId),
}

/// Definitions in an order where each comes after what it reads at the same assessment.
pub(super) fn evaluation_order(
    defs: &[ir::Def],
    groups: &[ir::GroupDef],
    places: &[Place],
    sources: &[Source],
    diags: &mut Vec<Diag>,
) -> Vec<DefId> {
    let nd = defs.len();
    let index = |n: Node| match n {
        Node::Def(d) => d,
        Node::Group(g) => nd + g,
    };
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(nd + groups.len());
    for d in defs {
        let mut out = vec![];
        for_each_root(&d.body, &mut |e| same_time(e, &mut out));
        deps.push(out.into_iter().map(index).collect());
    }
    for g in groups {
        let mut out = vec![];
        same_time_group(&g.group, &mut out);
        deps.push(out.into_iter().map(index).collect());
    }
    let (finished, circles) = depth_first(&deps);
    let name = |i: usize| {
        if i < nd {
            defs[i].name.clone()
        } else {
            format!("group {}", groups[i - nd].name)
        }
    };
    if let Some(c) = circles.first() {
        let path: Vec<String> = c.iter().map(|&i| name(i)).collect();
        let (span, src) = if c[0] < nd {
            (defs[c[0]].span, defs[c[0]].src)
        } else {
            places[c[0] - nd]
        };
        diags.push(
            Diag::error("crit::cycle", format!("definitions depend on each other in a circle: {}", path.join(" -> ")))
                .label(span, "part of the circle")
                .help("at one assessment each value must be computable before the ones that use it; refer to an earlier assessment with `previous(...)` or `last(...)` to break the circle")
                .with_src(&sources[src]),
        );
    }
    finished.into_iter().filter(|&i| i < nd).collect()
}

/// Depth-first over a graph, without recursion: the nodes in finishing order (each after the
/// nodes it leads to), and a circle (its nodes, the first repeated at the end) for each edge
/// that leads back into the current path.
fn depth_first(edges: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut finished = Vec::with_capacity(edges.len());
    let mut circles = vec![];
    // The current path: each node with the next of its edges to follow.
    let mut path: Vec<(usize, usize)> = vec![];
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnPath;
        path.push((root, 0));
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let Some(&to) = edges[node].get(*next) else {
                mark[node] = Mark::Done;
                finished.push(node);
                path.pop();
                continue;
            };
            *next += 1;
            match mark[to] {
                Mark::New => {
                    mark[to] = Mark::OnPath;
                    path.push((to, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                    let circle = path[from..].iter().map(|&(n, _)| n).chain([to]);
                    circles.push(circle.collect());
                }
                Mark::Done => {}
            }
        }
    }
    (finished, circles)
}

/// What an expression reads at the same assessment (references to strictly earlier ones are
/// not dependencies).
fn same_time(e: &ir::Expr, out: &mut Vec<Node>) {
    match &e.kind {
        K::Def(d) => out.push(Node::Def(*d)),
        K::At(x, ir::Ref::Baseline) => same_time(x, out),
        K::At(..) | K::Nadir(..) | K::Last(_) | K::Ever(_) | K::Later(_) | K::DaysSince(_) => {}
        K::Neg(x) | K::Abs(x) | K::Not(x) | K::Known(x) | K::Definitely(x) | K::In(x, ..) => {
            same_time(x, out)
        }
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            same_time(a, out);
            same_time(b, out);
        }
        K::And(xs) | K::Or(xs) | K::TableCall(_, xs) => xs.iter().for_each(|x| same_time(x, out)),
        K::If(c, a, b) => {
            same_time(c, out);
            same_time(a, out);
            same_time(b, out);
        }
        K::Agg(_, elem, g) => {
            if let Some(x) = elem {
                same_time(x, out);
            }
            same_time_group(g, out);
        }
        K::OrganAgg(_, elem, filter) => {
            for x in elem.iter().chain(filter.iter()) {
                same_time(x, out);
            }
        }
        _ => {}
    }
}

fn same_time_group(g: &ir::Group, out: &mut Vec<Node>) {
    match g {
        ir::Group::All => {}
        ir::Group::Named(id) => out.push(Node::Group(*id)),
        ir::Group::Where(b, c) => {
            same_time_group(b, out);
            same_time(c, out);
        }
        ir::Group::Except(b, other) => {
            same_time_group(b, out);
            out.push(Node::Group(*other));
        }
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            same_time(n, out);
            same_time_group(of, out);
            same_time(key, out);
            if let Some(p) = per_organ {
                same_time(p, out);
            }
        }
    }
}
