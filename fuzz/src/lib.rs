//! What the structure-aware fuzz targets share: a mutator over JSON trees ([`tree`]) and the
//! per-resource harness ([`resource`]) that places one cluster, listener, route configuration,
//! secret or endpoint assignment inside a fixed skeleton dump (the Envoy 1.40 capture, trimmed).
//!
//! libFuzzer's own mutations flip bytes, and nearly every flipped byte of a config dump is
//! invalid JSON that stops at the parser. These mutations keep the JSON valid and change its
//! structure instead: delete, duplicate and retype members, swap `@type`s among the known ones,
//! rename keys to ones Envoy writes, splice subtrees within and between inputs, and put edge
//! values (huge numbers, empty and NaN-like strings, deep nesting, base64 and PEM garbage) where
//! the decoder expects something else.
//!
//! The code here depends on neither libFuzzer nor the sanitizer, so its unit tests run on stable
//! (`cd fuzz && cargo test --lib`); the targets pass libFuzzer's byte mutator in as a function.

pub mod resource;
pub mod tree;
pub mod whole;
