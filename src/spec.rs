//! A criterion as it is named on the command line — a shipped id or a `.crit` path, optionally
//! with param overrides, `recist-1.1[pd_increase=25%]` — and setting a param from `NAME=VALUE`.
//! Used by every command that takes `--criteria` or `--set`.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::check::ir;
use crate::diag::{self, Diag};
use crate::eval::Engine;
use crate::units;

/// A criterion as given: `id` or `id[name=value,...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The whole string as given.
    pub label: String,
    /// Shipped id or path of the ruleset.
    pub id: String,
    /// Param overrides, each `name=value` as written.
    pub overrides: Vec<String>,
}

/// Parses `recist-1.1[pd_increase=25%,pd_min_increase=0mm]`. A file that exists under the
/// whole name is that file, brackets and all.
pub fn parse(s: &str) -> Result<Spec, String> {
    let label = s.trim().to_string();
    if label.is_empty() {
        return Err("empty criterion".into());
    }
    if std::path::Path::new(&label).is_file() {
        return Ok(Spec {
            id: label.clone(),
            label,
            overrides: vec![],
        });
    }
    let Some(open) = label.find('[') else {
        if label.contains(']') {
            return Err(format!("`{label}`: `]` without `[`"));
        }
        return Ok(Spec {
            id: label.clone(),
            label,
            overrides: vec![],
        });
    };
    let Some(inner) = label[open + 1..].strip_suffix(']') else {
        return Err(format!(
            "`{label}`: the overrides must end with `]`, e.g. ID[pd_increase=25%]"
        ));
    };
    let id = label[..open].trim().to_string();
    if id.is_empty() {
        return Err(format!("`{label}`: the ruleset is missing before `[`"));
    }
    let mut overrides = vec![];
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !part.contains('=') {
            return Err(format!("`{label}`: `{part}` is not NAME=VALUE"));
        }
        overrides.push(part.to_string());
    }
    Ok(Spec {
        label: label.clone(),
        id,
        overrides,
    })
}

/// Whether a name looks like lesion data rather than a ruleset: a table or transport file, or
/// a folder (SDTM).
pub fn looks_like_data(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".csv", ".tsv", ".json", ".xpt", ".txt"]
        .iter()
        .any(|e| lower.ends_with(e))
        || std::path::Path::new(name).is_dir()
}

/// Whether a name looks like a ruleset: a `.crit` file or a shipped id.
pub fn looks_like_ruleset(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".crit")
        || crate::registry::shipped().iter().any(|(id, _)| *id == name)
}

/// The help line for a criterion that does not parse.
pub const HELP: &str = "write a criterion as ID or ID[NAME=VALUE,...], e.g. ID[pd_increase=25%]";

/// Sets a param from `NAME=VALUE`, checked against the param's declared kind and unit.
pub fn apply_set(eng: &mut Engine, set: &str) -> Result<(), Diag> {
    let rs = eng.rs;
    let (name, value) = set.split_once('=').ok_or_else(|| {
        Diag::error("crit::set", format!("`--set {set}`: expected NAME=VALUE"))
            .help("e.g. --set pd_increase=25%")
    })?;
    let (name, value) = (name.trim(), value.trim());
    let Some(i) = rs.param_id(name) else {
        let names: Vec<&str> = rs.params.iter().map(|p| p.name.as_str()).collect();
        let help = diag::suggest(name, names.iter().copied(), || {
            format!("the params of {} are: {}", rs.id, names.join(", "))
        });
        return Err(
            Diag::error("crit::set", format!("`{}` has no param `{name}`", rs.id)).help(help),
        );
    };
    let p = &rs.params[i];
    let parsed = match p.ty {
        ir::Ty::Bool => match value {
            "true" => Ok(ir::ParamValue::Bool(true)),
            "false" => Ok(ir::ParamValue::Bool(false)),
            _ => Err(format!("`{name}` is true or false")),
        },
        // A limit declared as `none` can be set to a value and back to `none`.
        ir::Ty::Num { .. } if value == "none" => match rs.params[i].value {
            ir::ParamValue::None => Ok(ir::ParamValue::None),
            _ => Err(format!(
                "`{name}` needs a value; only a param declared `none` can be none"
            )),
        },
        ir::Ty::Num { dim, .. } => {
            let split = value
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(value.len());
            let (num, unit) = (value[..split].trim(), value[split..].trim());
            match Decimal::from_str(num) {
                Err(_) => Err(format!("`{value}` is not a number with a unit")),
                Ok(d) if unit.is_empty() && dim.is_none() && p.unit.is_none() => {
                    Ok(ir::ParamValue::Num(d))
                }
                Ok(_) if unit.is_empty() => Err(match (&p.value, &p.unit) {
                    (ir::ParamValue::None, Some(u)) => format!("`{name}` needs a unit ({u})"),
                    _ => format!(
                        "`{name}` needs a unit, like its default ({})",
                        crate::explain::format::param(rs, i, &p.value)
                    ),
                }),
                Ok(d) => match units::lookup(unit) {
                    Some(u) if u.dim == dim => d
                        .checked_mul(u.factor)
                        .map(ir::ParamValue::Num)
                        .ok_or_else(|| format!("`{value}` is too large")),
                    Some(_) => Err(format!(
                        "`{name}` is in {}, not {unit}",
                        p.unit.as_deref().unwrap_or("plain numbers"),
                    )),
                    None => Err(format!("unknown unit `{unit}`")),
                },
            }
        }
        _ => Err("this param cannot be set".into()),
    };
    match parsed {
        Ok(v) => {
            eng.set_param(i, v);
            Ok(())
        }
        Err(m) => Err(
            Diag::error("crit::set", format!("`--set {set}`: {m}")).help(format!(
                "the default is `{name}={}`",
                crate::explain::format::param(rs, i, &p.value).replace(' ', "")
            )),
        ),
    }
}

/// Applies every `NAME=VALUE` in order (later ones win); an error names the criterion's label.
pub fn apply_all<'a>(
    eng: &mut Engine,
    label: &str,
    sets: impl IntoIterator<Item = &'a String>,
) -> Result<(), Diag> {
    for s in sets {
        apply_set(eng, s).map_err(|d| Diag {
            message: format!("{label}: {}", d.message),
            ..d
        })?;
    }
    Ok(())
}
