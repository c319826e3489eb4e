//! The value of one TR measurement, from its numeric result (`TRSTRESN`, in `TRSTRESU`) and its
//! character results (`TRSTRESC` in `TRSTRESU`; `TRORRES` in `TRORRESU`).
//!
//! A transport file stores numbers as binary floats, so `TRSTRESN` may hold
//! `6.6000000000000005` where the reader wrote 6.6; the character results hold the value as
//! written. The rule:
//! - the character value is `TRSTRESC` when it is a number, else `TRORRES` when it is a number
//!   whose unit is known (`TRORRESU`, or no unit column at all: the test's own unit);
//! - with a numeric and a character value that agree to 12 significant digits
//!   (|n − c| ≤ 10⁻¹² · max(|n|, |c|), after both are converted to the test's unit), the
//!   character value is used: it is exact, and a float artefact is many orders of magnitude
//!   below that bound while any real discrepancy is far above it;
//! - when they disagree, the result is an error naming both: which one is right cannot be told;
//! - with only one of them, that one is used; a numeric value alone with more than 15
//!   significant digits (more than a binary float holds) is used as written and flagged, so the
//!   caller can say so;
//! - with neither, the lesion was not measured; a result that is not a number is an error.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::units;

/// The result cells of one TR row (empty and `NA` cells are `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cells<'a> {
    pub stresn: Option<&'a str>,
    pub stresc: Option<&'a str>,
    pub stresu: Option<&'a str>,
    pub orres: Option<&'a str>,
    pub orresu: Option<&'a str>,
    /// True when TR has a `TRORRESU` column.
    pub has_orresu: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value in the test's unit; `artefact` when it is a numeric result alone with more
    /// significant digits than a binary float holds.
    Value {
        value: Decimal,
        artefact: bool,
    },
    NotMeasured,
    Error {
        column: &'static str,
        message: String,
        help: String,
    },
}

/// Digits a binary64 float always holds exactly.
const FLOAT_DIGITS: u32 = 15;

