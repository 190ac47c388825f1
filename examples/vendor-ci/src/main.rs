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
            eprintln!("{}", line(&e));
            return ExitCode::from(2);
        }
    };
    // Certificates are judged at a time the caller chooses: here, now.
    let opts = envinspect::Options::at(time::OffsetDateTime::now_utc());
    let report = match envinspect::inspect(&input, &opts) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{}", line(&e));
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

/// An error and its causes on one line (`dump.json: cannot read: No such file or directory`):
/// envinspect's errors name the file and the place, and keep the underlying error as a source.
fn line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
