//! The README's param tables say what the shipped rulesets hold: every param of recist-1.1,
//! irecist, percist-1.0 and impercist5 has a row with its default as written in the ruleset, and
//! no row names a param that is not there.

use std::collections::BTreeMap;

const SECTION: &str = "## Params of RECIST 1.1, iRECIST and PERCIST";
const RULESETS: [&str; 4] = ["recist-1.1", "irecist", "percist-1.0", "impercist5"];

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `param NAME = VALUE "..."` lines of a ruleset: name → value as written.
fn declared(id: &str) -> BTreeMap<String, String> {
    let path = format!("{}/criteria/{id}.crit", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("param "))
        .map(|l| {
            let (name, rest) = l.split_once('=').expect("param NAME = VALUE");
            let value = rest.split('"').next().unwrap();
            (name.trim().to_string(), squash(value))
        })
        .collect()
}

/// The rows of the README table that follows the paragraph starting with `` `id` ``.
fn documented(readme: &str, id: &str) -> BTreeMap<String, String> {
    let section = readme
        .split(SECTION)
        .nth(1)
        .expect("README has the params section");
    let section = section.split("\n## ").next().unwrap();
    let start = format!("\n`{id}` ");
    let part = section
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("no paragraph for {id}"));
    part.lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_string(), squash(cells.get(2)?)))
        })
        .collect()
}

#[test]
fn readme_param_tables_match_the_rulesets() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for id in RULESETS {
        let want = declared(id);
        assert!(!want.is_empty(), "{id} declares params");
        assert_eq!(documented(&readme, id), want, "README params of {id}");
    }
}
