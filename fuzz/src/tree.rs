//! Structure-aware mutations of a JSON document: the input is parsed into a `serde_json::Value`,
//! one tree mutation is applied, and the tree is written back. Inputs that are not JSON (and one
//! mutation in eight of those that are) go to libFuzzer's byte mutator, so the byte-level paths
//! (number syntax, escapes, truncation) are still explored.
//!
//! The vocabulary (object keys, `@type` URLs, short strings) comes from the real fixtures, read
//! once: a renamed key or a swapped `@type` is one Envoy or a mesh actually writes.

use std::sync::OnceLock;

use serde_json::{Map, Number, Value};

/// libFuzzer's byte mutator, `fn(data, size, max_size) -> new_size`, passed in by the targets.
pub type ByteMutator = fn(&mut [u8], usize, usize) -> usize;

/// A small deterministic generator (xorshift64*): the same seed gives the same mutation, which
/// libFuzzer needs to replay a run.
pub struct Rng(u64);

impl Rng {
    /// A generator from libFuzzer's seed.
    pub fn new(seed: u32) -> Rng {
        Rng(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What the fixtures say: every object key, every `@type`/`type_url` value, and short strings.
pub struct Vocabulary {
    /// Object keys, sorted, each once.
    pub keys: Vec<String>,
    /// Type URLs (`type.googleapis.com/…`), sorted, each once.
    pub type_urls: Vec<String>,
    /// String values up to 80 bytes, sorted, each once (names, addresses, SPIFFE IDs, enums).
    pub strings: Vec<String>,
}

impl Vocabulary {
    /// Collected from every JSON file under `dir` (recursively), in name order.
    pub fn from_dir(dir: &std::path::Path) -> Vocabulary {
        let mut files = Vec::new();
        collect_json_files(dir, &mut files);
        files.sort();
        let (mut keys, mut type_urls, mut strings) = (Vec::new(), Vec::new(), Vec::new());
        for f in files {
            let Ok(bytes) = std::fs::read(&f) else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            harvest(&v, &mut keys, &mut type_urls, &mut strings);
        }
        for v in [&mut keys, &mut type_urls, &mut strings] {
            v.sort();
            v.dedup();
        }
        if keys.is_empty() {
            keys.push("name".into());
        }
        if type_urls.is_empty() {
            type_urls.push("type.googleapis.com/envoy.config.cluster.v3.Cluster".into());
        }
        if strings.is_empty() {
            strings.push(String::new());
        }
        Vocabulary {
            keys,
            type_urls,
            strings,
        }
    }

    /// The fixtures of this repository, read once per process.
    pub fn fixtures() -> &'static Vocabulary {
        static V: OnceLock<Vocabulary> = OnceLock::new();
        V.get_or_init(|| {
            Vocabulary::from_dir(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
            )
        })
    }
}

fn collect_json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json")
            && e.metadata().is_ok_and(|m| m.len() < 4 << 20)
        {
            out.push(p);
        }
    }
}

fn harvest(v: &Value, keys: &mut Vec<String>, types: &mut Vec<String>, strings: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                keys.push(k.clone());
                if let Value::String(s) = x {
                    if s.starts_with("type.googleapis.com/") {
                        types.push(s.clone());
                    }
                }
                harvest(x, keys, types, strings);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| harvest(x, keys, types, strings)),
        Value::String(s) if s.len() <= 80 => strings.push(s.clone()),
        _ => {}
    }
}

