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
    pub time: i8,
}

impl Dim {
    pub const NONE: Dim = Dim {
        length: 0,
        sul: 0,
        suv: 0,
        hu: 0,
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
            time: f(self.time, o.time),
        }
    }
    pub fn times(self, o: Dim) -> Dim {
        self.zip(o, |a, b| a.saturating_add(b))
    }
    pub fn per(self, o: Dim) -> Dim {
        self.zip(o, |a, b| a.saturating_sub(b))
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("a plain number");
        }
        let mut parts = vec![];
        for (name, e) in [
            ("mm", self.length),
            ("SUL", self.sul),
            ("SUV", self.suv),
            ("HU", self.hu),
            ("min", self.time),
        ] {
            match e {
                0 => {}
                1 => parts.push(name.to_string()),
                _ => parts.push(format!("{name}^{e}")),
            }
        }
        f.write_str(&parts.join("·"))
    }
}

/// A unit name as written in rulesets and data headers.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub name: &'static str,
    pub dim: Dim,
    /// How many base units one of this unit is.
    pub factor: Decimal,
    pub percent: bool,
}

const fn d(n: i64) -> Decimal {
    Decimal::from_parts(n as u32, (n >> 32) as u32, 0, false, 0)
}

pub const UNITS: &[Unit] = &[
    Unit {
        name: "mm",
        dim: Dim::LENGTH,
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "cm",
        dim: Dim::LENGTH,
        factor: d(10),
        percent: false,
    },
    Unit {
        name: "mm2",
        dim: Dim {
            length: 2,
            ..Dim::NONE
        },
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "cm2",
        dim: Dim {
            length: 2,
            ..Dim::NONE
        },
        factor: d(100),
        percent: false,
    },
    Unit {
        name: "mL",
        dim: Dim {
            length: 3,
            ..Dim::NONE
        },
        factor: d(1000),
        percent: false,
    },
    Unit {
        name: "SUL",
        dim: Dim {
            sul: 1,
            ..Dim::NONE
        },
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "SUV",
        dim: Dim {
            suv: 1,
            ..Dim::NONE
        },
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "HU",
        dim: Dim { hu: 1, ..Dim::NONE },
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "min",
        dim: Dim::TIME,
        factor: d(1),
        percent: false,
    },
    Unit {
        name: "h",
        dim: Dim::TIME,
        factor: d(60),
        percent: false,
    },
    Unit {
        name: "day",
        dim: Dim::TIME,
        factor: d(1440),
        percent: false,
    },
    Unit {
        name: "days",
        dim: Dim::TIME,
        factor: d(1440),
        percent: false,
    },
    Unit {
        name: "week",
        dim: Dim::TIME,
        factor: d(10080),
        percent: false,
    },
    Unit {
        name: "weeks",
        dim: Dim::TIME,
        factor: d(10080),
        percent: false,
    },
    Unit {
        name: "%",
        dim: Dim::NONE,
        factor: Decimal::from_parts(1, 0, 0, false, 2),
        percent: true,
    },
    Unit {
        name: "count",
        dim: Dim::NONE,
        factor: d(1),
        percent: false,
    },
];

pub fn lookup(name: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.name == name)
}

pub fn unit_names() -> impl Iterator<Item = &'static str> {
    UNITS.iter().map(|u| u.name)
}

pub const MINUTES_PER_DAY: Decimal = d(1440);

/// How a quantity of this dimension is shown: the unit and its factor.
pub fn display_unit(dim: Dim, value: Option<Decimal>) -> (&'static str, Decimal) {
    if dim == Dim::LENGTH {
        return ("mm", d(1));
    }
    if dim == Dim::TIME {
        let whole_days = value.is_none_or(|v| (v % MINUTES_PER_DAY).is_zero());
        return if whole_days {
            ("days", MINUTES_PER_DAY)
        } else {
            ("min", d(1))
        };
    }
    if dim
        == (Dim {
            length: 3,
            ..Dim::NONE
        })
    {
        return ("mL", d(1000));
    }
    if dim
        == (Dim {
            length: 2,
            ..Dim::NONE
        })
    {
        return ("mm2", d(1));
    }
    for u in UNITS {
        if u.dim == dim && u.factor == d(1) {
            return (u.name, d(1));
        }
    }
    ("", d(1))
}
