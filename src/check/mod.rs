//! The checker: loads a ruleset and its ancestors, merges `extends`/`override`, resolves names,
//! checks types and units, proves decision tables complete, and orders definitions for
//! evaluation. It reports every problem it finds, not just the first.

mod consistency;
mod domains;
mod finish;
pub mod ir;
mod merge;
mod order;
mod resolve;
mod resolved;
mod tables;
mod unknown;
pub(crate) mod walk;

use std::path::{Path, PathBuf};

use crate::diag::{self, Diag, Source};
use crate::registry;
use crate::syntax::{self, ast};

pub use merge::Slot;
pub use walk::for_each_expr as for_each_body_expr;
pub use walk::walk as walk_expr;

/// A checked ruleset with the warnings found on the way.
pub struct Checked {
    pub ruleset: ir::Ruleset,
    pub warnings: Vec<Diag>,
}

/// Finds a ruleset by shipped id or by path and checks it.
pub fn load(id_or_path: &str) -> Result<Checked, Vec<Diag>> {
    let (src, dir) = locate(id_or_path, None)?;
    check_chain(src, dir)
}

/// Checks a ruleset given as source text.
pub fn check_text(name: &str, text: &str) -> Result<Checked, Vec<Diag>> {
    let dir = Path::new(name).parent().map(Path::to_path_buf);
    check_chain(diag::source(name, text), dir)
}

/// The directory a ruleset file's `extends` paths are relative to (`None` for shipped ones).
type Dir = Option<PathBuf>;

/// `a/b/../c` as `a/c`, so that explanations name files as users would.
fn tidy(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// A shipped id, or a file path: relative to the extending file's directory when there is one.
fn locate(
    id_or_path: &str,
    from: Option<(&Source, ast::Span, &Dir)>,
) -> Result<(Source, Dir), Vec<Diag>> {
    if let Some(text) = registry::find(id_or_path) {
        return Ok((diag::source(&format!("{id_or_path}.crit"), text), None));
    }
    let path = match from {
        Some((_, _, Some(dir))) => tidy(&dir.join(id_or_path)),
        _ => PathBuf::from(id_or_path),
    };
    let candidates = [path.clone(), path.with_extension("crit")];
    for p in candidates.iter() {
        if p.is_file() {
            let dir = p.parent().map(Path::to_path_buf);
            return match std::fs::read_to_string(p) {
                Ok(text) => Ok((diag::source(&p.display().to_string(), &text), dir)),
                Err(e) => {
                    let help = if e.kind() == std::io::ErrorKind::InvalidData {
                        "a ruleset is UTF-8 text: save it as UTF-8 (plain text) in your editor"
                    } else {
                        "check the path and that the file can be read"
                    };
                    Err(vec![Diag::error(
                        "crit::io",
                        format!("cannot read {}: {e}", p.display()),
                    )
                    .help(help)])
                }
            };
        }
    }
    let ids: Vec<&str> = registry::shipped().into_iter().map(|(i, _)| i).collect();
    let mut d = Diag::error(
        "crit::unknown-ruleset",
        format!("no ruleset `{id_or_path}`"),
    );
    d = match diag::did_you_mean(id_or_path, ids.iter().copied()) {
        Some(s) => d.help(format!(
            "did you mean `{s}`? `crit list` shows the shipped rulesets"
        )),
        None => d.help(format!(
            "give a shipped id ({}) or the path of a .crit file",
            ids.join(", ")
        )),
    };
    if let Some((src, span, _)) = from {
        d = d.label(span, "extended here").with_src(src);
    }
    Err(vec![d])
}

/// Parses the ruleset and its ancestors (root first).
fn load_chain(src: Source, dir: Dir) -> Result<Vec<(Source, ast::Ruleset)>, Vec<Diag>> {
    let mut chain: Vec<(Source, ast::Ruleset)> = vec![];
    let mut diags = vec![];
    let mut next = Some((src, dir));
    while let Some((src, dir)) = next.take() {
        let (rs, errs) = syntax::parse(&src);
        diags.extend(errs);
        if let Some(parent) = &rs.extends {
            let cycle_by_id =
                chain.iter().any(|(_, r)| r.id.node == parent.node) || rs.id.node == parent.node;
            let found = if cycle_by_id {
                None
            } else {
                match locate(&parent.node, Some((&src, parent.span, &dir))) {
                    Ok(found) => Some(found),
                    Err(e) => {
                        diags.extend(e);
                        None
                    }
                }
            };
            // A file extended by path may be one already in the chain under another name.
            let cycle_by_path = found.as_ref().is_some_and(|(f, _)| {
                let key = |s: &Source| std::fs::canonicalize(s.name()).ok();
                key(f).is_some()
                    && (key(f) == key(&src) || chain.iter().any(|(s, _)| key(s) == key(f)))
            });
            if cycle_by_id || cycle_by_path {
                let path: Vec<&str> = chain
                    .iter()
                    .map(|(_, r)| r.id.node.as_str())
                    .chain([rs.id.node.as_str(), parent.node.as_str()])
                    .collect();
                diags.push(
                    Diag::error(
                        "crit::extends-cycle",
                        format!("`extends` goes round in a circle: {}", path.join(" -> ")),
                    )
                    .label(parent.span, "extended here")
                    .help("a ruleset cannot extend itself, directly or through its parents")
                    .with_src(&src),
                );
            } else {
                next = found;
            }
        }
        chain.push((src, rs));
        if chain.len() > 32 {
            break;
        }
    }
    if diags.iter().any(|d| d.is_error()) {
        return Err(diags);
    }
    chain.reverse();
    Ok(chain)
}

fn check_chain(src: Source, dir: Dir) -> Result<Checked, Vec<Diag>> {
    let chain = load_chain(src, dir)?;
    let mut diags = vec![];
    let merged = merge::merge(&chain, &mut diags);
    let resolved = resolve::resolve(&merged, &mut diags);
    let ruleset = finish::finish(&merged, resolved, &mut diags);
    let (errors, warnings): (Vec<Diag>, Vec<Diag>) = diags.into_iter().partition(|d| d.is_error());
    match ruleset {
        Some(ruleset) if errors.is_empty() => Ok(Checked { ruleset, warnings }),
        _ => Err(errors.into_iter().chain(warnings).collect()),
    }
}
