//! The one integration-test harness: runs the real `envinspect` binary from the repository root
//! with a clean environment, and records exit code, stdout and stderr. Snapshots live in
//! `snapshots/` at the top (no module prefix); redactions are set here, once.

mod support;
use support::{
    authz_config, envoy, explain_cases, explain_config, jwt, pki, rules_cases, sidecar_config,
    trace_config,
};
mod admin_faults;
mod ambient;
mod ambient_authz;
mod ambient_bundle;
mod ambient_certs;
mod ambient_live;
mod authz;
mod authz_live;
mod authz_meshes;
mod authz_reasons;
mod authz_sidecar;
mod bundle;
mod bundle_faults;
mod bundle_fleet;
mod certs;
mod chain_source_live;
mod conveniences;
mod eds_live;
mod errors;
mod expect;
mod expect_drift;
mod explain;
mod explain_bundle;
mod explain_live;
mod goldens;
mod html_browser;
mod inbound_live;
mod library;
mod live;
mod meshes;
mod meshes_live;
mod proxy_status;
mod public_dumps_live;
mod report_lines;
mod rules;
mod server_tls_live;
pub(crate) mod snapshots;
mod sni_modes_live;
mod sync_live;
mod terminal;
mod trace;
mod trace_live;
mod trace_sidecar;
mod warming_live;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fixed `--now` for everything that judges certificates (2024-11-01: after the istio golden's
/// leaf expired, before its roots do, as when istioctl wrote its goldens).
pub const NOW: &str = "2024-11-01T00:00:00Z";

/// Within the validity of the Envoy 1.40 capture's certificates (issued 2026-11-22).
pub const NOW_140: &str = "2026-12-01T00:00:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The snapshot text: command, exit code, stdout, stderr.
    pub fn transcript(&self, args: &[&str]) -> String {
        format!(
            "$ envinspect {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
    /// Not an error: exit 0 (clean) or 1 (findings), and nothing on stderr.
    pub fn assert_ok(&self, what: &str) {
        assert!(
            self.code == 0 || self.code == 1,
            "{what}: exit {}: {}",
            self.code,
            self.stderr
        );
        assert!(self.stderr.is_empty(), "{what}: {}", self.stderr);
    }
}

pub fn envinspect(args: &[&str]) -> Run {
    envinspect_stdin(args, None)
}

pub fn envinspect_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    envinspect_with(args, stdin, &[])
}

/// The binary with a clean environment plus `PATH` and `env`.
pub fn envinspect_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_envinspect"));
    cmd.args(args)
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() {
        std::process::Stdio::piped()
    } else {
        std::process::Stdio::null()
    });
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("the envinspect binary runs");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("envinspect finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Snapshot settings shared by every snapshot test.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.add_filter(r"envinspect \d+\.\d+\.\d+", "envinspect [VERSION]");
    s
}

pub fn fixture(rel: &str) -> String {
    let p = Path::new("fixtures").join(rel);
    assert!(root().join(&p).exists(), "missing fixture {}", p.display());
    p.to_string_lossy().into_owned()
}