/// Values at the edges of what a decoder expects, as JSON text.
const EDGES: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1e308",
    "-1e308",
    "5e-324",
    "0.5",
    "-0",
    "\"\"",
    "\" \"",
    "\"NaN\"",
    "\"Infinity\"",
    "\"-Infinity\"",
    "\"-1\"",
    "\"18446744073709551616\"",
    "\"1.5s\"",
    "\"-1s\"",
    "\"315576000001s\"",
    "\"0.000000001s\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"2026-02-30T25:61:61Z\"",
    "\"0.0.0.0\"",
    "\"::\"",
    "\"::ffff:10.0.0.1\"",
    "\"10.0.0.1/33\"",
    "\"*\"",
    "\"*.*\"",
    "\"[::1]:80\"",
    "\"spiffe://\"",
    "\"spiffe://cluster.local/ns//sa/\"",
    "\"spiffe://a/b/../../c\"",
    "\"outbound|0||\"",
    "\"||||\"",
    "\"\\u0000\"",
    "\"\\u001b[31mred\\u001b[0m\"",
    "\"<script>alert(1)</script>\"",
    "\"\\\"'&<>\"",
    "\"\\u202eevil\"",
    "\"!!!!\"",
    "\"AAAA\"",
    "\"=\"",
    "\"MIIB\"",
    "\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"",
    "\"-----BEGIN CERTIFICATE-----\\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\\n-----END CERTIFICATE-----\\n\"",
    "\"-----BEGIN CERTIFICATE-----\\n\"",
    "\"-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIA==\\n-----END PRIVATE KEY-----\\n\"",
    "\"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=\"",
    "\"MIIBAA==\"",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "[null]",
    "{\"@type\":\"\"}",
    "{\"@type\":\"type.googleapis.com/google.protobuf.Struct\"}",
    "{\"@type\":\"type.googleapis.com/nope.Nope\",\"value\":1}",
];

/// Edge values no `Value` can hold, written into the text in place of a placeholder string
/// (`"\u0001raw<i>\u0001"`): a number past f64, a lone surrogate, a non-shortest escape.
const RAW: &[&str] = &[
    "1e400",
    "-1e400",
    "\"\\ud800\"",
    "\"\\udc00x\"",
    "\"\\u0041\\u0000\"",
    "123456789012345678901234567890",
];

fn raw_placeholder(i: usize) -> String {
    format!("\u{1}raw{i}\u{1}")
}

/// One structure-aware mutation of `data[..size]`, in place; the new size. Falls back to `bytes`
/// (libFuzzer's byte mutator) when the input is not JSON, when the mutated tree would not fit in
/// `max_size`, and for one mutation in eight.
pub fn mutate(
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    bytes: ByteMutator,
) -> usize {
    let mut rng = Rng::new(seed);
    let parsed = serde_json::from_slice::<Value>(&data[..size]);
    let Ok(mut tree) = parsed else {
        return bytes(data, size, max_size);
    };
    if rng.below(8) == 0 {
        return bytes(data, size, max_size);
    }
    mutate_tree(&mut tree, &mut rng, Vocabulary::fixtures(), bytes);
    write_back(&tree, data, size, max_size, bytes)
}

/// A new input from two: a subtree of `b` put into `a` (in place of the member of the same name
/// when `a` has one, else at a random node). The size written into `out`.
pub fn crossover(a: &[u8], b: &[u8], out: &mut [u8], seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    let (Ok(mut ta), Ok(tb)) = (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) else {
        // Not both JSON: half of each, as bytes.
        let n = (a.len() / 2).min(out.len());
        out[..n].copy_from_slice(&a[..n]);
        let m = (b.len() - b.len() / 2).min(out.len() - n);
        out[n..n + m].copy_from_slice(&b[b.len() - m..]);
        return n + m;
    };
    splice_between(&mut ta, &tb, &mut rng);
    let text = serde_json::to_vec(&ta).unwrap_or_default();
    if text.len() > out.len() {
        let n = a.len().min(out.len());
        out[..n].copy_from_slice(&a[..n]);
        return n;
    }
    out[..text.len()].copy_from_slice(&text);
    text.len()
}

