//! Pretty JSON with every object's keys in sorted order, written straight from the model.
//!
//! The report's JSON has always had sorted keys (it went through `serde_json::Value`, whose map
//! is a `BTreeMap`). Building that tree for a large dump cost four times as much as writing the
//! text, so this formatter writes each object as serde calls it and, when an object closes with
//! its keys out of order, permutes the finished members in place. Nested objects are already in
//! order by then and keep their length, so every recorded offset stays valid. The output is byte
//! for byte what `to_writer_pretty(&to_value(x))` gives (the tests compare the two).

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Serialises `value` as pretty JSON (two-space indent) with sorted keys.
pub fn to_vec_sorted<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut f = Sorted::default();
    let mut ser = serde_json::Serializer::with_formatter(io::sink(), &mut f);
    value.serialize(&mut ser)?;
    Ok(f.out)
}

#[derive(Default)]
struct Sorted {
    out: Vec<u8>,
    depth: usize,
    /// True once the innermost open container has a member (serde_json's pretty rule).
    has_value: bool,
    objects: Vec<Object>,
    /// The key being written, unescaped; `None` outside keys.
    key: Option<String>,
}

#[derive(Default)]
struct Object {
    /// Byte offset where the first member starts (just after `{`).
    body: usize,
    /// (key, start, end) of each member, `,` excluded.
    members: Vec<(String, usize, usize)>,
    /// Where the current member's value starts (after `": "`).
    value_start: usize,
}

impl Sorted {
    fn indent(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if self.has_value {
            self.indent();
        }
        self.out.push(bracket);
    }

    /// Puts the members of the object that just ended in key order (stable, as a `BTreeMap`
    /// would keep the last of duplicate keys; serde never writes duplicates for our types).
    fn sort_members(&mut self, o: Object) {
        if o.members.windows(2).all(|w| w[0].0 <= w[1].0) {
            return;
        }
        let mut order: Vec<&(String, usize, usize)> = o.members.iter().collect();
        order.sort_by(|a, b| a.0.cmp(&b.0));
        let tail = self.out.split_off(o.body);
        for (i, (_, start, end)) in order.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out
                .extend_from_slice(&tail[start - o.body..end - o.body]);
        }
    }
}

