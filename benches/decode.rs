//! Decoding speed against the floor: for generated dumps of both shapes (`generate`: 1k and 10k
//! clusters, 50k with `BENCH_FULL=1`; the replicated 1.40 capture: 440 and 4,400 copies), the time of `serde_json::from_slice::<Value>` (the floor a typed decoder
//! should approach) and of envinspect's whole pipeline as `envinspect big.json -o json` runs it
//! (read → parse → decode → extract → certificates → rules → JSON output), best of 3, with the
//! ratio. `cargo bench --bench decode`.

mod generate;

use std::time::{Duration, Instant};

/// The report as `-o json` writes it.
fn json(r: &envinspect::Report) -> Vec<u8> {
    let mut out = Vec::new();
    let (view, format) = (
        envinspect::render::View::Report,
        envinspect::render::Format::Json,
    );
    envinspect::render::render(
        r,
        view,
        format,
        envinspect::render::Color::Plain,
        None,
        &mut out,
    )
    .expect("render");
    out
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `-- --write FILE N`: only write a generated dump of N clusters, `-- --write-capture FILE K`
    // the 1.40 capture replicated K times (for benches/compare.sh).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let (file, n) = (&args[i + 1], args[i + 2].parse().expect("N"));
        std::fs::write(file, generate::dump(&root, n)).expect("write");
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--write-capture") {
        let (file, k) = (&args[i + 1], args[i + 2].parse().expect("K"));
        std::fs::write(file, generate::capture(&root, k)).expect("write");
        return;
    }
    // `-- --floor FILE`: only print the seconds (best of 3) of the serde_json floor on FILE.
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        let bytes = std::fs::read(&args[i + 1]).expect("read");
        let floor = best(3, || {
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
        });
        println!("{:.4}", floor.as_secs_f64());
        return;
    }
    let mut dumps: Vec<(String, Vec<u8>)> = vec![1_000, 10_000]
        .into_iter()
        .chain(std::env::var_os("BENCH_FULL").map(|_| 50_000))
        .map(|n| (format!("{n} clusters"), generate::dump(&root, n)))
        .collect();
    for k in [440, 4_400] {
        dumps.push((format!("capture x{k}"), generate::capture(&root, k)));
    }
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).expect("time");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut opts = envinspect::Options::at(now);
    opts.threads = threads;
    println!(
        "{:>15} {:>8} {:>14} {:>14} {:>8}",
        "dump", "MB", "serde_json", "envinspect", "ratio"
    );
    for (label, bytes) in dumps {
        let mb = bytes.len() as f64 / 1e6;
        let floor = best(3, || {
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
        });
        let input = envinspect::Input {
            name: "big.json".into(),
            bytes,
        };
        let ours = best(3, || {
            let r = envinspect::inspect(&input, &opts).expect("inspect");
            json(&r).len()
        });
        let rate = |d: Duration| format!("{:.0} MB/s", mb / d.as_secs_f64());
        println!(
            "{label:>15} {mb:>8.1} {:>14} {:>14} {:>7.2}x",
            rate(floor),
            rate(ours),
            floor.as_secs_f64() / ours.as_secs_f64()
        );
        phases(&input, &opts);
    }
}

/// Records when each phase began (the library reports phases; the bench owns the clock).
struct Clock(std::sync::Mutex<Vec<(&'static str, Instant)>>);

impl envinspect::progress::Progress for Clock {
    fn phase(&self, phase: envinspect::progress::Phase, _total: Option<u64>) {
        if let Ok(mut v) = self.0.lock() {
            v.push((phase.label(), Instant::now()));
        }
    }
}

/// Where the time goes, once: each phase as the library reports it, then the JSON output.
fn phases(input: &envinspect::Input, opts: &envinspect::Options) {
    let clock = Clock(Default::default());
    let r = envinspect::bench::inspect_watched(input, opts, &clock).expect("inspect");
    let t = Instant::now();
    let out = json(&r);
    let render = t.elapsed();
    let mut marks = clock.0.into_inner().unwrap_or_default();
    marks.push(("render", t));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut line = String::from("         phases:");
    for w in marks.windows(2) {
        line.push_str(&format!(" {} {:.0} ms,", w[0].0, ms(w[1].1 - w[0].1)));
    }
    let t = Instant::now();
    drop(r);
    let dropped = t.elapsed();
    println!(
        "{line} render {:.0} ms ({} bytes out), drop {:.0} ms",
        ms(render),
        out.len(),
        ms(dropped)
    );
}
