//! Protobuf wire encoding for the encoder: tags, varints, length-delimited fields whose length
//! is known only afterwards, every scalar kind from its proto3 JSON form, and the well-known
//! types that have a JSON form of their own (Duration, Timestamp, FieldMask, Struct, Value).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::schema::Kind;
use crate::json_text::json_kind;

/// What Envoy writes in place of private key material in its dumps.
pub(super) const REDACTION_MARKER: &str = "[redacted]";

pub(super) const VARINT: u8 = 0;
pub(super) const I64: u8 = 1;
pub(super) const LEN: u8 = 2;
pub(super) const I32: u8 = 5;

/// Appends field `number` of scalar `kind` (not a message or an enum) holding the non-null `v`;
/// on `Err` nothing was appended.
pub(super) fn scalar(kind: Kind, number: u32, v: &Value, buf: &mut Vec<u8>) -> Result<(), String> {
    let found = json_kind(v);
    let bad = |what: &str| Err(format!("expected {what}, found {found}"));
    match kind {
        Kind::String => match v {
            Value::String(s) => {
                put_len(buf, number, s.as_bytes());
                Ok(())
            }
            _ => bad("a string"),
        },
        Kind::Bool => match v {
            Value::Bool(b) => {
                put_tag(buf, number, VARINT);
                put_varint(buf, u64::from(*b));
                Ok(())
            }
            _ => bad("a boolean"),
        },
        Kind::Bytes => match v {
            // Envoy's redaction of secrets: some versions write the marker itself rather than its
            // base64. It reads as the marker's bytes, the same value the base64 form gives.
            Value::String(s) if s == REDACTION_MARKER => {
                put_len(buf, number, s.as_bytes());
                Ok(())
            }
            Value::String(s) => match base64_decode(s) {
                Some(bytes) => {
                    put_len(buf, number, &bytes);
                    Ok(())
                }
                None => Err("invalid base64 in a bytes field".into()),
            },
            _ => bad("a base64 string"),
        },
        Kind::Double | Kind::Float => {
            let f = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse::<f64>().ok(),
                _ => None,
            };
            let Some(f) = f else {
                return bad("a number");
            };
            if matches!(kind, Kind::Double) {
                put_tag(buf, number, I64);
                buf.extend_from_slice(&f.to_le_bytes());
            } else {
                put_tag(buf, number, I32);
                buf.extend_from_slice(&(f as f32).to_le_bytes());
            }
            Ok(())
        }
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            let n = int_in(v, i32::MIN as i128, i32::MAX as i128)? as i32;
            match kind {
                Kind::Int32 => {
                    put_tag(buf, number, VARINT);
                    put_varint(buf, i64::from(n) as u64);
                }
                Kind::Sint32 => {
                    put_tag(buf, number, VARINT);
                    put_varint(buf, u64::from(((n << 1) ^ (n >> 31)) as u32));
                }
                _ => {
                    put_tag(buf, number, I32);
                    buf.extend_from_slice(&n.to_le_bytes());
                }
            }
            Ok(())
        }
        Kind::Uint32 | Kind::Fixed32 => {
            let n = int_in(v, 0, u32::MAX as i128)? as u32;
            if matches!(kind, Kind::Uint32) {
                put_tag(buf, number, VARINT);
                put_varint(buf, u64::from(n));
            } else {
                put_tag(buf, number, I32);
                buf.extend_from_slice(&n.to_le_bytes());
            }
            Ok(())
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            let n = int_in(v, i64::MIN as i128, i64::MAX as i128)? as i64;
            match kind {
                Kind::Int64 => {
                    put_tag(buf, number, VARINT);
                    put_varint(buf, n as u64);
                }
                Kind::Sint64 => {
                    put_tag(buf, number, VARINT);
                    put_varint(buf, ((n << 1) ^ (n >> 63)) as u64);
                }
                _ => {
                    put_tag(buf, number, I64);
                    buf.extend_from_slice(&n.to_le_bytes());
                }
            }
            Ok(())
        }
        Kind::Uint64 | Kind::Fixed64 => {
            let n = int_in(v, 0, u64::MAX as i128)? as u64;
            if matches!(kind, Kind::Uint64) {
                put_tag(buf, number, VARINT);
                put_varint(buf, n);
            } else {
                put_tag(buf, number, I64);
                buf.extend_from_slice(&n.to_le_bytes());
            }
            Ok(())
        }
        Kind::Message(_) | Kind::Enum(_) => Ok(()),
    }
}

pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(super) fn put_tag(buf: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(buf, (u64::from(number) << 3) | u64::from(wire_type));
}

