//! How numbers and values are written: in the unit of their dimension, exact where short,
//! rounded with "≈" otherwise (percentages to 2 decimals, other quantities to 4).

use rust_decimal::Decimal;

use crate::check::ir::{ParamValue, Ruleset, Ty};
use crate::eval::value::{Iv, Tri, Val};
use crate::eval::Evaluation;
use crate::units::{self, Dim};

fn fixed(x: Decimal, dp: u32) -> String {
    let r = x.round_dp(dp).normalize();
    let approx = r != x.normalize();
    let mut s = r.to_string();
    if !s.contains('.') {
        s.push_str(".0");
    }
    if s == "-0.0" {
        s = "0.0".into();
    }
    if approx {
        format!("≈{s}")
    } else {
        s
    }
}

/// A number in base units, shown in its display unit.
pub fn num(v: Decimal, ty: Ty) -> String {
    match ty {
        Ty::Num { dim, pct } => {
            if dim.is_none() {
                if pct {
                    return match v.checked_mul(Decimal::ONE_HUNDRED) {
                        Some(p) => format!("{} %", fixed(p, 2)),
                        None => format!("{} × 100 %", fixed(v, 2)),
                    };
                }
                return if v.fract().is_zero() {
                    v.trunc().normalize().to_string()
                } else {
                    fixed(v, 4)
                };
            }
            let (unit, factor) = units::display_unit(dim, Some(v));
            // A display unit smaller than the base unit can take a value out of range.
            let Some(x) = v.checked_div(factor) else {
                let times = Decimal::ONE.checked_div(factor).unwrap_or(Decimal::ONE);
                return format!("{} × {} {unit}", fixed(v, 4), times.normalize());
            };
            if dim == Dim::TIME && unit == "days" {
                return format!("{} days", x.normalize());
            }
            format!("{} {unit}", fixed(x, 4))
        }
        _ => v.normalize().to_string(),
    }
}

pub fn interval(iv: Iv, ty: Ty) -> String {
    match (iv.lo, iv.hi) {
        (Some(a), Some(b)) if a == b => num(a, ty),
        (Some(a), Some(b)) => format!("between {} and {}", num(a, ty), num(b, ty)),
        (Some(a), None) => format!("≥ {} (unknown)", num(a, ty)),
        (None, Some(b)) => format!("≤ {} (unknown)", num(b, ty)),
        (None, None) => "unknown".into(),
    }
}

pub fn tri(t: Tri) -> &'static str {
    match t {
        Tri::True => "yes",
        Tri::False => "no",
        Tri::Unknown => "undecided",
    }
}

/// A value of categorical input `i`: its label, or the labels it may still be.
fn choice(rs: &Ruleset, i: u16, iv: Iv) -> String {
    let labels = &rs.inputs[usize::from(i)].choices;
    let at = |d: Option<Decimal>| d.and_then(|d| rust_decimal::prelude::ToPrimitive::to_usize(&d));
    match (at(iv.lo), at(iv.hi)) {
        (Some(a), Some(b)) if a == b && a < labels.len() => labels[a].clone(),
        (Some(a), Some(b)) if a < b && b < labels.len() && a + 1 < labels.len() => {
            format!("{} (unknown)", labels[a..=b].join(" or "))
        }
        _ => "unknown".into(),
    }
}

/// A value as shown in explanations (a text where the evaluation keeps it).
pub fn value(ev: &Evaluation, v: &Val, ty: Ty) -> String {
    let rs = ev.rs();
    match v {
        Val::Num(iv) => match ty {
            Ty::Choice(i) => choice(rs, i, *iv),
            _ => interval(*iv, ty),
        },
        Val::Bool(t) => tri(*t).into(),
        Val::Cat(c) => rs.cat_name(*c).into(),
        Val::Cats(m) => {
            let names: Vec<&str> = (0..64)
                .filter(|c| m & (1 << c) != 0)
                .map(|c| rs.cat_name(c))
                .collect();
            format!("{} (undecided)", names.join(" or "))
        }
        Val::Status(s) => s.name().into(),
        Val::Role(r) => r.name().into(),
        Val::Text(s) => format!("\"{}\"", ev.text(*s)),
        Val::None => "none".into(),
    }
}

/// A param's value with its unit, e.g. `20 %`, `5 mm`, `42 days`, `true`.
pub fn param(rs: &Ruleset, i: usize, v: &ParamValue) -> String {
    let p = &rs.params[i];
    match v {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::None => "none".into(),
        ParamValue::Num(d) => match (&p.unit, p.ty) {
            (Some(u), _) => {
                let unit = units::lookup(u).expect("checked unit");
                let x = d.checked_div(unit.factor).unwrap_or(*d).normalize();
                if unit.percent {
                    format!("{x} %")
                } else {
                    format!("{x} {u}")
                }
            }
            _ => d.normalize().to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shown per mL, a quantity per mm³ is multiplied by 1000: at the top of the decimal range
    /// that once overflowed (a panic in the explanation).
    #[test]
    fn a_value_beyond_range_in_its_display_unit_is_written_scaled() {
        let per_ml = Ty::Num {
            dim: Dim::NONE.per(Dim::LENGTH).per(Dim::LENGTH).per(Dim::LENGTH),
            pct: false,
        };
        assert_eq!(num(Decimal::from(2), per_ml), "2000.0 1/mL");
        assert_eq!(
            num(Decimal::MAX, per_ml),
            "79228162514264337593543950335.0 × 1000 1/mL"
        );
    }
}
