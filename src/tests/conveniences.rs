//! What users expect of a CLI in this ecosystem (issue 19): one meaning per flag, colour on
//! request only, completions and a man page, standard input, progress told to the library's
//! watcher and never written into the output.

use std::sync::Mutex;

use crate::{envinspect, envinspect_stdin, envinspect_with, fixture, NOW_140};

const EXPIRED: &str = "2030-01-01T00:00:00Z";

#[test]
fn a_port_is_a_tcp_port_on_every_command() {
    let dump = fixture("envoy-1.40/config_dump.json");
    for cmd in [
        vec!["clusters", "--port"],
        vec!["listeners", "--port"],
        vec!["endpoints", "--port"],
        vec!["authz", "--port"],
        vec!["trace", "--inbound"],
    ] {
        let mut args = cmd.clone();
        args.extend(["70000", dump.as_str()]);
        let run = envinspect(&args);
        assert_eq!(run.code, 2, "{cmd:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("70000 is not in 0..=65535"),
            "{cmd:?}: {}",
            run.stderr
        );
        // The same port in range is read by every one of them.
        let mut args = cmd.clone();
        args.extend(["15006", dump.as_str(), "--now", NOW_140]);
        let run = envinspect(&args);
        assert!(run.code == 0 || run.code == 1, "{cmd:?}: {}", run.stderr);
    }
}

#[test]
fn expect_takes_the_output_flag_of_every_command_and_refuses_a_table() {
    let dump = fixture("envoy-1.40/config_dump.json");
    let run = envinspect(&["expect", "-o", "table", &dump, "--now", NOW_140]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "envinspect: error: expect: writes expectations as yaml or json; -o table has no meaning here\n"
    );
    assert!(run.stdout.is_empty());
    let yaml = envinspect(&["expect", &dump, "--now", NOW_140]);
    assert_eq!(yaml.code, 0, "{}", yaml.stderr);
    assert!(yaml.stdout.starts_with("# envinspect expectations"));
    let json = envinspect(&["expect", "-o", "json", &dump, "--now", NOW_140]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert!(v.get("identity").is_some(), "{}", json.stdout);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_without_no_color() {
    let dump = fixture("envoy-1.40/config_dump.json");
    let args = |c: &'static str| vec!["secrets", "--color", c, "--now", EXPIRED];
    let always = {
        let mut a = args("always");
        a.push(&dump);
        envinspect(&a)
    };
    assert_eq!(always.code, 1, "{}", always.stderr);
    assert!(
        always
            .stdout
            .contains("\x1b[1;31merror\x1b[0m   cert-expired"),
        "{}",
        always.stdout
    );
    // Only the level cell is painted; everything else is byte for byte the plain table.
    let never = {
        let mut a = args("never");
        a.push(&dump);
        envinspect(&a)
    };
    assert!(!never.stdout.contains('\x1b'));
    assert_eq!(
        always
            .stdout
            .replace("\x1b[1;31m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[0m", ""),
        never.stdout
    );
    // `auto` (the default) with stdout a pipe is plain, NO_COLOR or not.
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let run = envinspect_with(&["secrets", "--now", EXPIRED, &dump], None, env);
        assert_eq!(run.stdout, never.stdout);
    }
    // `check` colours its table the same way.
    let exp = fixture("expect/envoy140-drift.yaml");
    let run = envinspect(&[
        "check", "--color", "always", "--expect", &exp, &dump, "--now", NOW_140,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("\x1b[1;31mFAIL\x1b[0m"),
        "{}",
        run.stdout
    );
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "_envinspect()"),
        ("zsh", "#compdef envinspect"),
        ("fish", "complete -c envinspect"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = envinspect(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..200.min(run.stdout.len())]
        );
        // Every subcommand completes.
        for sub in ["bundle", "trace", "authz", "certs"] {
            assert!(run.stdout.contains(sub), "{shell}: no {sub}");
        }
    }
    let man = envinspect(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains(".TH envinspect 1"), "{}", man.stdout);
    assert!(man.stdout.contains("bundle"), "{}", man.stdout);
    let bad = envinspect(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn a_dash_is_standard_input_and_answers_as_the_file_does() {
    let path = fixture("envoy-1.40/config_dump.json");
    let bytes = std::fs::read(crate::root().join(&path)).unwrap();
    let piped = envinspect_stdin(&["clusters", "-", "--now", NOW_140], Some(&bytes));
    let file = envinspect(&["clusters", &path, "--now", NOW_140]);
    assert_eq!(piped.code, file.code);
    assert_eq!(
        piped.stdout.replace("<stdin>", &path),
        file.stdout,
        "{}",
        piped.stderr
    );
}

/// Records what the library tells its watcher.
#[derive(Default)]
struct Recorder {
    phases: Mutex<Vec<(envinspect::progress::Phase, Option<u64>)>>,
    bytes: Mutex<u64>,
    items: Mutex<u64>,
}

impl envinspect::progress::Progress for Recorder {
    fn phase(&self, phase: envinspect::progress::Phase, total: Option<u64>) {
        self.phases.lock().unwrap().push((phase, total));
    }
    fn bytes(&self, n: u64) {
        *self.bytes.lock().unwrap() += n;
    }
    fn items(&self, done: u64) {
        let mut i = self.items.lock().unwrap();
        *i = (*i).max(done);
    }
}

#[test]
fn a_dump_tells_its_phases_and_bytes_read_of_its_size() {
    use envinspect::progress::Phase;
    let path = crate::root().join(fixture("envoy-1.40/config_dump.json"));
    let size = std::fs::metadata(&path).unwrap().len();
    let rec = Recorder::default();
    // As the binary reads a file and inspects it.
    let input = envinspect::read_file(&path, &rec).expect("reads");
    let opts = envinspect::Options::at(time::macros::datetime!(2026-12-01 0:00 UTC));
    let report = envinspect::inspect_owned(input, &opts, &rec).expect("inspects");
    let out = serde_json::to_vec(&envinspect::render::to_json(&report)).unwrap();
    let phases = rec.phases.lock().unwrap().clone();
    assert_eq!(
        phases,
        vec![
            (Phase::Read, Some(size)),
            (Phase::Parse, None),
            (Phase::Decode, None),
            (Phase::Extract, None),
            (Phase::Rules, None),
        ]
    );
    assert_eq!(*rec.bytes.lock().unwrap(), size);
    // The output is the report, not progress.
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json only");
    assert!(v.get("clusters").is_some());
}

#[test]
fn a_bundle_tells_the_archive_bytes_read_and_the_proxies_done() {
    use envinspect::progress::Phase;
    let dir = crate::bundle::sample_tgz("conveniences-progress");
    let size = std::fs::metadata(&dir).unwrap().len();
    let rec = Recorder::default();
    let mut opts =
        envinspect::bundle::BundleOptions::at(time::macros::datetime!(2026-12-01 0:00 UTC));
    opts.jobs = 2;
    let report = envinspect::bundle::analyse(&dir, &opts, &rec).expect("analyses");
    let mut out = Vec::new();
    envinspect::render::bundle::render_bundle(&report, envinspect::render::Format::Json, &mut out)
        .unwrap();
    let phases = rec.phases.lock().unwrap().clone();
    assert!(phases.contains(&(Phase::Bundle, Some(size))), "{phases:?}");
    assert_eq!(*rec.bytes.lock().unwrap(), size);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json only");
    let proxies = v["proxies"].as_array().expect("proxies").len() as u64;
    assert!(proxies > 0);
    assert_eq!(*rec.items.lock().unwrap(), proxies);
}