impl Formatter for &mut Sorted {
    fn write_null<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.write_null(&mut self.out)
    }
    fn write_bool<W: ?Sized + io::Write>(&mut self, _: &mut W, v: bool) -> io::Result<()> {
        CompactFormatter.write_bool(&mut self.out, v)
    }
    fn write_i8<W: ?Sized + io::Write>(&mut self, _: &mut W, v: i8) -> io::Result<()> {
        CompactFormatter.write_i8(&mut self.out, v)
    }
    fn write_i16<W: ?Sized + io::Write>(&mut self, _: &mut W, v: i16) -> io::Result<()> {
        CompactFormatter.write_i16(&mut self.out, v)
    }
    fn write_i32<W: ?Sized + io::Write>(&mut self, _: &mut W, v: i32) -> io::Result<()> {
        CompactFormatter.write_i32(&mut self.out, v)
    }
    fn write_i64<W: ?Sized + io::Write>(&mut self, _: &mut W, v: i64) -> io::Result<()> {
        CompactFormatter.write_i64(&mut self.out, v)
    }
    fn write_i128<W: ?Sized + io::Write>(&mut self, _: &mut W, v: i128) -> io::Result<()> {
        CompactFormatter.write_i128(&mut self.out, v)
    }
    fn write_u8<W: ?Sized + io::Write>(&mut self, _: &mut W, v: u8) -> io::Result<()> {
        CompactFormatter.write_u8(&mut self.out, v)
    }
    fn write_u16<W: ?Sized + io::Write>(&mut self, _: &mut W, v: u16) -> io::Result<()> {
        CompactFormatter.write_u16(&mut self.out, v)
    }
    fn write_u32<W: ?Sized + io::Write>(&mut self, _: &mut W, v: u32) -> io::Result<()> {
        CompactFormatter.write_u32(&mut self.out, v)
    }
    fn write_u64<W: ?Sized + io::Write>(&mut self, _: &mut W, v: u64) -> io::Result<()> {
        CompactFormatter.write_u64(&mut self.out, v)
    }
    fn write_u128<W: ?Sized + io::Write>(&mut self, _: &mut W, v: u128) -> io::Result<()> {
        CompactFormatter.write_u128(&mut self.out, v)
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, _: &mut W, v: f32) -> io::Result<()> {
        // A `Value` holds every float as f64, and prints it so.
        CompactFormatter.write_f64(&mut self.out, f64::from(v))
    }
    fn write_f64<W: ?Sized + io::Write>(&mut self, _: &mut W, v: f64) -> io::Result<()> {
        CompactFormatter.write_f64(&mut self.out, v)
    }
    fn write_number_str<W: ?Sized + io::Write>(&mut self, _: &mut W, v: &str) -> io::Result<()> {
        CompactFormatter.write_number_str(&mut self.out, v)
    }
    fn begin_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.push(b'"');
        Ok(())
    }
    fn end_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.push(b'"');
        Ok(())
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if let Some(k) = &mut self.key {
            k.push_str(fragment);
        }
        self.out.extend_from_slice(fragment.as_bytes());
        Ok(())
    }
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if let Some(k) = &mut self.key {
            k.push(match escape {
                CharEscape::Quote => '"',
                CharEscape::ReverseSolidus => '\\',
                CharEscape::Solidus => '/',
                CharEscape::Backspace => '\x08',
                CharEscape::FormFeed => '\x0c',
                CharEscape::LineFeed => '\n',
                CharEscape::CarriageReturn => '\r',
                CharEscape::Tab => '\t',
                CharEscape::AsciiControl(b) => char::from(b),
            });
        }
        CompactFormatter.write_char_escape(&mut self.out, escape)
    }
    fn write_byte_array<W: ?Sized + io::Write>(&mut self, w: &mut W, v: &[u8]) -> io::Result<()> {
        // As a `Value` would: an array of numbers.
        self.begin_array(w)?;
        for (i, b) in v.iter().enumerate() {
            self.begin_array_value(w, i == 0)?;
            self.write_u8(w, *b)?;
            self.end_array_value(w)?;
        }
        self.end_array(w)
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        self.out.push(b'[');
        Ok(())
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.close(b']');
        Ok(())
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            self.out.push(b',');
        }
        self.indent();
        Ok(())
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        self.out.push(b'{');
        self.objects.push(Object {
            body: self.out.len(),
            ..Object::default()
        });
        Ok(())
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        if let Some(o) = self.objects.pop() {
            self.sort_members(o);
        }
        self.close(b'}');
        Ok(())
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            self.out.push(b',');
        }
        let start = self.out.len();
        if let Some(o) = self.objects.last_mut() {
            o.members.push((String::new(), start, start));
        }
        self.indent();
        self.key = Some(String::new());
        Ok(())
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let key = self.key.take().unwrap_or_default();
        if let Some((k, _, _)) = self.objects.last_mut().and_then(|o| o.members.last_mut()) {
            *k = key;
        }
        Ok(())
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.extend_from_slice(b": ");
        let start = self.out.len();
        if let Some(o) = self.objects.last_mut() {
            o.value_start = start;
        }
        Ok(())
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let end = self.out.len();
        if let Some(m) = self.objects.last_mut().and_then(|o| o.members.last_mut()) {
            m.2 = end;
        }
        self.has_value = true;
        Ok(())
    }
    fn write_raw_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.out.extend_from_slice(fragment.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    #[derive(Serialize)]
    struct Inner {
        zeta: Option<u32>,
        alpha: Vec<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        gone: Option<u8>,
        empty: BTreeMap<String, u8>,
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        Plain { serial: String, name: String },
        Bare,
    }

    #[derive(Serialize)]
    struct Outer {
        version_info: Option<String>,
        not_after: Option<String>,
        seconds_left: i64,
        b: f64,
        small: f32,
        a: Vec<Inner>,
        tagged: Vec<Tagged>,
        #[serde(flatten)]
        extra: HashMap<String, serde_json::Value>,
        unit: (),
        nothing: Vec<u8>,
        names: HashMap<String, i8>,
    }

    fn sample() -> Outer {
        let odd = ["z", "a\"quote", "a\\back", "tab\there", "ä", "A", "\u{1}"];
        Outer {
            version_info: None,
            not_after: Some("2030-01-01T00:00:00Z".into()),
            seconds_left: -5,
            b: 1e21,
            small: 0.1,
            a: vec![
                Inner {
                    zeta: None,
                    alpha: vec![1, 2],
                    gone: None,
                    empty: BTreeMap::new(),
                },
                Inner {
                    zeta: Some(7),
                    alpha: vec![],
                    gone: Some(1),
                    empty: [("x".to_string(), 1)].into(),
                },
            ],
            tagged: vec![
                Tagged::Plain {
                    serial: "01".into(),
                    name: "n".into(),
                },
                Tagged::Bare,
            ],
            extra: odd
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        serde_json::json!({"y": [1, {"c": 2, "b": null}]}),
                    )
                })
                .collect(),
            unit: (),
            nothing: vec![],
            names: odd.iter().map(|k| (k.to_string(), 1)).collect(),
        }
    }

    #[test]
    fn same_bytes_as_through_a_value() {
        let s = sample();
        let ours = to_vec_sorted(&s).unwrap();
        let value = serde_json::to_value(&s).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(serde_json::to_vec_pretty(&value).unwrap()).unwrap()
        );
    }

    #[test]
    fn scalars_and_empty_containers() {
        for v in [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([[], {}, [[{}]]]),
            serde_json::json!("é\u{0}\n"),
        ] {
            assert_eq!(
                to_vec_sorted(&v).unwrap(),
                serde_json::to_vec_pretty(&v).unwrap()
            );
        }
    }
}
