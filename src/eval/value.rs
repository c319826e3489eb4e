//! Values with unknowns. A number is an interval of exact decimals (a missing diameter is
//! [0, ∞)); a condition is true, false or unknown (Kleene logic). `None` is "no value": a
//! reference that does not exist, such as the nadir at baseline; comparisons with it are false.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::check::ir::{CatId, Role, Status};

/// An interval; `None` bounds are infinite. Exact when `lo == hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iv {
    pub lo: Option<Decimal>,
    pub hi: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    False,
    Unknown,
    True,
}

/// Values are plain data, copied wherever a definition is read and kept without anything to
/// free: a text is where it is kept ([`Text`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Num(Iv),
    Bool(Tri),
    Cat(CatId),
    /// One of several categories, undecided (a per-lesion classification of a lesion with
    /// missing data); a bit per category id.
    Cats(u64),
    Status(Status),
    Role(Role),
    Text(Text),
    None,
}

/// A text value, by where its text is (`Evaluation::text` reads it): texts are compared and
/// shown, and rarely made, so a value need not own one. Two are equal as values when they name
/// the same place; comparisons, `in` and the join of undecided values compare their texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// The subject's organ at this index (`Subject::organs`).
    Organ(u32),
    /// The id of the subject's lesion at this index.
    Id(u32),
    /// A text of the ruleset, kept by the evaluation when made into a value.
    Lit(u32),
}

/// The categories a category value may be, as a bit set.
pub fn cat_bits(v: &Val) -> Option<u64> {
    match v {
        Val::Cat(c) if *c < 64 => Some(1 << c),
        Val::Cats(m) => Some(*m),
        _ => None,
    }
}

