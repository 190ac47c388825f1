//! Not a target: what one per-resource input costs natively, without libFuzzer (N runs, default
//! 200), in the `views` target and in its per-resource one, and the skeleton and each of its
//! sections alone.
//! `cargo run --release --example rate -- corpus/cluster/FILE cluster`
use envinspect_fuzz::resource::{dump_with, judge, run, skeleton, Kind};
use serde_json::json;

fn time_inspect(label: &str, bytes: &[u8], n: u32) {
    let now = time::OffsetDateTime::from_unix_timestamp(1_796_083_200).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        let input = envinspect::Input {
            name: "f".into(),
            bytes: bytes.to_vec(),
        };
        let r = envinspect::inspect(&input, &envinspect::Options::at(now));
        std::hint::black_box(r.is_ok());
    }
    eprintln!(
        "{label}: {:?} per inspect of {} bytes",
        t.elapsed() / n,
        bytes.len()
    );
}

fn main() {
    let kind = std::env::args()
        .nth(2)
        .and_then(|n| Kind::named(&n))
        .unwrap_or(Kind::Cluster);
    let seed = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let n: u32 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let t = std::time::Instant::now();
    for _ in 0..n {
        run(kind, &seed);
    }
    eprintln!(
        "{:?} per run of the views target's harness",
        t.elapsed() / n
    );
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(judge(kind, &seed).is_some());
    }
    eprintln!(
        "{:?} per run of the per-resource targets' harness",
        t.elapsed() / n
    );
    time_inspect("skeleton + resource", &dump_with(kind, &seed).unwrap(), n);
    let sk = skeleton(kind);
    time_inspect("skeleton alone", sk.to_string().as_bytes(), n);
    for (i, s) in sk["configs"].as_array().unwrap().iter().enumerate() {
        let one = json!({"configs": [s]});
        time_inspect(
            &format!(
                "section {i} {}",
                s["@type"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('.')
                    .next()
                    .unwrap()
            ),
            one.to_string().as_bytes(),
            n,
        );
    }
}
