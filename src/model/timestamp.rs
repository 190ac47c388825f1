//! A point in time as the model holds it: UTC, whole seconds, printed as RFC 3339.

use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A certificate date, a resource's `last_updated`, the `--now` of a run: UTC, truncated to the
/// second (what certificates carry and what istioctl prints), written `2026-12-01T00:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Text that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time (2026-12-01T00:00:00Z): {0:?}")]
pub struct NotTimestamp(pub String);

impl Timestamp {
    /// The instant, for arithmetic and formatting.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }

    /// Whole seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).whole_seconds()
    }
}

/// A time a document may not give, as text: the time, or `unknown`.
pub fn or_unknown(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "unknown".to_string(), |t| t.to_string())
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Timestamp(t.replace_nanosecond(0).unwrap_or(t))
    }
}

impl FromStr for Timestamp {
    type Err = NotTimestamp;
    fn from_str(s: &str) -> Result<Self, NotTimestamp> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Timestamp::from)
            .map_err(|_| NotTimestamp(s.to_string()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 formats every UTC time from year 0 to 9999; certificates stay in that range
        // (x509-parser refuses others), so the fallback is only for the impossible.
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

string_serde!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_whole_seconds_and_round_trips() {
        let t: Timestamp = "2026-12-01T01:30:00.75+01:30".parse().unwrap();
        assert_eq!(t.to_string(), "2026-12-01T00:00:00Z");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        let later: Timestamp = "2026-12-02T00:00:01Z".parse().unwrap();
        assert_eq!(t.seconds_until(later), 86_401);
        assert_eq!(later.seconds_until(t), -86_401);
        assert!(t < later);
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in ["", "2026-12-01", "yesterday", "2026-13-01T00:00:00Z"] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad:?}");
        }
    }
}
