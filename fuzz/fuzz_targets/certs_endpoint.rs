//! Any bytes as Envoy's `/certs`, alone and against a config dump (stale-certs-endpoint).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static POOL: OnceLock<envinspect::Pool> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let pool = POOL.get_or_init(|| envinspect::Pool::load().expect("descriptors"));
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).unwrap();
    let input = envinspect::source::Input { name: "certs".into(), bytes: data.to_vec() };
    let Ok(certs) = envinspect::inspect(&input, pool, now) else { return };
    let mut dump = certs.clone();
    envinspect::rules::stale_certs(&mut dump, &certs);
    let _ = envinspect::render::render(&certs, envinspect::render::View::Certs, envinspect::render::Format::Table, &mut std::io::sink());
});
