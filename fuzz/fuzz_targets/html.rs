//! Any bytes as a dump, written as every HTML page of a report: the page holds only the markup
//! the renderer writes (no tag, attribute, script or URL from the input), whatever the names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::from_unix_timestamp(1_730_419_200).unwrap();
    let input = envinspect::Input {
        name: String::from_utf8_lossy(&data[..data.len().min(16)]).into_owned(),
        bytes: data.to_vec(),
    };
    let Ok(report) = envinspect::inspect(&input, &envinspect::Options::at(now)) else {
        return;
    };
    use envinspect::render::{render, Color, Format, View};
    for view in [
        View::Report,
        View::Certs,
        View::Clusters,
        View::Listeners,
        View::Routes,
        View::Endpoints,
        View::Secrets,
    ] {
        let mut out = Vec::new();
        if render(&report, view, Format::Html, Color::Plain, None, &mut out).is_err() {
            continue;
        }
        let page = String::from_utf8(out).expect("a page is UTF-8");
        if let Err(e) = envinspect::bench::html_markup_is_ours(&page) {
            panic!("{view:?}: {e}");
        }
    }
});