impl Tri {
    pub fn from(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    pub fn negate(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

impl PartialOrd for Tri {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tri {
    fn cmp(&self, other: &Self) -> Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

impl Iv {
    pub fn exact(d: Decimal) -> Iv {
        Iv {
            lo: Some(d),
            hi: Some(d),
        }
    }
    /// [0, ∞): an unmeasured size.
    pub const NONNEG: Iv = Iv {
        lo: Some(Decimal::ZERO),
        hi: None,
    };
    pub const ALL: Iv = Iv { lo: None, hi: None };

    pub fn value(&self) -> Option<Decimal> {
        match (self.lo, self.hi) {
            // The same bits (an exact value is made so) before the comparison across scales.
            (Some(a), Some(b)) if a.serialize() == b.serialize() || dcmp(a, b).is_eq() => Some(a),
            _ => None,
        }
    }
    /// The exact value when both bounds are the same bits (as `Iv::exact` makes them): a
    /// quick test before the general one.
    #[inline]
    pub fn same_bits(&self) -> Option<Decimal> {
        match (self.lo, self.hi) {
            (Some(a), Some(b)) if a.serialize() == b.serialize() => Some(a),
            _ => None,
        }
    }
    pub fn is_exact(&self) -> bool {
        self.value().is_some()
    }
    /// Both bounds finite.
    pub fn is_finite(&self) -> bool {
        self.lo.is_some() && self.hi.is_some()
    }
    /// Zero lies within the bounds.
    pub fn may_be_zero(&self) -> bool {
        self.lo.is_none_or(|l| l <= Decimal::ZERO) && self.hi.is_none_or(|h| h >= Decimal::ZERO)
    }
    pub fn hull(self, o: Iv) -> Iv {
        Iv {
            lo: lo_min(self.lo, o.lo),
            hi: hi_max(self.hi, o.hi),
        }
    }
    pub fn plus(self, o: Iv) -> Iv {
        if let (Some(a), Some(b)) = (self.same_bits(), o.same_bits()) {
            return a.checked_add(b).map(Iv::exact).unwrap_or(Iv::ALL);
        }
        Iv {
            lo: both(self.lo, o.lo, Decimal::checked_add),
            hi: both(self.hi, o.hi, Decimal::checked_add),
        }
    }
    pub fn negate(self) -> Iv {
        Iv {
            lo: self.hi.map(|x| -x),
            hi: self.lo.map(|x| -x),
        }
    }
    pub fn minus(self, o: Iv) -> Iv {
        if let (Some(a), Some(b)) = (self.same_bits(), o.same_bits()) {
            return a.checked_sub(b).map(Iv::exact).unwrap_or(Iv::ALL);
        }
        self.plus(o.negate())
    }
    pub fn times(self, o: Iv) -> Iv {
        if let (Some(a), Some(b)) = (self.value(), o.value()) {
            return a.checked_mul(b).map(Iv::exact).unwrap_or(Iv::ALL);
        }
        let ends = [
            ext_mul(Ext::lo(self.lo), Ext::lo(o.lo)),
            ext_mul(Ext::lo(self.lo), Ext::hi(o.hi)),
            ext_mul(Ext::hi(self.hi), Ext::lo(o.lo)),
            ext_mul(Ext::hi(self.hi), Ext::hi(o.hi)),
        ];
        let lo = ends.iter().copied().fold(Ext::PosInf, Ext::min);
        let hi = ends.iter().copied().fold(Ext::NegInf, Ext::max);
        Iv {
            lo: lo.finite(),
            hi: hi.finite(),
        }
    }
    /// Division; `None` when the divisor is exactly zero (no value), [-∞, ∞] when it may be.
    pub fn over(self, o: Iv) -> Option<Iv> {
        if o.value() == Some(Decimal::ZERO) {
            return None;
        }
        if o.may_be_zero() {
            return Some(Iv::ALL);
        }
        if let (Some(a), Some(b)) = (self.value(), o.value()) {
            return Some(a.checked_div(b).map(Iv::exact).unwrap_or(Iv::ALL));
        }
        // 1/o for an interval without zero (an infinite end gives 0), then multiply.
        let inv = |x: Option<Decimal>| {
            x.and_then(|v| Decimal::ONE.checked_div(v))
                .or(Some(Decimal::ZERO))
        };
        let recip = Iv {
            lo: inv(o.hi),
            hi: inv(o.lo),
        };
        Some(self.times(recip))
    }
    pub fn abs(self) -> Iv {
        match (self.lo, self.hi) {
            (Some(l), _) if l >= Decimal::ZERO => self,
            (_, Some(h)) if h <= Decimal::ZERO => self.negate(),
            (Some(l), Some(h)) => Iv {
                lo: Some(Decimal::ZERO),
                hi: Some(h.max(-l)),
            },
            _ => Iv::NONNEG,
        }
    }
    pub fn min(self, o: Iv) -> Iv {
        let hi = match (self.hi, o.hi) {
            (Some(a), Some(b)) => Some(dmin(a, b)),
            (a, None) => a,
            (None, b) => b,
        };
        Iv {
            lo: lo_min(self.lo, o.lo),
            hi,
        }
    }
    pub fn max(self, o: Iv) -> Iv {
        let lo = match (self.lo, o.lo) {
            (Some(a), Some(b)) => Some(dmax(a, b)),
            (a, None) => a,
            (None, b) => b,
        };
        Iv {
            lo,
            hi: hi_max(self.hi, o.hi),
        }
    }
    /// self < o
    pub fn lt(self, o: Iv) -> Tri {
        if let (Some(a), Some(b)) = (self.same_bits(), o.same_bits()) {
            return Tri::from(dcmp(a, b).is_lt());
        }
        if let (Some(h), Some(l)) = (self.hi, o.lo) {
            if dcmp(h, l).is_lt() {
                return Tri::True;
            }
        }
        if let (Some(l), Some(h)) = (self.lo, o.hi) {
            if dcmp(l, h).is_ge() {
                return Tri::False;
            }
        }
        Tri::Unknown
    }
    /// self <= o
    pub fn le(self, o: Iv) -> Tri {
        if let (Some(a), Some(b)) = (self.same_bits(), o.same_bits()) {
            return Tri::from(dcmp(a, b).is_le());
        }
        if let (Some(h), Some(l)) = (self.hi, o.lo) {
            if dcmp(h, l).is_le() {
                return Tri::True;
            }
        }
        if let (Some(l), Some(h)) = (self.lo, o.hi) {
            if dcmp(l, h).is_gt() {
                return Tri::False;
            }
        }
        Tri::Unknown
    }
    pub fn same(self, o: Iv) -> Tri {
        if let (Some(a), Some(b)) = (self.same_bits(), o.same_bits()) {
            return Tri::from(same_decimal(a, b));
        }
        match (self.value(), o.value()) {
            (Some(a), Some(b)) => Tri::from(dcmp(a, b).is_eq()),
            _ => {
                if self.lt(o) == Tri::True || o.lt(self) == Tri::True {
                    Tri::False
                } else {
                    Tri::Unknown
                }
            }
        }
    }
}

/// Two decimals equal in value: a size against 0 mm, say, is told apart without rescaling,
/// and the same bits without comparing.
#[inline]
pub fn same_decimal(a: Decimal, b: Decimal) -> bool {
    a.is_zero() == b.is_zero() && (a.serialize() == b.serialize() || dcmp(a, b).is_eq())
}

/// Decimals compared; values of one scale (most values of a cohort) by their integers,
/// without the general comparison's rescaling.
#[inline]
pub fn dcmp(a: Decimal, b: Decimal) -> Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(&b)
    }
}

/// The smaller decimal (the first of equal ones, as `Ord::min`).
fn dmin(a: Decimal, b: Decimal) -> Decimal {
    if dcmp(b, a).is_lt() {
        b
    } else {
        a
    }
}

/// The larger decimal (the second of equal ones, as `Ord::max`).
fn dmax(a: Decimal, b: Decimal) -> Decimal {
    if dcmp(b, a).is_lt() {
        a
    } else {
        b
    }
}

fn both(
    a: Option<Decimal>,
    b: Option<Decimal>,
    f: fn(Decimal, Decimal) -> Option<Decimal>,
) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => f(x, y),
        _ => None,
    }
}
fn lo_min(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(dmin(x, y)),
        _ => None,
    }
}
fn hi_max(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(dmax(x, y)),
        _ => None,
    }
}

