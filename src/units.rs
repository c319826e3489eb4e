//! Units and dimensions. Every number carries a dimension; values are stored in the base unit of
//! their dimension (mm, SUL, SUV, HU, minutes) so that arithmetic stays exact decimal.

use std::fmt;

use rust_decimal::Decimal;

/// Exponents of the base dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dim {
    pub length: i8,
    pub sul: i8,
    pub suv: i8,
    pub hu: i8,
    pub mass: i8,
    pub time: i8,
}

impl Dim {
    pub const NONE: Dim = Dim {
        length: 0,
        sul: 0,
        suv: 0,
        hu: 0,
        mass: 0,
        time: 0,
    };
    pub const LENGTH: Dim = Dim {
        length: 1,
        ..Dim::NONE
    };
    pub const TIME: Dim = Dim {
        time: 1,
        ..Dim::NONE
    };

    pub fn is_none(self) -> bool {
        self == Dim::NONE
    }

    fn zip(self, o: Dim, f: impl Fn(i8, i8) -> i8) -> Dim {
        Dim {
            length: f(self.length, o.length),
            sul: f(self.sul, o.sul),
            suv: f(self.suv, o.suv),
            hu: f(self.hu, o.hu),
            mass: f(self.mass, o.mass),
            time: f(self.time, o.time),
        }
    }
    pub fn times(self, o: Dim) -> Dim {
        self.zip(o, |a, b| a.saturating_add(b))
    }
    pub fn per(self, o: Dim) -> Dim {
        self.zip(o, |a, b| a.saturating_sub(b))
    }
    fn pow(self, e: i8) -> Dim {
        self.zip(Dim::NONE, |a, _| a.saturating_mul(e))
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("a plain number");
        }
        f.write_str(&display_unit(*self, None).0)
    }
}

/// A unit as written in rulesets and data headers: a named unit (`mm`, `SUL`, `mg`), or a
/// product or quotient of them (`mm²`, `SUL·mL`, `mg/day`).
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub dim: Dim,
    /// How many base units one of this unit is.
    pub factor: Decimal,
    pub percent: bool,
}

/// A named unit.
struct Atom {
    name: &'static str,
    dim: Dim,
    factor: Decimal,
}

const fn d(n: i64) -> Decimal {
    Decimal::from_parts(n as u32, (n >> 32) as u32, 0, false, 0)
}

const fn atom(name: &'static str, dim: Dim, factor: i64) -> Atom {
    Atom {
        name,
        dim,
        factor: d(factor),
    }
}

const L2: Dim = Dim {
    length: 2,
    ..Dim::NONE
};
const L3: Dim = Dim {
    length: 3,
    ..Dim::NONE
};
const SUL: Dim = Dim {
    sul: 1,
    ..Dim::NONE
};
const SUV: Dim = Dim {
    suv: 1,
    ..Dim::NONE
};
const HU: Dim = Dim { hu: 1, ..Dim::NONE };
const MASS: Dim = Dim {
    mass: 1,
    ..Dim::NONE
};

/// Base units: mm, SUL, SUV, HU, mg and minutes; a rate per time is stored per day (see
/// `time_scale`), so that every unit written here converts exactly.
const ATOMS: &[Atom] = &[
    atom("mm", Dim::LENGTH, 1),
    atom("cm", Dim::LENGTH, 10),
    atom("mm2", L2, 1),
    atom("cm2", L2, 100),
    atom("mL", L3, 1000),
    atom("L", L3, 1_000_000),
    atom("SUL", SUL, 1),
    atom("SUV", SUV, 1),
    atom("HU", HU, 1),
    atom("mg", MASS, 1),
    atom("g", MASS, 1000),
    atom("min", Dim::TIME, 1),
    atom("h", Dim::TIME, 60),
    atom("day", Dim::TIME, 1440),
    atom("days", Dim::TIME, 1440),
    atom("week", Dim::TIME, 10080),
    atom("weeks", Dim::TIME, 10080),
    atom("count", Dim::NONE, 1),
];

const PERCENT: Unit = Unit {
    dim: Dim::NONE,
    factor: Decimal::from_parts(1, 0, 0, false, 2),
    percent: true,
};

/// `x` to the power `e`, when the result is an exact decimal.
fn exact_pow(x: Decimal, e: i8) -> Option<Decimal> {
    let mut acc = Decimal::ONE;
    for _ in 0..e.unsigned_abs() {
        acc = acc.checked_mul(x)?;
    }
    if e >= 0 {
        return Some(acc);
    }
    let inv = Decimal::ONE.checked_div(acc)?;
    (inv.checked_mul(acc)? == Decimal::ONE).then_some(inv)
}

/// Splits `mm²`, `mm^2`, `day^-1` into the named unit and its exponent.
fn split_power(a: &str) -> (&str, i8) {
    if let Some(b) = a.strip_suffix('²') {
        return (b, 2);
    }
    if let Some(b) = a.strip_suffix('³') {
        return (b, 3);
    }
    if let Some((b, e)) = a.split_once('^') {
        if let Ok(e) = e.parse::<i8>() {
            return (b, e);
        }
    }
    (a, 1)
}

