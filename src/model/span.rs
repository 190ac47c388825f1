//! A length of time as people write it in expectations: `90d`, `12h`, `30m`, `45s`, or a sum
//! such as `1d12h`. `Display` writes the canonical form, which parses back to the same value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A whole number of seconds, written as days, hours, minutes and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    seconds: i64,
}

/// A duration that is not a sum of `d`, `h`, `m` and `s` terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {0:?}: write it as a sum of d, h, m, s (e.g. 12h, 90d, 1d12h)")]
pub struct SpanError(String);

const UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl Span {
    /// A span of this many seconds.
    pub fn from_seconds(seconds: i64) -> Self {
        Self { seconds }
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        self.seconds
    }
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SpanError(s.to_string());
        let mut seconds: i64 = 0;
        let mut digits = String::new();
        let mut last_unit = usize::MAX;
        for c in s.trim().chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            // Units in decreasing order, each at most once: `1h1d` is a typo, not a sum.
            let unit = UNITS.iter().position(|(u, _)| *u == c).ok_or_else(err)?;
            if digits.is_empty() || (last_unit != usize::MAX && unit <= last_unit) {
                return Err(err());
            }
            let n: i64 = digits.parse().map_err(|_| err())?;
            seconds = n
                .checked_mul(UNITS[unit].1)
                .and_then(|v| seconds.checked_add(v))
                .ok_or_else(err)?;
            digits.clear();
            last_unit = unit;
        }
        if !digits.is_empty() || last_unit == usize::MAX {
            return Err(err());
        }
        Ok(Span { seconds })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        if self.seconds < 0 {
            f.write_str("-")?;
        }
        let mut rest = self.seconds.unsigned_abs();
        for (u, n) in UNITS {
            let n = n as u64;
            if rest >= n {
                write!(f, "{}{u}", rest / n)?;
                rest %= n;
            }
        }
        Ok(())
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_typos() {
        for (text, secs) in [
            ("12h", 43_200),
            ("90d", 7_776_000),
            ("1d12h", 129_600),
            ("45s", 45),
            ("1h30m", 5_400),
        ] {
            let s: Span = text.parse().unwrap();
            assert_eq!(s.seconds(), secs);
            assert_eq!(s.to_string(), text);
            assert_eq!(s.to_string().parse::<Span>().unwrap(), s);
        }
        assert_eq!(Span::from_seconds(90_000).to_string(), "1d1h");
        for bad in [
            "",
            "12",
            "h",
            "1h1d",
            "1x",
            "12 h",
            "1d1d",
            "-1h",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<Span>().is_err(), "{bad:?} parsed");
        }
    }
}