/// Extended reals for interval endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ext {
    NegInf,
    Fin(Decimal),
    PosInf,
}

impl Ext {
    fn lo(x: Option<Decimal>) -> Ext {
        x.map(Ext::Fin).unwrap_or(Ext::NegInf)
    }
    fn hi(x: Option<Decimal>) -> Ext {
        x.map(Ext::Fin).unwrap_or(Ext::PosInf)
    }
    fn finite(self) -> Option<Decimal> {
        match self {
            Ext::Fin(d) => Some(d),
            _ => None,
        }
    }
    fn sign(self) -> i8 {
        match self {
            Ext::NegInf => -1,
            Ext::PosInf => 1,
            Ext::Fin(d) if d.is_zero() => 0,
            Ext::Fin(d) if d.is_sign_negative() => -1,
            Ext::Fin(_) => 1,
        }
    }
}

fn ext_mul(a: Ext, b: Ext) -> Ext {
    match (a, b) {
        (Ext::Fin(x), Ext::Fin(y)) => x.checked_mul(y).map(Ext::Fin).unwrap_or(
            if x.is_sign_negative() != y.is_sign_negative() {
                Ext::NegInf
            } else {
                Ext::PosInf
            },
        ),
        _ => match a.sign() * b.sign() {
            0 => Ext::Fin(Decimal::ZERO),
            s if s > 0 => Ext::PosInf,
            _ => Ext::NegInf,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::*;

    mod rust_decimal_macros_free {
        pub fn d(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    #[test]
    fn exact_thirty_percent() {
        // 33 mm -> 23.1 mm is exactly -30 %.
        let r = Iv::exact(d("23.1"))
            .minus(Iv::exact(d("33")))
            .over(Iv::exact(d("33")))
            .unwrap();
        assert_eq!(r.value(), Some(d("-0.3")));
    }

    #[test]
    fn unknown_size_bounds() {
        let sum = Iv::exact(d("80")).plus(Iv::NONNEG);
        assert_eq!(Iv::exact(d("60")).le(sum), Tri::True);
        assert_eq!(sum.le(Iv::exact(d("90"))), Tri::Unknown);
        assert_eq!(
            Iv::NONNEG.times(Iv::exact(d("-1"))),
            Iv {
                lo: None,
                hi: Some(d("0"))
            }
        );
    }
}
