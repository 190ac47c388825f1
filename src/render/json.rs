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
pub(super) fn to_vec_sorted<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut f = Sorted::default();
    let mut ser = serde_json::Serializer::with_formatter(io::sink(), &mut f);
    value.serialize(&mut ser)?;
    Ok(f.out)
}

/// [`to_vec_sorted`] for a value whose outermost object serialises its members in key order
/// (the report and every view: `render::order_tests`): each outermost member goes to `w` as
/// soon as it is complete, so the whole document (tens of megabytes for a large dump) is never
/// held. Inner objects are still put in order. An outermost key out of order is an error, not
/// unsorted output.
pub(super) fn to_writer_in_order<T: Serialize + ?Sized>(
    value: &T,
    w: &mut dyn io::Write,
) -> serde_json::Result<()> {
    let mut f = Sorted {
        sink: Some(w),
        ..Sorted::default()
    };
    let mut ser = serde_json::Serializer::with_formatter(io::sink(), &mut f);
    value.serialize(&mut ser)?;
    if let Some(w) = f.sink.take() {
        w.write_all(&f.out).map_err(serde_json::Error::io)?;
    }
    Ok(())
}

/// [`to_vec_sorted`] of a value written as an outermost member's value (one level in): what
/// [`to_writer_in_order`] writes after the member's key, so that members rendered apart (a long
/// list on threads of its own, `part::Part`) join into the same bytes.
pub(super) fn member_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut f = Sorted {
        depth: 1,
        ..Sorted::default()
    };
    let mut ser = serde_json::Serializer::with_formatter(io::sink(), &mut f);
    value.serialize(&mut ser)?;
    Ok(f.out)
}

#[derive(Default)]
struct Sorted<'w> {
    /// Where complete outermost members go ([`to_writer_in_order`]); `None`: all stays in `out`.
    sink: Option<&'w mut dyn io::Write>,
    /// The last outermost key written to `sink`, to check the next one comes after it.
    last_top_key: Option<String>,
    out: Vec<u8>,
    depth: usize,
    /// True once the innermost open container has a member (serde_json's pretty rule).
    has_value: bool,
    objects: Vec<Object>,
    /// Where an object's text waits while its members are put in order.
    scratch: Vec<u8>,
    /// The members of every open object, innermost last: one flat stack rather than a list per
    /// object, so that writing an object allocates nothing (a report has millions of them).
    members: Vec<Member>,
    /// Whether a key is being written, and whether it needed an escape.
    in_key: bool,
    key_escaped: bool,
    /// Whether the key was written as string text. An integer key (a map keyed by port) is
    /// written by the number methods: its key text stays empty, so integer keys keep the map's
    /// numeric order (443 before 15010), as this writer has always printed them.
    key_fragments: bool,
}

struct Object {
    /// Byte offset where the first member starts (just after `{`).
    body: usize,
    /// Index of its first member in `Sorted::members`.
    first: usize,
}

/// One member of an open object: where its key's text is (between the quotes, as written, so
/// escaped) and where the whole member is (`,` excluded).
struct Member {
    key: (usize, usize),
    escaped: bool,
    start: usize,
    end: usize,
}

impl Sorted<'_> {
    /// Called when an outermost member is complete: with a sink, it is written out and forgotten.
    fn stream_top_member(&mut self) -> io::Result<()> {
        if self.objects.len() != 1 || self.sink.is_none() {
            return Ok(());
        }
        let Some(m) = self.members.last() else {
            return Ok(());
        };
        let text = &self.out[m.key.0..m.key.1];
        let key = if m.escaped {
            unescape(text)
        } else {
            String::from_utf8_lossy(text).into_owned()
        };
        if let Some(last) = &self.last_top_key {
            if key < *last {
                return Err(io::Error::other(format!(
                    "the document's key {key:?} was serialised after {last:?}: out of order"
                )));
            }
        }
        self.last_top_key = Some(key);
        if let Some(w) = self.sink.as_mut() {
            w.write_all(&self.out)?;
        }
        self.out.clear();
        self.members.clear();
        if let Some(o) = self.objects.first_mut() {
            o.body = 0;
        }
        Ok(())
    }

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
    /// Keys compare as their text: written without escapes, that is their bytes.
    fn sort_members(&mut self, o: Object) {
        let (members, out) = (&mut self.members[o.first..], &self.out);
        let text = |m: &Member| &out[m.key.0..m.key.1];
        if members.iter().any(|m| m.escaped) {
            let keys: Vec<String> = members.iter().map(|m| unescape(text(m))).collect();
            if keys.windows(2).all(|w| w[0] <= w[1]) {
                self.members.truncate(o.first);
                return;
            }
            let mut order: Vec<usize> = (0..members.len()).collect();
            order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
            let spans: Vec<(usize, usize)> = order
                .into_iter()
                .map(|i| (members[i].start, members[i].end))
                .collect();
            for (m, (start, end)) in members.iter_mut().zip(spans) {
                (m.start, m.end) = (start, end);
            }
        } else if members.windows(2).all(|w| text(&w[0]) <= text(&w[1])) {
            self.members.truncate(o.first);
            return;
        } else {
            // Stable, as a `BTreeMap` keeps one of equal keys; the members themselves are
            // reordered, no index list is built.
            members.sort_by(|a, b| text(a).cmp(text(b)));
        }
        // The object's text goes to a buffer kept from one object to the next, then back in
        // order: no allocation once the buffer has grown to the largest object reordered.
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.out[o.body..]);
        self.out.truncate(o.body);
        for (i, m) in self.members[o.first..].iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out
                .extend_from_slice(&self.scratch[m.start - o.body..m.end - o.body]);
        }
        self.members.truncate(o.first);
    }
}

