//! The binary on a real terminal: a pseudo-terminal (openpty) stands in for the user's, so what
//! is drawn only for a terminal — progress on stderr, colour under `--color auto` — is seen as a
//! user sees it, and the same run with pipes is seen to draw nothing.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::fixture;

/// After every certificate in the capture expires: the report has findings, the table an error cell.
const EXPIRED: &str = "2030-01-01T00:00:00Z";

/// A pseudo-terminal of 100 columns: (master, slave).
fn pty() -> (File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors it opened into the ints it is given; the name and
    // termios arguments may be null. Each descriptor is owned by exactly one value below.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Everything the terminal showed until every holder of its other end closed it (Linux answers
/// EIO at the end).
fn drain(mut master: File) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(seen);
    });
    rx
}

/// What the terminal showed; a bounded wait, so a descriptor left open fails the test instead
/// of hanging it.
fn shown(rx: mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the terminal was not closed within 60 s: is a copy of its slave end still open?")
}

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_envinspect"));
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    cmd
}

/// `envinspect - -o json` fed the dump in two parts, the second after a pause longer than the
/// bar's quiet time, with stderr on `stderr` (a terminal or a pipe): (exit code, stdout, what
/// stderr showed).
fn slow_stdin_run(stderr_on_terminal: bool) -> (i32, Vec<u8>, Vec<u8>) {
    let dump = std::fs::read(fixture("envoy-1.40/config_dump.json")).unwrap();
    let mut cmd = binary();
    cmd.args(["-", "-o", "json", "--now", EXPIRED])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let (terminal, slave) = if stderr_on_terminal {
        let (master, slave) = pty();
        (Some(drain(master)), Some(slave))
    } else {
        cmd.stderr(Stdio::piped());
        (None, None)
    };
    if let Some(slave) = &slave {
        cmd.stderr(Stdio::from(slave.try_clone().unwrap()));
    }
    let mut child = cmd.spawn().unwrap();
    // Only the child may hold the terminal now (the Command keeps a copy of what it was given),
    // so the master sees its end when the child exits.
    drop(cmd);
    drop(slave);
    let mut stdin = child.stdin.take().unwrap();
    let (first, rest) = dump.split_at(dump.len() / 2);
    stdin.write_all(first).unwrap();
    stdin.flush().unwrap();
    thread::sleep(Duration::from_millis(900));
    stdin.write_all(rest).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let shown = match terminal {
        Some(reader) => shown(reader),
        None => out.stderr,
    };
    (out.status.code().unwrap_or(-1), out.stdout, shown)
}

#[test]
fn progress_is_drawn_on_a_terminal_and_never_into_the_output() {
    let (code, stdout, shown) = slow_stdin_run(true);
    assert_eq!(code, 1, "the expired dump has findings");
    let shown = String::from_utf8_lossy(&shown);
    // The bar names the phase and counts the bytes that have arrived (stdin has no known size).
    assert!(shown.contains("reading"), "terminal showed: {shown:?}");
    assert!(
        shown.contains("KiB"),
        "no byte count on the terminal: {shown:?}"
    );
    // indicatif clears what it drew: the last thing on the terminal erases the line.
    assert!(shown.contains("\x1b[2K"), "bar not cleared: {shown:?}");
    // stdout is the JSON document alone.
    let doc: serde_json::Value = serde_json::from_slice(&stdout).expect("stdout is pure JSON");
    assert!(doc["identity"].is_object(), "{doc}");

    // The same run with stderr a pipe: no progress, and the same document.
    let (code_piped, stdout_piped, stderr_piped) = slow_stdin_run(false);
    assert_eq!(code_piped, code);
    assert_eq!(stdout_piped, stdout);
    assert_eq!(String::from_utf8_lossy(&stderr_piped), "");
}

/// `envinspect secrets --now EXPIRED dump` with stdout on a terminal: what it showed.
fn secrets_on_a_terminal(extra_env: &[(&str, &str)]) -> String {
    let (master, slave) = pty();
    let reader = drain(master);
    let mut cmd = binary();
    cmd.args([
        "secrets",
        "--now",
        EXPIRED,
        &fixture("envoy-1.40/config_dump.json"),
    ])
    .envs(extra_env.iter().copied())
    .stdin(Stdio::null())
    .stdout(Stdio::from(slave.try_clone().unwrap()))
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    drop(slave);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&shown(reader)).into_owned()
}

#[test]
fn colour_by_default_on_a_terminal_unless_no_color() {
    let painted = secrets_on_a_terminal(&[]);
    assert!(
        painted.contains("\x1b[1;31merror\x1b[0m"),
        "no colour on a terminal: {painted:?}"
    );
    // NO_COLOR set (to anything non-empty) turns it off, as ripgrep and cargo do.
    let plain = secrets_on_a_terminal(&[("NO_COLOR", "1")]);
    assert!(plain.contains("cert-expired"), "{plain:?}");
    assert!(
        !plain.contains('\x1b'),
        "colour despite NO_COLOR: {plain:?}"
    );
    // An empty NO_COLOR is unset.
    let empty = secrets_on_a_terminal(&[("NO_COLOR", "")]);
    assert_eq!(empty, painted);
}
