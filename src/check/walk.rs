//! Walking the IR: every expression of a body, of an expression, of a group.

use super::ir::{self, ExprKind as K};

pub fn for_each_expr(body: &ir::Body, f: &mut dyn FnMut(&ir::Expr)) {
    for_each_root(body, &mut |e| walk(e, f));
}

/// The outermost expressions of a body: each rule's head and condition, each table column.
pub fn for_each_root(body: &ir::Body, f: &mut dyn FnMut(&ir::Expr)) {
    match body {
        ir::Body::Expr(e) => f(e),
        ir::Body::Rules(rs) => {
            for r in rs {
                f(&r.head);
                if let Some(c) = &r.cond {
                    f(c);
                }
            }
        }
        ir::Body::Table(t) => t.columns.iter().for_each(f),
    }
}

pub fn walk(e: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    f(e);
    children(e, &mut |x| walk(x, f));
    if let K::Agg(_, _, g) = &e.kind {
        walk_group(g, f);
    }
}

/// The expressions directly inside one (those of an aggregate's group are not among them).
pub fn children(e: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    match &e.kind {
        K::Neg(x)
        | K::Abs(x)
        | K::Not(x)
        | K::At(x, _)
        | K::Nadir(x, _)
        | K::Last(x)
        | K::Ever(x)
        | K::Later(x)
        | K::Known(x)
        | K::Definitely(x)
        | K::In(x, ..) => f(x),
        K::Bin(_, a, b) | K::Cmp(_, a, b) | K::Min2(a, b) | K::Max2(a, b) => {
            f(a);
            f(b);
        }
        K::And(xs) | K::Or(xs) | K::TableCall(_, xs) => xs.iter().for_each(f),
        K::If(c, a, b) => {
            f(c);
            f(a);
            f(b);
        }
        K::Agg(_, elem, _) => elem.iter().for_each(|x| f(x)),
        K::OrganAgg(_, elem, filter) => elem.iter().chain(filter.iter()).for_each(|x| f(x)),
        _ => {}
    }
}

fn walk_group(g: &ir::Group, f: &mut dyn FnMut(&ir::Expr)) {
    match g {
        ir::Group::Where(b, c) => {
            walk_group(b, f);
            walk(c, f);
        }
        ir::Group::Except(b, _) => walk_group(b, f),
        ir::Group::Top {
            n,
            of,
            key,
            per_organ,
        } => {
            walk(n, f);
            walk_group(of, f);
            walk(key, f);
            if let Some(p) = per_organ {
                walk(p, f);
            }
        }
        _ => {}
    }
}