/// The text of a key as written (escaped JSON string content), unescaped.
fn unescape(escaped: &[u8]) -> String {
    let mut quoted = Vec::with_capacity(escaped.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(escaped);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).unwrap_or_default()
}

impl Formatter for &mut Sorted<'_> {
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
        if self.in_key {
            let at = self.out.len();
            if let Some(m) = self.members.last_mut() {
                m.key = (at, at);
            }
        }
        Ok(())
    }
    fn end_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        if self.in_key && self.key_fragments {
            let at = self.out.len();
            if let Some(m) = self.members.last_mut() {
                m.key.1 = at;
            }
        }
        self.out.push(b'"');
        Ok(())
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.key_fragments |= self.in_key;
        self.out.extend_from_slice(fragment.as_bytes());
        Ok(())
    }
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        self.key_escaped |= self.in_key;
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
            first: self.members.len(),
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
        self.members.push(Member {
            key: (start, start),
            escaped: false,
            start,
            end: start,
        });
        self.indent();
        self.in_key = true;
        self.key_escaped = false;
        self.key_fragments = false;
        Ok(())
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        if let Some(m) = self.members.last_mut() {
            m.escaped = self.key_escaped;
        }
        Ok(())
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.extend_from_slice(b": ");
        Ok(())
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let end = self.out.len();
        if let Some(m) = self.members.last_mut() {
            m.end = end;
        }
        self.has_value = true;
        self.stream_top_member()
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

    /// Streamed member by member, an in-order document is the same bytes as buffered whole; a
    /// document whose outermost keys are out of order is refused, not written unsorted.
    #[test]
    fn streaming_writes_the_same_bytes_and_refuses_disorder() {
        #[derive(Serialize)]
        struct InOrder {
            alpha: Vec<Inner>,
            beta: BTreeMap<String, u8>,
            gamma: &'static str,
        }
        let v = InOrder {
            alpha: sample().a,
            beta: [("b".to_string(), 1), ("a".to_string(), 2)].into(),
            gamma: "g",
        };
        let mut streamed = Vec::new();
        to_writer_in_order(&v, &mut streamed).unwrap();
        assert_eq!(streamed, to_vec_sorted(&v).unwrap());
        let mut out = Vec::new();
        let e = to_writer_in_order(&sample(), &mut out).unwrap_err();
        assert!(e.to_string().contains("out of order"), "{e}");
        let mut out = Vec::new();
        to_writer_in_order(&serde_json::json!([{"b": 1, "a": 2}]), &mut out).unwrap();
        assert_eq!(out, b"[\n  {\n    \"a\": 2,\n    \"b\": 1\n  }\n]");
    }

    /// Integer keys (ports) keep their numeric order, before any text key; a `Value` would sort
    /// them as text ("10" before "9"). The JSON of ztunnel's services has always been so.
    #[test]
    fn integer_keys_keep_numeric_order() {
        #[derive(Serialize)]
        struct Ports {
            zeta: u8,
            ports: BTreeMap<u32, u8>,
        }
        let v = Ports {
            zeta: 0,
            ports: [(9, 1), (443, 2), (15010, 3)].into(),
        };
        let text = String::from_utf8(to_vec_sorted(&v).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\n  \"ports\": {\n    \"9\": 1,\n    \"443\": 2,\n    \"15010\": 3\n  },\n  \"zeta\": 0\n}"
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