fn write_back(
    tree: &Value,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    bytes: ByteMutator,
) -> usize {
    let mut text = serde_json::to_string(tree).unwrap_or_default();
    if text.contains("\\u0001raw") {
        for (i, raw) in RAW.iter().enumerate() {
            text = text.replace(&format!("\"\\u0001raw{i}\\u0001\""), raw);
        }
    }
    let text = text.into_bytes();
    if text.is_empty() || text.len() > max_size || text.len() > data.len() {
        return bytes(data, size, max_size);
    }
    data[..text.len()].copy_from_slice(&text);
    text.len()
}

/// The number of nodes (every value, containers included) in `v`.
pub fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`th node of `v` in pre-order (0 is `v` itself).
pub fn nth(v: &mut Value, n: usize) -> Option<&mut Value> {
    let mut n = n;
    nth_inner(v, &mut n)
}

fn nth_inner<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                if let Some(r) = nth_inner(x, n) {
                    return Some(r);
                }
            }
            None
        }
        Value::Object(o) => {
            for x in o.values_mut() {
                if let Some(r) = nth_inner(x, n) {
                    return Some(r);
                }
            }
            None
        }
        _ => None,
    }
}

fn random_node<'a>(tree: &'a mut Value, rng: &mut Rng) -> &'a mut Value {
    let n = rng.below(count(tree));
    // `n` is below the count, so the node exists; the fallback keeps this total.
    if nth(tree, n).is_none() {
        return tree;
    }
    nth(tree, n).expect("counted")
}

/// A random container (object or array) of `tree`, trying a few nodes; `tree` itself otherwise.
fn random_container<'a>(tree: &'a mut Value, rng: &mut Rng) -> &'a mut Value {
    let total = count(tree);
    let mut chosen = 0;
    for _ in 0..8 {
        let n = rng.below(total);
        let is_container = nth(tree, n).is_some_and(|v| v.is_object() || v.is_array());
        if is_container {
            chosen = n;
            break;
        }
    }
    if nth(tree, chosen).is_none() {
        return tree;
    }
    nth(tree, chosen).expect("counted")
}

fn random_subtree(tree: &Value, rng: &mut Rng) -> Value {
    let mut copy = tree.clone();
    random_node(&mut copy, rng).take()
}

/// An edge value, or a vocabulary string, or a value of another JSON type than `old`'s.
fn edge(rng: &mut Rng, vocab: &Vocabulary) -> Value {
    match rng.below(5) {
        0 => Value::String(rng.pick(&vocab.strings).clone()),
        1 => Value::String(rng.pick(&vocab.type_urls).clone()),
        2 => Value::String(raw_placeholder(rng.below(RAW.len()))),
        _ => serde_json::from_str(*rng.pick(EDGES)).expect("EDGES are JSON"),
    }
}

fn retype(old: &Value, rng: &mut Rng, vocab: &Vocabulary) -> Value {
    let s = match old {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    };
    match (old, rng.below(6)) {
        (Value::String(_), 0) => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (_, 0) | (_, 1) => Value::String(if s.is_empty() { old.to_string() } else { s }),
        (_, 2) => Value::Array(vec![old.clone()]),
        (_, 3) => {
            let mut m = Map::new();
            m.insert(rng.pick(&vocab.keys).clone(), old.clone());
            Value::Object(m)
        }
        (_, 4) => Value::Bool(rng.below(2) == 0),
        _ => Value::Null,
    }
}

fn deep(rng: &mut Rng) -> Value {
    // Around serde_json's recursion limit (128) and well inside it.
    let depth = *rng.pick(&[8usize, 40, 120, 126, 127, 128, 200]);
    let mut v = Value::Null;
    for i in 0..depth {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Object(Map::from_iter([("a".to_string(), v)]))
        };
    }
    v
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Garbage where bytes or certificates are expected: base64 of random bytes, of a cut DER
/// header, PEM armour around either.
fn garbage_bytes(rng: &mut Rng) -> Value {
    let len = rng.below(64);
    let mut raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    if rng.below(2) == 0 {
        // A DER SEQUENCE that claims more than it holds.
        raw.splice(0..0, [0x30, 0x82, 0x04, 0x00]);
    }
    let b = base64(&raw);
    Value::String(match rng.below(3) {
        0 => b,
        1 => format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----\n"),
        _ => base64(
            format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----\n").as_bytes(),
        ),
    })
}

/// One mutation of `tree`.
pub fn mutate_tree(tree: &mut Value, rng: &mut Rng, vocab: &Vocabulary, bytes: ByteMutator) {
    match rng.below(13) {
        // Delete a member or an element.
        0 | 1 => match random_container(tree, rng) {
            Value::Object(o) if !o.is_empty() => {
                let k = o
                    .keys()
                    .nth(rng.below(o.len()))
                    .cloned()
                    .expect("not empty");
                o.remove(&k);
            }
            Value::Array(a) if !a.is_empty() => {
                a.remove(rng.below(a.len()));
            }
            _ => {}
        },
        // Duplicate an element (same name twice in a list), or a member under another key.
        2 => match random_container(tree, rng) {
            Value::Array(a) if !a.is_empty() => {
                let x = a[rng.below(a.len())].clone();
                a.insert(rng.below(a.len() + 1), x);
            }
            Value::Object(o) if !o.is_empty() => {
                let x = o
                    .values()
                    .nth(rng.below(o.len()))
                    .cloned()
                    .expect("not empty");
                o.insert(rng.pick(&vocab.keys).clone(), x);
            }
            _ => {}
        },
        // Another JSON type in the same place.
        3 => {
            let node = random_node(tree, rng);
            *node = retype(node, rng, vocab);
        }
        // An edge value.
        4 | 5 => {
            let v = edge(rng, vocab);
            *random_node(tree, rng) = v;
        }
        // Swap an `@type` (or `type_url`) among the known ones.
        6 => {
            let url = rng.pick(&vocab.type_urls).clone();
            let mut slots = Vec::new();
            type_slots(tree, &mut Vec::new(), &mut slots);
            if let Some(path) = slots.get(rng.below(slots.len())).cloned() {
                if let Some(v) = at_path(tree, &path) {
                    *v = Value::String(url);
                }
            } else if let Value::Object(o) = tree {
                o.insert("@type".into(), Value::String(url));
            }
        }
        // Rename a key to one the fixtures use.
        7 => {
            if let Value::Object(o) = random_container(tree, rng) {
                if !o.is_empty() {
                    let k = o
                        .keys()
                        .nth(rng.below(o.len()))
                        .cloned()
                        .expect("not empty");
                    let x = o.remove(&k).expect("present");
                    o.insert(rng.pick(&vocab.keys).clone(), x);
                }
            }
        }
        // Add a member the fixtures use, holding an edge value or a copy of a subtree.
        8 => {
            let value = if rng.below(2) == 0 {
                edge(rng, vocab)
            } else {
                random_subtree(tree, rng)
            };
            let key = rng.pick(&vocab.keys).clone();
            match random_container(tree, rng) {
                Value::Object(o) => {
                    o.insert(key, value);
                }
                Value::Array(a) => a.insert(rng.below(a.len() + 1), value),
                _ => {}
            }
        }
        // Copy a subtree over another node (splice within the input).
        9 => {
            let sub = random_subtree(tree, rng);
            *random_node(tree, rng) = sub;
        }
        // Byte mutations inside one string (stays valid JSON).
        10 => {
            let node = random_node(tree, rng);
            if let Value::String(s) = node {
                let mut buf = s.clone().into_bytes();
                let len = buf.len();
                buf.resize(len * 2 + 16, 0);
                let cap = buf.len();
                let n = bytes(&mut buf, len, cap);
                buf.truncate(n);
                *s = String::from_utf8_lossy(&buf).into_owned();
            } else if let Value::Number(n) = node {
                let f = n.as_f64().unwrap_or(0.0);
                *node = serde_json::from_str(&match rng.below(4) {
                    0 => format!("{}", n.as_i64().unwrap_or(0).wrapping_add(1)),
                    1 => format!("{}", -(f.abs()) - 1.0),
                    2 => format!("{}", (f * 65536.0).min(1e300)),
                    _ => format!("{}", n.as_u64().unwrap_or(0).wrapping_sub(1)),
                })
                .unwrap_or(Value::Null);
            }
        }
        // Deep nesting.
        11 => {
            let v = deep(rng);
            *random_node(tree, rng) = v;
        }
        // Garbage base64/PEM/DER inside valid JSON.
        _ => {
            let v = garbage_bytes(rng);
            let mut slots = Vec::new();
            bytes_slots(tree, &mut Vec::new(), &mut slots);
            match slots.get(rng.below(slots.len())) {
                Some(path) => {
                    if let Some(x) = at_path(tree, path) {
                        *x = v;
                    }
                }
                None => *random_node(tree, rng) = v,
            }
        }
    }
}

/// A path from the root: object keys and array indexes.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at_path<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(o)) => o.get_mut(k)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn walk_slots(
    v: &Value,
    here: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
    wanted: &dyn Fn(&str) -> bool,
) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                here.push(Step::Key(k.clone()));
                if wanted(k) && x.is_string() {
                    out.push(here.clone());
                }
                walk_slots(x, here, out, wanted);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Step::Index(i));
                walk_slots(x, here, out, wanted);
                here.pop();
            }
        }
        _ => {}
    }
}

fn type_slots(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    walk_slots(v, here, out, &|k| {
        k == "@type" || k == "type_url" || k == "typeUrl"
    });
}

fn bytes_slots(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    walk_slots(v, here, out, &|k| {
        matches!(
            k,
            "inline_bytes"
                | "inline_string"
                | "value"
                | "certificate_chain"
                | "cert_chain"
                | "root_cert"
                | "pem"
        )
    });
}

/// Put a subtree of `b` into `a`: over the member of the same name when `a` has one (a cluster
/// from one dump into another's cluster), else over a random node.
fn splice_between(a: &mut Value, b: &Value, rng: &mut Rng) {
    let mut b = b.clone();
    let mut all = Vec::new();
    collect_paths(&b, &mut Vec::new(), &mut all);
    let Some(path) = all.get(rng.below(all.len())).cloned() else {
        *a = b;
        return;
    };
    let Some(sub) = at_path(&mut b, &path).map(|v| v.take()) else {
        return;
    };
    if let Some(Step::Key(k)) = path.last() {
        let mut any = Vec::new();
        collect_paths(a, &mut Vec::new(), &mut any);
        let targets: Vec<_> = any
            .into_iter()
            .filter(|p| matches!(p.last(), Some(Step::Key(x)) if x == k))
            .collect();
        if let Some(t) = targets.get(rng.below(targets.len())) {
            if let Some(slot) = at_path(a, t) {
                *slot = sub;
                return;
            }
        }
    }
    *random_node(a, rng) = sub;
}

fn collect_paths(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                here.push(Step::Key(k.clone()));
                out.push(here.clone());
                collect_paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Step::Index(i));
                out.push(here.clone());
                collect_paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for libFuzzer's byte mutator: flips the first byte.
    fn flip(data: &mut [u8], size: usize, _max: usize) -> usize {
        if size > 0 {
            data[0] ^= 0x20;
        }
        size
    }

    fn vocab() -> Vocabulary {
        Vocabulary {
            keys: vec!["name".into(), "cluster".into(), "inline_bytes".into()],
            type_urls: vec![
                "type.googleapis.com/envoy.config.cluster.v3.Cluster".into(),
                "type.googleapis.com/envoy.config.listener.v3.Listener".into(),
            ],
            strings: vec!["outbound|80||a.default.svc.cluster.local".into()],
        }
    }

    #[test]
    fn every_mutation_keeps_the_input_json_and_most_change_it() {
        let seed: Value = serde_json::from_str(r#"{"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster","name":"a","connect_timeout":"1s","transport_socket":{"typed_config":{"@type":"type.googleapis.com/x","inline_bytes":"AAAA"}},"lb":[1,2,{"x":true}]}"#).unwrap();
        let v = vocab();
        let mut changed = 0;
        for s in 0..2000u32 {
            let mut t = seed.clone();
            let mut rng = Rng::new(s);
            mutate_tree(&mut t, &mut rng, &v, flip);
            let text = serde_json::to_string(&t).unwrap();
            // Written back, it parses (deep nesting past 128 is the one exception, on purpose).
            let back = serde_json::from_str::<Value>(&text);
            assert!(
                back.is_ok() || text.matches('[').count() >= 60,
                "seed {s}: {text}"
            );
            if t != seed {
                changed += 1;
            }
        }
        assert!(
            changed > 1500,
            "only {changed} of 2000 mutations changed the tree"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_mutation() {
        let seed = br#"{"name":"a","lb":[1,2,3],"x":{"@type":"type.googleapis.com/y"}}"#;
        let run = |s| {
            let mut buf = vec![0u8; 4096];
            buf[..seed.len()].copy_from_slice(seed);
            let n = mutate(&mut buf, seed.len(), 4096, s, flip);
            buf.truncate(n);
            buf
        };
        for s in 0..200 {
            assert_eq!(run(s), run(s));
        }
    }

    #[test]
    fn type_swaps_use_known_urls() {
        let v = vocab();
        let mut seen = 0;
        for s in 0..500u32 {
            let mut t: Value = serde_json::from_str(r#"{"@type":"type.googleapis.com/old","a":{"type_url":"type.googleapis.com/old2"}}"#).unwrap();
            let mut rng = Rng::new(s);
            // Force the type-swap branch by looking for its effect.
            mutate_tree(&mut t, &mut rng, &v, flip);
            let text = t.to_string();
            if text.contains("envoy.config.cluster.v3.Cluster")
                || text.contains("envoy.config.listener.v3.Listener")
            {
                seen += 1;
            }
        }
        assert!(seen > 20, "{seen}");
    }

    #[test]
    fn not_json_goes_to_the_byte_mutator_and_oversize_falls_back() {
        let mut buf = b"{not json".to_vec();
        let n = mutate(&mut buf, 9, 9, 1, flip);
        assert_eq!(&buf[..n], b"[not json");
        // A tree that would not fit in max_size: the byte mutator instead.
        let mut small = br#"{"a":1}"#.to_vec();
        for s in 0..200 {
            let mut b = small.clone();
            let n = mutate(&mut b, 7, 7, s, flip);
            assert!(n <= 7);
        }
        small.clear();
    }

    #[test]
    fn crossover_puts_a_member_of_one_over_the_same_name_in_the_other() {
        let a = br#"{"cluster":{"name":"a","type":"EDS"}}"#;
        let b = br#"{"cluster":{"name":"b","type":"STATIC"}}"#;
        let mut hits = 0;
        for s in 0..300 {
            let mut out = vec![0u8; 1024];
            let n = crossover(a, b, &mut out, s);
            let v: Value = serde_json::from_slice(&out[..n]).unwrap();
            if v.to_string().contains("\"b\"") || v.to_string().contains("STATIC") {
                hits += 1;
            }
        }
        assert!(hits > 100, "{hits}");
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"-----BEGIN"), "LS0tLS1CRUdJTg==");
    }

    #[test]
    fn the_fixture_vocabulary_has_envoys_words() {
        let v = Vocabulary::fixtures();
        assert!(v.keys.iter().any(|k| k == "transport_socket"));
        assert!(v
            .type_urls
            .iter()
            .any(|t| t == "type.googleapis.com/envoy.config.cluster.v3.Cluster"));
        assert!(v.strings.len() > 100);
    }
}
