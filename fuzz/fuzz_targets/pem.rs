//! Any bytes as PEM or DER certificates: parsed, linted, verified against themselves as roots.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static POOL: OnceLock<envinspect::Pool> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let pool = POOL.get_or_init(|| envinspect::Pool::load().expect("descriptors"));
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).unwrap();
    let _ = envinspect::cert::parse_certificates(data, now);
    let input = envinspect::source::Input { name: "fuzz.pem".into(), bytes: data.to_vec() };
    let _ = envinspect::inspect_with_roots(&input, Some(&input), pool, now);
});
