//! A certificate's serial number, compared as the integer it is whatever tool printed it.

use std::fmt;
use std::str::FromStr;

/// A certificate serial: the integer, held and printed as lowercase hex without leading zeros,
/// as Envoy's `/certs` and istioctl's ztunnel-config print it (openssl prints the same digits in
/// uppercase; istioctl proxy-config secret alone pads to 32 digits, `%032x`). Read from any of
/// those spellings (`10:16:…` too, any case, an optional `0x`), and equal across them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(String);

/// Text that is not a hexadecimal serial number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a certificate serial number (hex digits, optionally separated by ':'): {0:?}")]
pub struct NotSerial(pub String);

impl Serial {
    /// From the big-endian bytes of the DER INTEGER (x509-parser's `raw_serial`).
    pub fn from_bytes(raw: &[u8]) -> Self {
        let digits: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        Self::canonical(&digits)
    }

    fn canonical(hex: &str) -> Self {
        let digits = hex.trim_start_matches('0');
        Serial(if digits.is_empty() { "0" } else { digits }.to_string())
    }
}

impl FromStr for Serial {
    type Err = NotSerial;
    fn from_str(s: &str) -> Result<Self, NotSerial> {
        let t = s.trim();
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        let hex: String = t.chars().filter(|c| *c != ':').collect();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NotSerial(s.to_string()));
        }
        Ok(Self::canonical(&hex.to_ascii_lowercase()))
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_serde!(Serial);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spellings_of_one_serial_are_equal() {
        let istioctl: Serial = "0000000000000000000000000000abcd".parse().unwrap();
        let envoy: Serial = "abcd".parse().unwrap();
        let openssl: Serial = "AB:CD".parse().unwrap();
        let hex: Serial = "0x00abcd".parse().unwrap();
        assert_eq!(istioctl, envoy);
        assert_eq!(envoy, openssl);
        assert_eq!(openssl, hex);
        assert_eq!(Serial::from_bytes(&[0x00, 0xab, 0xcd]), envoy);
        assert_ne!(envoy, "abce".parse::<Serial>().unwrap());
        // Envoy's /certs (uppercase, unpadded) against openssl's colons.
        assert_eq!(
            "101690266B9128".parse::<Serial>().unwrap(),
            "10:16:90:26:6b:91:28".parse::<Serial>().unwrap()
        );
    }

    #[test]
    fn prints_the_integer_as_envoy_does_and_round_trips() {
        for s in [
            Serial::from_bytes(&[0x0a]),
            Serial::from_bytes(&[0]),
            // 20 bytes (the most RFC 5280 allows), printed whole.
            Serial::from_bytes(&[0x7f; 20]),
        ] {
            assert_eq!(s.to_string().parse::<Serial>().unwrap(), s);
        }
        assert_eq!(Serial::from_bytes(&[0x0a]).to_string(), "a");
        assert_eq!(Serial::from_bytes(&[0]).to_string(), "0");
        // The serial: no padding to 32 digits.
        let s: Serial = "0000000000000000b762789940d8ad78".parse().unwrap();
        assert_eq!(s.to_string(), "b762789940d8ad78");
    }

    #[test]
    fn refuses_what_is_not_hex() {
        for bad in ["", ":", "0x", "12g4", "-1"] {
            assert!(bad.parse::<Serial>().is_err(), "{bad:?}");
        }
    }
}
