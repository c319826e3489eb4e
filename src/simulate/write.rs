//! CSV rows written straight into byte buffers: millions of rows, so no per-field allocation
//! and no float formatting machinery (fixed decimals from scaled integers). Simulated fields
//! never contain commas, quotes or newlines, so no quoting is needed.

use time::Date;

/// One CSV line being written.
pub struct Line<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Line<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Line<'a> {
        Line { out, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.out.extend_from_slice(s.as_bytes());
        self
    }

    pub fn empty(&mut self) -> &mut Self {
        self.sep();
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self
    }

    /// A number with `decimals` digits after the point (rounded half away from zero).
    pub fn num(&mut self, v: f64, decimals: u32) -> &mut Self {
        self.sep();
        write_fixed(self.out, v, decimals);
        self
    }

    pub fn opt_num(&mut self, v: Option<f64>, decimals: u32) -> &mut Self {
        match v {
            Some(v) => self.num(v, decimals),
            None => self.empty(),
        }
    }

    pub fn date(&mut self, d: Date) -> &mut Self {
        self.sep();
        write_date(self.out, d);
        self
    }

    pub fn end(&mut self) {
        self.out.push(b'\n');
    }
}

/// Writes `v` with a fixed number of decimals.
pub fn write_fixed(out: &mut Vec<u8>, v: f64, decimals: u32) {
    if !v.is_finite() {
        return;
    }
    let scale = 10i64.pow(decimals.min(9));
    let scaled = (v * scale as f64).round() as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let a = scaled.unsigned_abs();
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(a / scale as u64).as_bytes());
    if decimals > 0 {
        out.push(b'.');
        let frac = b.format(a % scale as u64);
        for _ in frac.len()..decimals as usize {
            out.push(b'0');
        }
        out.extend_from_slice(frac.as_bytes());
    }
}

/// Writes an ISO date (YYYY-MM-DD).
pub fn write_date(out: &mut Vec<u8>, d: Date) {
    let (y, m, day) = (d.year(), d.month() as u8, d.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + m / 10,
            b'0' + m % 10,
            b'-',
            b'0' + day / 10,
            b'0' + day % 10,
        ]);
    } else {
        out.extend_from_slice(crate::data::model::format_date(d).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut out = vec![];
        write_fixed(&mut out, v, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_decimals() {
        assert_eq!(fixed(12.0, 0), "12");
        assert_eq!(fixed(12.46, 1), "12.5");
        assert_eq!(fixed(0.004, 4), "0.0040");
        assert_eq!(fixed(-0.3051, 3), "-0.305");
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(7.05, 2), "7.05");
    }

    #[test]
    fn dates() {
        let mut out = vec![];
        write_date(&mut out, time::macros::date!(2024 - 03 - 09));
        assert_eq!(out, b"2024-03-09");
    }
}