fn number(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// `value` in `unit` converted to `to`; `None` when the unit is not one of the same kind.
fn convert(value: Decimal, unit: Option<&str>, to: &str) -> Result<Decimal, String> {
    let Some(u) = unit else {
        return Ok(value);
    };
    let from = units::lookup(u).or_else(|| units::lookup(&u.to_lowercase()));
    match (from, units::lookup(to)) {
        (Some(from), Some(to)) if from.dim == to.dim => value
            .checked_mul(from.factor)
            .and_then(|x| x.checked_div(to.factor))
            .map(|x| x.normalize())
            .ok_or_else(|| format!("`{value} {u}` is out of range")),
        _ => Err(format!("is in `{u}`, which is not a unit of {to}")),
    }
}

/// Whether two values agree to 12 significant digits: |a − b| · 10¹² ≤ max(|a|, |b|). (When
/// the product overflows, the difference is far beyond the bound.)
pub fn agree(a: Decimal, b: Decimal) -> bool {
    let scale = a.abs().max(b.abs());
    a.checked_sub(b)
        .and_then(|d| d.abs().checked_mul(Decimal::new(1_000_000_000_000, 0)))
        .is_some_and(|d| d <= scale)
}

fn significant_digits(d: Decimal) -> u32 {
    let m = d.normalize().mantissa().unsigned_abs();
    if m == 0 {
        1
    } else {
        m.ilog10() + 1
    }
}

/// The value of a `code` measurement whose column is in `unit`, with `lesion` for messages.
pub fn measurement(code: &str, lesion: &str, cells: &Cells, unit: &str) -> Outcome {
    let error = |column: &'static str, message: String, help: String| Outcome::Error {
        column,
        message,
        help,
    };
    let not_number = |column: &'static str, text: &str| {
        error(
            column,
            format!(
                "{code} result `{text}` of lesion {lesion} is not a number (or is out of range)"
            ),
            "write the numeric result in TRSTRESN, or mark it TRSTAT = NOT DONE".into(),
        )
    };
    let bad_unit = |column: &'static str, why: String| {
        error(
            column,
            format!("{code} result of lesion {lesion} {why}"),
            format!("give {code} in {unit} (or another unit of the same kind)"),
        )
    };
    // The numeric result, in the test's unit.
    let numeric = match cells.stresn {
        None => None,
        Some(t) => match number(t) {
            None => return not_number("TRSTRESN", t),
            Some(v) => match convert(v, cells.stresu, unit) {
                Ok(v) => Some((v, t)),
                Err(why) => return bad_unit("TRSTRESU", why),
            },
        },
    };
    // The character result: TRSTRESC, else TRORRES when its unit is known.
    let stresc = cells.stresc.and_then(|t| number(t).map(|v| (v, t)));
    let character = match stresc {
        Some((v, t)) => match convert(v, cells.stresu, unit) {
            Ok(v) => Some((v, t, "TRSTRESC")),
            Err(why) => return bad_unit("TRSTRESU", why),
        },
        None => {
            let orres_unit = match (cells.orresu, cells.has_orresu, cells.stresu) {
                (Some(u), _, _) => Some(Some(u)),
                (None, false, None) => Some(None),
                _ => None,
            };
            cells
                .orres
                .and_then(|t| number(t).map(|v| (v, t)))
                .zip(orres_unit)
                .and_then(|((v, t), u)| convert(v, u, unit).ok().map(|v| (v, t, "TRORRES")))
        }
    };
    match (numeric, character) {
        (Some((n, nt)), Some((c, ct, col))) => {
            if agree(n, c) {
                Outcome::Value {
                    value: c,
                    artefact: false,
                }
            } else {
                error(
                    "TRSTRESN",
                    format!("{code} result of lesion {lesion}: TRSTRESN `{nt}` and {col} `{ct}` disagree"),
                    "the numeric and the character result are the same value; correct the one that is wrong".into(),
                )
            }
        }
        (Some((n, _)), None) => Outcome::Value {
            value: n,
            artefact: significant_digits(n) > FLOAT_DIGITS,
        },
        (None, Some((c, _, _))) => Outcome::Value {
            value: c,
            artefact: false,
        },
        (None, None) => match (cells.stresc, cells.orres) {
            (Some(t), _) => not_number("TRSTRESC", t),
            (None, Some(t)) if number(t).is_none() => not_number("TRORRES", t),
            _ => Outcome::NotMeasured,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn value(c: Cells) -> Outcome {
        measurement("LDIAM", "T01", &c, "mm")
    }

    #[test]
    fn the_character_result_replaces_a_float_artefact() {
        let c = Cells {
            stresn: Some("6.6000000000000005"),
            stresc: Some("6.6"),
            ..Default::default()
        };
        assert_eq!(
            value(c),
            Outcome::Value {
                value: d("6.6"),
                artefact: false
            }
        );
        // TRORRES in its own unit when TRSTRESC is not a number.
        let c = Cells {
            stresn: Some("12.000000000000002"),
            stresu: Some("mm"),
            stresc: Some("see comment"),
            orres: Some("1.2"),
            orresu: Some("cm"),
            has_orresu: true,
        };
        assert_eq!(
            value(c),
            Outcome::Value {
                value: d("12"),
                artefact: false
            }
        );
        // A TRORRES whose unit is unknown is not used.
        let c = Cells {
            stresn: Some("12.000000000000002"),
            stresu: Some("mm"),
            orres: Some("1.2"),
            has_orresu: true,
            ..Default::default()
        };
        assert_eq!(
            value(c),
            Outcome::Value {
                value: d("12.000000000000002"),
                artefact: true
            }
        );
    }

    #[test]
    fn disagreeing_results_are_an_error() {
        let c = Cells {
            stresn: Some("6.6"),
            stresc: Some("6.7"),
            ..Default::default()
        };
        match value(c) {
            Outcome::Error {
                column, message, ..
            } => {
                assert_eq!(column, "TRSTRESN");
                assert!(message.contains("TRSTRESN `6.6` and TRSTRESC `6.7` disagree"));
            }
            o => panic!("{o:?}"),
        }
        // The bound: 12 significant digits.
        assert!(agree(d("100"), d("100.0000000001")));
        assert!(!agree(d("100"), d("100.000000001")));
        assert!(agree(d("0"), d("0")));
        assert!(!agree(d("0"), d("0.000001")));
        // A 28-digit character value agrees with its float and is kept whole.
        let c = Cells {
            stresn: Some("1234567890123456800000000000"),
            stresc: Some("1234567890123456789012345678"),
            ..Default::default()
        };
        assert!(
            matches!(value(c), Outcome::Value { value, .. } if value == d("1234567890123456789012345678"))
        );
    }

    #[test]
    fn one_result_alone_and_none() {
        let c = Cells {
            stresn: Some("21"),
            ..Default::default()
        };
        assert_eq!(
            value(c),
            Outcome::Value {
                value: d("21"),
                artefact: false
            }
        );
        let c = Cells {
            stresc: Some("2.1"),
            stresu: Some("cm"),
            ..Default::default()
        };
        assert_eq!(
            value(c),
            Outcome::Value {
                value: d("21"),
                artefact: false
            }
        );
        assert_eq!(value(Cells::default()), Outcome::NotMeasured);
        for (c, col) in [
            (
                Cells {
                    stresn: Some("big"),
                    ..Default::default()
                },
                "TRSTRESN",
            ),
            (
                Cells {
                    stresc: Some("big"),
                    ..Default::default()
                },
                "TRSTRESC",
            ),
            (
                Cells {
                    orres: Some("big"),
                    ..Default::default()
                },
                "TRORRES",
            ),
            (
                Cells {
                    stresn: Some("3"),
                    stresu: Some("SUV"),
                    ..Default::default()
                },
                "TRSTRESU",
            ),
        ] {
            assert!(
                matches!(value(c), Outcome::Error { column, .. } if column == col),
                "{col}"
            );
        }
    }
}