pub(super) fn put_len(buf: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_tag(buf, number, LEN);
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Appends field `number` as a length-delimited value written by `f`. The length is not known
/// until `f` is done: room for five varint bytes is kept and shrunk to the minimal encoding.
/// On `Err` nothing is appended.
pub(super) fn nested<E>(
    buf: &mut Vec<u8>,
    number: u32,
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    // One byte is kept for the length: most nested messages are shorter than 128 bytes and then
    // nothing moves. A longer one's content moves right by the length's other bytes, once.
    let mark = buf.len();
    put_tag(buf, number, LEN);
    let at = buf.len();
    buf.push(0);
    if let Err(e) = f(buf) {
        buf.truncate(mark);
        return Err(e);
    }
    let mut len = buf.len() - at - 1;
    if len < 0x80 {
        buf[at] = len as u8;
        return Ok(());
    }
    let mut varint = [0u8; 10];
    let mut n = 0;
    while len >= 0x80 {
        varint[n] = (len as u8) | 0x80;
        len >>= 7;
        n += 1;
    }
    varint[n] = len as u8;
    buf[at] = varint[0];
    buf.splice(at + 1..at + 1, varint[1..=n].iter().copied());
    Ok(())
}

/// A proto3 JSON value that is its field's default (left out of the encoding).
pub(super) fn is_default(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_positive()),
        _ => false,
    }
}

/// `google.protobuf.Value`: any JSON.
pub(super) fn json_value(v: &Value, buf: &mut Vec<u8>) {
    match v {
        Value::Null => {
            put_tag(buf, 1, VARINT);
            put_varint(buf, 0);
        }
        Value::Number(n) => {
            put_tag(buf, 2, I64);
            buf.extend_from_slice(&n.as_f64().unwrap_or_default().to_le_bytes());
        }
        Value::String(s) => put_len(buf, 3, s.as_bytes()),
        Value::Bool(b) => {
            put_tag(buf, 4, VARINT);
            put_varint(buf, u64::from(*b));
        }
        Value::Object(obj) => {
            let _ = nested(buf, 5, |buf| {
                json_struct(obj, buf);
                Ok::<(), ()>(())
            });
        }
        Value::Array(items) => {
            let _ = nested(buf, 6, |buf| {
                json_list(items, buf);
                Ok::<(), ()>(())
            });
        }
    }
}

/// `google.protobuf.Struct`: `map<string, Value> fields = 1`.
pub(super) fn json_struct(obj: &Map<String, Value>, buf: &mut Vec<u8>) {
    for (key, value) in obj {
        let _ = nested(buf, 1, |buf| {
            put_len(buf, 1, key.as_bytes());
            nested(buf, 2, |buf| {
                json_value(value, buf);
                Ok::<(), ()>(())
            })
        });
    }
}

/// `google.protobuf.ListValue`: `repeated Value values = 1`.
pub(super) fn json_list(items: &[Value], buf: &mut Vec<u8>) {
    for item in items {
        let _ = nested(buf, 1, |buf| {
            json_value(item, buf);
            Ok::<(), ()>(())
        });
    }
}

/// `"-1.5s"` → (-1, -500_000_000), as proto3 JSON writes a `Duration`.
pub(super) fn parse_duration(s: &str) -> Option<(i64, i32)> {
    const MAX_SECONDS: u64 = 315_576_000_000;
    let body = s.strip_suffix('s')?;
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (body, ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || frac.len() > 9 || !digits(frac) {
        return None;
    }
    let seconds: u64 = whole.parse().ok().filter(|s| *s <= MAX_SECONDS)?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32)
    };
    let (seconds, nanos) = (seconds as i64, nanos as i32);
    Some(if negative {
        (-seconds, -nanos)
    } else {
        (seconds, nanos)
    })
}

pub(super) fn parse_timestamp(s: &str) -> Option<(i64, i32)> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp(), t.nanosecond() as i32))
}

/// A `FieldMask` path in JSON is lowerCamelCase; the message's is snake_case.
pub(super) fn snake_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn int_in(v: &Value, min: i128, max: i128) -> Result<i128, String> {
    let n: Option<i128> = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1.9e19)
                    .map(|f| f as i128)
            }),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(n) => Err(format!("integer {n} out of range")),
        None => Err(format!("expected an integer, found {}", json_kind(v))),
    }
}

pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, lenient)
        .decode(s)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient).decode(s))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration("1.5s"), Some((1, 500_000_000)));
        assert_eq!(parse_duration("-0.000000001s"), Some((0, -1)));
        assert_eq!(parse_duration("315576000000s"), Some((315_576_000_000, 0)));
        for bad in [
            "1",
            "s",
            "1.s",
            ".5s",
            "1.0000000001s",
            "+1s",
            "315576000001s",
            "1e3s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(
            parse_timestamp("2024-11-01T00:00:00.25Z"),
            Some((1_730_419_200, 250_000_000))
        );
        assert_eq!(
            parse_timestamp("2024-11-01T02:00:00+02:00"),
            Some((1_730_419_200, 0))
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(snake_case("a.fooBar"), "a.foo_bar");
    }

    /// Both forms of Envoy's key redaction read as the marker's bytes; other text that is not
    /// base64 is still refused.
    #[test]
    fn redacted_bytes_read_as_the_marker() {
        let literal = Value::String("[redacted]".into());
        let base64 = Value::String("W3JlZGFjdGVkXQ==".into());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        scalar(Kind::Bytes, 1, &literal, &mut a).unwrap();
        scalar(Kind::Bytes, 1, &base64, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(a.ends_with(b"[redacted]"));
        let garbage = Value::String("[not base64]".into());
        assert_eq!(
            scalar(Kind::Bytes, 1, &garbage, &mut Vec::new()).unwrap_err(),
            "invalid base64 in a bytes field"
        );
    }
}
