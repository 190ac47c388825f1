//! Any bytes as an expectations file and as a fleet expectations file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = envinspect::expect::Expectations::parse("fuzz.yaml", data) {
        let _ = e.to_yaml(&[]);
    }
    let _ = envinspect::expect::fleet::FleetExpectations::parse("fuzz.yaml", data);
});
