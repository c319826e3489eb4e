//! Shipped rulesets: every `criteria/*.crit` file is embedded in the binary and found by its id
//! (the file name without `.crit`).

use include_dir::{include_dir, Dir};

static CRITERIA: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/criteria");

/// (id, source text) of every shipped ruleset, sorted by id.
pub fn shipped() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = CRITERIA
        .files()
        .filter_map(|f| {
            let name = f.path().file_name()?.to_str()?;
            let id = name.strip_suffix(".crit")?;
            Some((id, f.contents_utf8()?))
        })
        .collect();
    out.sort();
    out
}

pub fn find(id: &str) -> Option<&'static str> {
    shipped()
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, t)| t)
}
