//! Bundles that end or hold what cannot be read: a `.tar.gz` whose gzip stream is whole but ends
//! inside an entry, and a FIFO where a directory bundle's dump should be. Refused per entry, the
//! rest analysed, exit 2.

use serde_json::{json, Value};

use super::bundle::{bug_report, dir, tar_gz, write_tree};
use super::{envinspect, NOW_140};

/// A tar whose gzip stream is whole but which ends in the middle of an entry (a capture cut
/// while it was written): the entries before the cut are analysed, the cut is refused, exit 2.
#[test]
fn an_archive_ending_inside_an_entry_keeps_the_entries_before() {
    let files = bug_report();
    let d = dir("mid-entry");
    let whole = d.join("whole.tar.gz");
    tar_gz(&whole, &files, |_| {});
    let tar = {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&whole).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    // Past the first entry's header and into the second entry's body.
    let first = 512 + files[0].1.len().div_ceil(512) * 512;
    let cut = &tar[..first + 512 + 100];
    let path = d.join("cut.tar.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, cut).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let archive = path.display().to_string();
    let run = envinspect(&["bundle", &archive, "--now", NOW_140, "-o", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let refused = doc["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        refused[0],
        json!({"path": files[1].0, "reason": format!(
            "the archive ends inside this entry: 100 of its {} bytes", files[1].1.len())}),
        "{refused:?}"
    );
    // The first entry, whole before the cut, is read; the cut one is no proxy's row.
    let first_proxy = files[0].0.split('/').nth(3).unwrap();
    let cut_proxy = files[1].0.split('/').nth(3).unwrap();
    assert!(
        !doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["proxy"].as_str().unwrap().ends_with(cut_proxy)),
        "{}",
        doc["proxies"]
    );
    assert!(
        doc["proxies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["proxy"].as_str().unwrap().ends_with(first_proxy)),
        "{}",
        doc["proxies"]
    );
}

/// A directory bundle with a FIFO where a dump should be (a file that cannot be read as one):
/// refused as not a regular file, never opened (reading a FIFO would block), the rest analysed.
#[test]
fn a_fifo_in_a_directory_bundle_is_refused_not_read() {
    let d = dir("fifo");
    let files = bug_report();
    write_tree(&d, &files);
    let fifo = d.join("proxies/default/fifo-1/config_dump?include_eds");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let started = std::time::Instant::now();
    let run = envinspect(&[
        "bundle",
        &d.display().to_string(),
        "--now",
        NOW_140,
        "-o",
        "json",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["refused"],
        json!([{"path": "proxies/default/fifo-1/config_dump?include_eds",
                "reason": "not a regular file (device, fifo…)"}])
    );
    assert!(
        doc["proxies"].as_array().unwrap().len() >= 2,
        "{}",
        doc["proxies"]
    );
}
