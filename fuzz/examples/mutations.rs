//! Not a target: what the tree mutator makes of a seed (without libFuzzer): of N mutation chains
//! (each up to 5 mutations deep) of every seed in a corpus directory, how many are still JSON,
//! how many the per-resource harness places, and how many envinspect reads into a report.
//! `cargo run --release --example mutations -- corpus/cluster cluster [N]`
use envinspect_fuzz::resource::{dump_with, Kind};
use envinspect_fuzz::tree;

/// Stands in for libFuzzer's byte mutator: flips one bit of the first byte.
fn flip(data: &mut [u8], size: usize, _max: usize) -> usize {
    if size > 0 {
        data[0] ^= 1;
    }
    size
}

fn main() {
    let dir = std::env::args().nth(1).expect("a corpus directory");
    let kind = std::env::args()
        .nth(2)
        .and_then(|n| Kind::named(&n))
        .unwrap_or(Kind::Cluster);
    let n: u32 = std::env::args()
        .nth(3)
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).unwrap();
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    seeds.sort();
    let (mut total, mut json, mut read) = (0u32, 0u32, 0u32);
    for (i, path) in seeds.iter().enumerate() {
        let seed = std::fs::read(path).unwrap();
        for s in 0..n {
            let mut buf = seed.clone();
            buf.resize(seed.len() * 2 + 4096, 0);
            let mut size = seed.len();
            for d in 0..(1 + s % 5) {
                let cap = buf.len();
                size = tree::mutate(&mut buf, size, cap, (i as u32) * 7919 + s * 31 + d, flip);
            }
            total += 1;
            let Some(dump) = dump_with(kind, &buf[..size]) else {
                continue;
            };
            json += 1;
            let input = envinspect::Input {
                name: "f".into(),
                bytes: dump,
            };
            if envinspect::inspect(&input, &envinspect::Options::at(now)).is_ok() {
                read += 1;
            }
        }
    }
    println!(
        "{total} mutated inputs: {json} JSON ({:.1}%), {read} read into a report ({:.1}%)",
        100.0 * json as f64 / total as f64,
        100.0 * read as f64 / total as f64
    );
}
