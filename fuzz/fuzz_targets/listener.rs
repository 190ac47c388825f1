//! One listener resource inside the fixed skeleton (`envinspect_fuzz::resource`), mutated as a JSON
//! tree (`envinspect_fuzz::tree`): decoded, extracted and judged (its view and questions: `views`).
#![no_main]

use envinspect_fuzz::resource::{judge, Kind};
use envinspect_fuzz::tree;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    judge(Kind::Listener, data);
});

libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    tree::mutate(data, size, max_size, seed, libfuzzer_sys::fuzzer_mutate)
});

libfuzzer_sys::fuzz_crossover!(|a: &[u8], b: &[u8], out: &mut [u8], seed: u32| {
    tree::crossover(a, b, out, seed)
});
