//! Prints the identity (SPIFFE ID) of the proxy whose admin `/config_dump` is the first
//! argument. Exit 0 with the ID, 1 when the proxy has no workload identity, 2 when the dump
//! cannot be read. The first program of `docs/library.md`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: identity CONFIG_DUMP");
        return ExitCode::from(2);
    };
    let input = match envinspect::read_path(Path::new(&path)) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Certificates are judged at a time the caller chooses: here, now.
    let opts = envinspect::Options::at(time::OffsetDateTime::now_utc());
    let report = match envinspect::inspect(&input, &opts) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match report.identity.as_ref().and_then(|i| i.spiffe_id.as_ref()) {
        Some(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("{}: no workload identity", report.source);
            ExitCode::from(1)
        }
    }
}
