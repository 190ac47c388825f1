//! One resource of any kind (`envinspect_fuzz::resource::Kind::guess`) inside the fixed skeleton,
//! mutated as a JSON tree (`envinspect_fuzz::tree`): judged, then the view of its kind in two
//! formats, a trace and an authorization question (`envinspect_fuzz::resource::run`).
#![no_main]

use envinspect_fuzz::resource::{run, Kind};
use envinspect_fuzz::tree;

libfuzzer_sys::fuzz_target!(|data: &[u8]| run(Kind::guess(data), data));

libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    tree::mutate(data, size, max_size, seed, libfuzzer_sys::fuzzer_mutate)
});

libfuzzer_sys::fuzz_crossover!(|a: &[u8], b: &[u8], out: &mut [u8], seed: u32| {
    tree::crossover(a, b, out, seed)
});
