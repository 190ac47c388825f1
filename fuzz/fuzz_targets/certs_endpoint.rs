//! Any bytes as Envoy's `/certs`, alone and against a config dump (stale-certs-endpoint).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).unwrap();
    let input = envinspect::Input {
        name: "certs".into(),
        bytes: data.to_vec(),
    };
    let Ok(certs) = envinspect::inspect(&input, &envinspect::Options::at(now)) else {
        return;
    };
    let mut dump = certs.clone();
    envinspect::stale_certs(&mut dump, &certs);
    let _ = envinspect::render::render(
        &certs,
        envinspect::render::View::Certs,
        envinspect::render::Format::Table,
        envinspect::render::Color::Plain,
        None,
        &mut std::io::sink(),
    );
});
