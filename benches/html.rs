//! The bundle page at fleet scale: istioctl bug-report trees of 500 and 2,000 proxies (the two
//! real Envoy 1.40 sidecar captures, alternating; `BENCH_SIZES="500 2000 4000"` to choose), each
//! written by `envinspect bundle DIR -o html`, then opened in headless Chromium (Debian's, over
//! WebDriver, as the tests drive it). Prints the page's size and bytes per proxy (linear: the
//! same per proxy at every size), and the time to DOMContentLoaded, best of 3, beside a baseline
//! measured in the same run: a bare page with one plain table row per proxy, no style or script.
//! The goal (docs/performance.md): the 2,000-proxy page under 3 s. `cargo bench --bench html`.

#[allow(dead_code)]
mod support;

use support::browser;

use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-12-01T00:00:00Z";

fn tree(root: &Path, n: usize) -> PathBuf {
    let src = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/envoy-1.40-trace/sidecar.json"),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/envoy-1.40/config_dump_include_eds.json"),
    ];
    let dir = root.join(format!("bug-report-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    for i in 0..n {
        let d = dir.join(format!("proxies/ns{}/pod-{i}", i % 20));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::hard_link(&src[i % 2], d.join("config_dump?include_eds"))
            .or_else(|_| std::fs::copy(&src[i % 2], d.join("config_dump?include_eds")).map(|_| ()))
            .expect("link");
    }
    dir
}

/// A page with the same number of rows and nothing else: what a browser needs at least.
fn baseline(n: usize) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>b</title></head><body><table>",
    );
    for i in 0..n {
        s.push_str(&format!(
            "<tr><td>ns{}/pod-{i}</td><td>spiffe://cluster.local/ns/default/sa/foo</td><td>cluster.local</td><td>356d</td><td>8891590e3775</td><td>N/A</td><td>18443:STRICT</td><td>1</td><td>2</td></tr>",
            i % 20
        ));
    }
    s.push_str("</table></body></html>");
    s
}

/// DOMContentLoaded of `page` in milliseconds, best of 3.
fn dcl(b: &browser::Browser, page: &Path) -> f64 {
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    (0..3)
        .map(|run| {
            // A fresh navigation each time (a new query string), from a blank page.
            b.open_url("about:blank");
            b.open_url(&format!("{url}?run={run}"));
            b.eval("return performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;")
                .as_f64()
                .expect("a time")
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "500 2000".into())
        .split_whitespace()
        .map(|s| s.parse().expect("a size"))
        .collect();
    let work = std::env::temp_dir().join(format!("envinspect-html-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("mkdir");
    let b = browser::Browser::start(1280, 900);
    println!(
        "{:>8} {:>9} {:>14} {:>10} {:>13} {:>7}",
        "proxies", "page MB", "bytes/proxy", "DCL ms", "baseline ms", "ratio"
    );
    for n in sizes {
        let dir = tree(&work, n);
        let out = Command::new(env!("CARGO_BIN_EXE_envinspect"))
            .args([
                "bundle",
                dir.to_str().unwrap(),
                "--jobs",
                "2",
                "--now",
                NOW,
                "-o",
                "html",
            ])
            .output()
            .expect("envinspect");
        assert!(
            out.status.code().unwrap_or(2) <= 1,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let page = work.join(format!("fleet-{n}.html"));
        std::fs::write(&page, &out.stdout).expect("write");
        let base = work.join(format!("baseline-{n}.html"));
        std::fs::write(&base, baseline(n)).expect("write");
        let (ours, floor) = (dcl(&b, &page), dcl(&b, &base));
        println!(
            "{n:>8} {:>9.2} {:>14} {ours:>10.0} {floor:>13.0} {:>7.1}",
            out.stdout.len() as f64 / 1e6,
            out.stdout.len() / n,
            ours / floor.max(1.0)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(b);
    let _ = std::fs::remove_dir_all(&work);
}