/// The unit written `name`, if it is one: `%`, a named unit, or named units joined by `·`
/// (product) and `/` (quotient of the next one), each with an optional power.
pub fn lookup(name: &str) -> Option<Unit> {
    if name == "%" {
        return Some(PERCENT);
    }
    let mut dim = Dim::NONE;
    let mut factor = Decimal::ONE;
    let mut sign = 1i8;
    let mut rest = name;
    loop {
        let end = rest.find(['·', '/']).unwrap_or(rest.len());
        let (a, e) = split_power(&rest[..end]);
        let at = ATOMS.iter().find(|u| u.name == a)?;
        let e = e.checked_mul(sign)?;
        dim = dim.times(at.dim.pow(e));
        // A time in a denominator counts days: 1 mg/day is stored as 1.
        let f = if at.dim == Dim::TIME && e < 0 {
            let per_day = MINUTES_PER_DAY.checked_div(at.factor)?;
            if per_day * at.factor != MINUTES_PER_DAY {
                return None;
            }
            exact_pow(per_day, -e)?
        } else {
            exact_pow(at.factor, e)?
        };
        factor = factor.checked_mul(f)?;
        if end == rest.len() {
            break;
        }
        sign = if rest[end..].starts_with('/') { -1 } else { 1 };
        rest = &rest[end + rest[end..].chars().next()?.len_utf8()..];
    }
    Some(Unit {
        dim,
        factor,
        percent: false,
    })
}

/// True when every part of a compound unit is a named unit (so that only its exactness failed).
pub fn parts_known(name: &str) -> bool {
    name.contains(['·', '/'])
        && name
            .split(['·', '/'])
            .all(|a| ATOMS.iter().any(|u| u.name == split_power(a).0))
}

/// The named units, for help texts.
pub fn unit_names() -> impl Iterator<Item = &'static str> {
    ATOMS
        .iter()
        .map(|u| u.name)
        .chain(["%", "mm²", "SUL·mL", "mg/day"])
}

/// The power of 1440 a product (or quotient) of these dimensions must be scaled by, since rates
/// per time are stored per day and durations in minutes; 0 for every other combination.
pub fn time_scale(a: Dim, b: Dim, result: Dim, quotient: bool) -> i32 {
    let e = |t: i8| i32::from(t.min(0)).abs();
    let eb = if quotient { -e(b.time) } else { e(b.time) };
    e(result.time) - e(a.time) - eb
}

pub const MINUTES_PER_DAY: Decimal = d(1440);

fn superscript(e: i8) -> String {
    match e {
        1 => String::new(),
        2 => "²".into(),
        3 => "³".into(),
        e => format!("^{e}"),
    }
}

/// How a quantity of this dimension is shown: the unit and its factor (base units per unit).
pub fn display_unit(dim: Dim, value: Option<Decimal>) -> (String, Decimal) {
    if dim == Dim::TIME {
        let whole_days = value.is_none_or(|v| (v % MINUTES_PER_DAY).is_zero());
        return if whole_days {
            ("days".into(), MINUTES_PER_DAY)
        } else {
            ("min".into(), d(1))
        };
    }
    let mut num: Vec<String> = vec![];
    let mut den: Vec<String> = vec![];
    let mut factor = Decimal::ONE;
    let mut put = |name: &str, e: i8| {
        if e > 0 {
            num.push(format!("{name}{}", superscript(e)));
        } else if e < 0 {
            den.push(format!("{name}{}", superscript(-e)));
        }
    };
    put("SUL", dim.sul);
    put("SUV", dim.suv);
    put("HU", dim.hu);
    put("mg", dim.mass);
    // Volumes in mL, other lengths in mm.
    if dim.length.abs() == 3 {
        put("mL", dim.length.signum());
        factor = if dim.length > 0 {
            d(1000)
        } else {
            Decimal::ONE / d(1000)
        };
    } else {
        put("mm", dim.length);
    }
    if dim.time > 0 {
        put("min", dim.time);
    } else {
        put("day", dim.time);
    }
    let name = match (num.is_empty(), den.is_empty()) {
        (_, true) => num.join("·"),
        (true, false) => format!("1/{}", den.join("·")),
        (false, false) => format!("{}/{}", num.join("·"), den.join("·")),
    };
    (name, factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(s: &str) -> Unit {
        lookup(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn compound_units_convert_exactly() {
        assert_eq!(unit("mm²").dim, unit("mm2").dim);
        assert_eq!(unit("cm²").factor, d(100));
        assert_eq!(unit("mm^2").dim, L2);
        assert_eq!(unit("SUL·mL").factor, d(1000));
        assert_eq!(unit("SUL·mL").dim, SUL.times(L3));
        assert_eq!(unit("mg/day").factor, d(1));
        assert_eq!(unit("mg/day").dim, MASS.per(Dim::TIME));
        assert_eq!(unit("mg/h").factor, d(24));
        assert_eq!(unit("g/day").factor, d(1000));
        // 1/7 is no exact decimal: a rate per week cannot be stored exactly.
        assert!(lookup("mg/week").is_none());
        assert!(lookup("furlong").is_none());
        assert!(lookup("mm·").is_none());
    }

    #[test]
    fn compound_units_display() {
        assert_eq!(display_unit(L2, None).0, "mm²");
        assert_eq!(
            display_unit(SUL.times(L3), None),
            ("SUL·mL".into(), d(1000))
        );
        assert_eq!(display_unit(MASS.per(Dim::TIME), None).0, "mg/day");
        assert_eq!(display_unit(MASS, None).0, "mg");
        assert_eq!(display_unit(Dim::NONE.per(Dim::TIME), None).0, "1/day");
        assert_eq!(format!("{}", unit("mm2").dim), "mm²");
    }

    #[test]
    fn rates_times_durations_need_a_scale() {
        let rate = MASS.per(Dim::TIME);
        assert_eq!(time_scale(rate, rate, Dim::NONE, true), 0);
        assert_eq!(time_scale(rate, Dim::NONE, rate, false), 0);
        assert_ne!(time_scale(rate, Dim::TIME, MASS, false), 0);
        assert_ne!(time_scale(MASS, Dim::TIME, rate, true), 0);
        assert_eq!(time_scale(Dim::LENGTH, Dim::LENGTH, L2, false), 0);
    }
}
