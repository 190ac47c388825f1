//! Any bytes as PEM or DER certificates: parsed, linted, verified against themselves as roots.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now: envinspect::model::Timestamp =
        time::OffsetDateTime::from_unix_timestamp(1_730_419_200)
            .unwrap()
            .into();
    let _ = envinspect::parse_certificates(data, now);
    let input = envinspect::Input {
        name: "fuzz.pem".into(),
        bytes: data.to_vec(),
    };
    let mut opts = envinspect::Options::at(now);
    opts.roots = Some(input.clone());
    let _ = envinspect::inspect(&input, &opts);
});
