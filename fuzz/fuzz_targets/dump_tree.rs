//! The `dump` target's whole pipeline, fed by the structure-aware mutator: whole config dumps
//! whose trees are mutated and spliced (`envinspect_fuzz::tree`) instead of their bytes. Slow
//! per input (every view of a whole dump); the per-resource targets are the fast ones.
#![no_main]

use envinspect_fuzz::tree;

libfuzzer_sys::fuzz_target!(|data: &[u8]| envinspect_fuzz::whole::run(data));

libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    tree::mutate(data, size, max_size, seed, libfuzzer_sys::fuzzer_mutate)
});

libfuzzer_sys::fuzz_crossover!(|a: &[u8], b: &[u8], out: &mut [u8], seed: u32| {
    tree::crossover(a, b, out, seed)
});
