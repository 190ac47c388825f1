//! envinspect: reads what an Envoy proxy says about itself (a `/config_dump`, `/certs`,
//! `/clusters`, `/server_info`) and answers who it is, whom it trusts and how its traffic flows.
//!
//! Start with [`inspect`] (or [`Inspection`] in a test): a document read with [`read_path`]
//! becomes a [`Report`], judged at the [`Options::now`] the caller gives. Then ask it:
//! [`authz::evaluate`] (would this request pass), [`trace::outbound`] and [`trace::inbound`]
//! (the path a request takes), [`expect::check`] (does it match what was expected),
//! [`evidence::explain_log`] (why did this access-log line fail), [`bundle::analyse`] (a whole
//! bug-report), and write any answer with [`render`]. `docs/library.md` shows a vendor's CI.
//!
//! Inside, each layer is a module and arrows point down: `source` (bytes in) → `document` (the
//! JSON, recognised) → `decode` (typed protos) → `extract` (protos → [`model`]) → the analyses (`cert`, `diagnose`, `filter`, [`authz`],
//! [`trace`], [`evidence`], [`expect`], [`sync`], [`bundle`]) → [`render`]. Protos stop at
//! `extract`. The commands and their flags are the binary's (`src/main.rs`, `src/cli`,
//! `src/app`), not the library's. The library never reads the clock, the environment or the
//! terminal: `now`, threads and colour are arguments.

// No unsafe code: the fuzz targets that run without AddressSanitizer (docs/robustness.md) rely on it.
#![forbid(unsafe_code)]
#![warn(unreachable_pub, missing_docs)]

pub mod authz;
pub mod bundle;
mod cert;
mod decode;
mod diagnose;
mod document;
pub mod evidence;
pub mod expect;
mod extract;
mod filter;
mod json_text;
pub mod model;
mod par;
pub mod progress;
pub mod render;
mod source;
pub mod sync;
pub mod trace;

// The public API, one list. Namespaces: `model` (the report and everything in it, as `-o json`
// writes it), `authz` (would this request pass), `trace` (the path a request takes), `expect`
// (expectations and their check), `render` (table, JSON, YAML), `evidence` (access logs and
// stats explained), `sync` (the control plane's view), `bundle` (a whole bug-report) and
// `progress` (what a long run tells its watcher). From the private modules:

// Reading: a file, standard input or any reader, by name.
pub use source::{read_file, read_from, read_path, Input, SourceError, MAX_DOCUMENT_BYTES};
// Certificates on their own (a PEM/DER file, a chain), as `envinspect certs` reads them.
pub use cert::{parse_certificates, time_left, CertError, LinkError};
// Narrowing a report to what a view asks for.
pub use filter::{
    ClusterFilter, ConnectionFilter, EndpointFilter, Filters, ListenerFilter, RouteFilter,
    ServiceFilter, WorkloadFilter,
};
// The rules' thresholds, and the rule that needs a second document (`/certs` beside a dump).
pub use diagnose::{stale_certs, RuleOptions};

/// A live proxy's admin API: what to fetch, and saving what was fetched (the `live` feature
/// provides the HTTP client; without it [`admin::Admin::new`] says so).
pub mod admin {
    pub use crate::source::admin::{Admin, AdminOptions, Endpoint};
    pub use crate::source::admin_error::{AdminError, Body, Cause};
    pub use crate::source::save::save;
}

pub use decode::DecodeError;
pub use document::ParseError;
pub use model::Report;

/// Every way the library fails, one kind per boundary; each message names the file (or URL)
/// and the place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes could not be read or parsed (a file, standard input, the admin API).
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The bytes do not parse as a document envinspect reads (not JSON, or of no known shape).
    #[error(transparent)]
    Parse(#[from] document::ParseError),
    /// The document is JSON but not one envinspect can decode.
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    /// An expectations file is invalid.
    #[error(transparent)]
    Expect(#[from] expect::ExpectError),
    /// An access log could not be read or explained.
    #[error(transparent)]
    Evidence(#[from] evidence::EvidenceError),
    /// A stats file could not be read.
    #[error(transparent)]
    Stats(#[from] evidence::stats::StatsError),
    /// An istiod syncz could not be read.
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
    /// A bundle was analysed, but some of its documents could not be read.
    #[error("{name}: {unreadable} document(s) unreadable (proxy dumps, logs, stats or syncz), {refused} entries refused (see the output)")]
    Bundle {
        /// The bundle.
        name: String,
        /// Documents that could not be read.
        unreadable: usize,
        /// Archive entries refused (too large, unsafe paths, links).
        refused: usize,
    },
    /// A document was read, but some of its values could not be decoded.
    #[error("{name}: {count} value(s) could not be decoded; {first}")]
    Undecodable {
        /// The document.
        name: String,
        /// How many values.
        count: usize,
        /// `first at <pointer>: <message>` (just the message for documents without pointers).
        first: String,
    },
}

impl Error {
    /// The error for a report in which some value could not be decoded, if one was not.
    pub fn undecodable(report: &Report) -> Option<Error> {
        let w = report
            .warnings
            .iter()
            .find(|w| w.severity == decode::Severity::Error)?;
        let first = if w.first_pointer.is_empty() {
            w.message.clone()
        } else {
            format!("first at {}: {}", w.first_pointer, w.message)
        };
        Some(Error::Undecodable {
            name: report.source.clone(),
            count: report.error_count(),
            first,
        })
    }
}

/// How to inspect: the time certificates are judged at, whether to redact what changes at
/// every rotation (serials, dates, fingerprints, `version_info`), the rules' thresholds, the
/// threads to use, and extra trust anchors for a certificate file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The time certificates (and tokens) are judged at.
    pub now: model::Timestamp,
    /// Whether output replaces what changes at every rotation with `[redacted]`.
    pub redact: bool,
    /// The rules' thresholds.
    pub rules: diagnose::RuleOptions,
    /// Threads decoding and extracting may use for large lists (the caller says how many: the
    /// library does not look at the machine; 1 where the caller is parallel already, as bundle
    /// workers are).
    pub threads: usize,
    /// Trust anchors (PEM/DER) to verify a PEM/DER certificate file's chain against.
    pub roots: Option<source::Input>,
}

impl Options {
    /// Judged at `now` (a [`model::Timestamp`], or a `time::OffsetDateTime` truncated to the
    /// second), one thread, no redaction, default thresholds.
    pub fn at(now: impl Into<model::Timestamp>) -> Self {
        Self {
            now: now.into(),
            redact: false,
            rules: diagnose::RuleOptions::default(),
            threads: 1,
            roots: None,
        }
    }
}

/// One inspected document, for library users: the report, the expectations it meets, and checks
/// against other expectations. Made for snapshot tests:
/// `insta::assert_yaml_snapshot!(envinspect::Inspection::read(path, &opts)?.expectations())`.
pub struct Inspection {
    report: Report,
    redact: bool,
}

/// Reads an expectations file and the PEM files its `roots.same_as` names (relative to it), and
/// returns them with what `check` needs to name the file and point at lines.
pub fn load_expectations(
    path: &std::path::Path,
    now: model::Timestamp,
) -> Result<(expect::Expectations, expect::CheckInput), Error> {
    let input = source::read_path(path)?;
    let e = expect::Expectations::parse(&input.name, &input.bytes)?;
    let mut check = expect::CheckInput {
        expectations_name: input.name.clone(),
        expectations_text: Some(String::from_utf8_lossy(&input.bytes).into_owned()),
        ..Default::default()
    };
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    for file in e.roots.iter().flat_map(|r| &r.same_as) {
        let pem = source::read_path(&base.join(file))?;
        let (certs, problems) = cert::parse_certificates(&pem.bytes, now);
        // Only CA certificates are roots: a bundle with a leaf in it must not expect the leaf.
        let fps: Vec<_> = certs
            .iter()
            .filter(|c| c.is_ca)
            .filter_map(|c| c.sha256.clone())
            .collect();
        if fps.is_empty() {
            let why = problems
                .first()
                .cloned()
                .unwrap_or_else(|| "no CA certificate".into());
            return Err(Error::Expect(expect::ExpectError::Invalid {
                name: input.name.clone(),
                what: format!("roots.same_as {file}: no root CA in it ({why})"),
            }));
        }
        check.same_as.insert(file.clone(), fps);
    }
    Ok((e, check))
}

impl Inspection {
    /// Reads, decodes and inspects a file. Unlike the CLI (which prints what it could and exits
    /// 2), a value that cannot be decoded is an error here: a test must not pass on half a dump.
    pub fn read(path: impl AsRef<std::path::Path>, opts: &Options) -> Result<Self, Error> {
        let input = source::read_path(path.as_ref())?;
        Self::new(inspect(&input, opts)?, opts)
    }

    /// Wraps a report; fails if any value of it could not be decoded.
    pub fn new(report: Report, opts: &Options) -> Result<Self, Error> {
        if let Some(e) = Error::undecodable(&report) {
            return Err(e);
        }
        Ok(Self {
            report,
            redact: opts.redact,
        })
    }

    /// The report, as read (redaction is done when output is written: see
    /// [`Inspection::document`]).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, without copying it.
    pub fn into_report(self) -> Report {
        self.report
    }

    /// The redaction `--redact` (`Options::redact`) asks for, to hand to `render`.
    pub fn redaction(&self) -> Option<render::Redaction> {
        self.redact.then(|| render::Redaction::of(&self.report))
    }

    /// The report as `envinspect -o json` writes it: keys sorted, and with `Options::redact`
    /// the serials, dates and fingerprints replaced by `[redacted]` (what to snapshot).
    pub fn document(&self) -> serde_json::Value {
        let mut v = render::to_json(&self.report);
        if let Some(r) = self.redaction() {
            r.document(&mut v);
        }
        v
    }

    /// Where the report came from (the file or admin URL as given).
    pub fn source(&self) -> &str {
        &self.report.source
    }

    /// When its certificates were judged.
    pub fn now(&self) -> model::Timestamp {
        self.report.now
    }

    /// What this proxy is, as expectations (the content of `envinspect expect`).
    pub fn expectations(&self) -> expect::Expectations {
        self.generate(&expect::GenerateOptions::default())
            .expectations
    }

    /// What this proxy is, as expectations generated with `opts` (and the notes on what they
    /// leave out).
    pub fn generate(&self, opts: &expect::GenerateOptions) -> expect::Generated {
        expect::generate(&self.report, opts)
    }

    /// Checks this proxy against expectations (write it with [`Inspection::redaction`]).
    pub fn check(
        &self,
        e: &expect::Expectations,
        input: &expect::CheckInput,
    ) -> model::expectation::CheckReport {
        let mut c = expect::check(&self.report, e, input);
        c.findings = self.report.findings.clone();
        c
    }
}

/// What a command fetches from a live admin API. Every command judges the whole proxy (its
/// findings and exit code come from all of it, endpoints included), so all fetch
/// `/config_dump?include_eds` and answer as for a saved dump; only `endpoints` reads
/// `/clusters?format=json`, istioctl's source, which has live health. Narrower
/// `mask`/`resource` queries would change findings, so they are not used.
pub fn admin_endpoint(view: render::View) -> source::admin::Endpoint {
    use source::admin::Endpoint;
    match view {
        render::View::Endpoints => Endpoint::Clusters,
        _ => Endpoint::ConfigDumpWithEds,
    }
}

/// The library's one entry point: reads, decodes and extracts one document, judges its
/// certificates and runs every rule, as `opts` says (redaction is left to the caller:
/// [`Inspection`] or the CLI).
pub fn inspect(input: &source::Input, opts: &Options) -> Result<Report, Error> {
    inspect_watched(input, opts, &progress::Quiet)
}

/// [`inspect`], telling `progress` of each phase.
pub(crate) fn inspect_watched(
    input: &source::Input,
    opts: &Options,
    progress: &dyn progress::Progress,
) -> Result<Report, Error> {
    let decoded = decode_input(input, opts, progress)?;
    Ok(judge(&input.name, decoded, opts, progress))
}

/// [`inspect`], consuming the input and telling `progress` of each phase: the input's bytes (as
/// large as the dump) are freed once decoded, before the model is built, which lowers the peak
/// memory of a large dump by about the size of the file (docs/performance.md).
pub fn inspect_owned(
    input: source::Input,
    opts: &Options,
    progress: &dyn progress::Progress,
) -> Result<Report, Error> {
    let decoded = decode_input(&input, opts, progress)?;
    let source::Input { name, bytes } = input;
    drop(bytes);
    Ok(judge(&name, decoded, opts, progress))
}

/// Parsing and decoding: everything that reads the input's bytes.
fn decode_input(
    input: &source::Input,
    opts: &Options,
    progress: &dyn progress::Progress,
) -> Result<decode::Decoded, Error> {
    use progress::Phase;
    progress.phase(Phase::Parse, None);
    let doc = document::parse(&input.name, &input.bytes)?;
    progress.phase(Phase::Decode, None);
    Ok(decode::decode(decode::Pool::shared()?, doc, opts.threads)?)
}

/// Extraction, certificates and rules: the decoded document to the judged report.
fn judge(
    name: &str,
    decoded: decode::Decoded,
    opts: &Options,
    progress: &dyn progress::Progress,
) -> Report {
    use progress::Phase;
    progress.phase(Phase::Extract, None);
    let roots = opts
        .roots
        .as_ref()
        .map(|r| (r.name.as_str(), r.bytes.as_slice()));
    let mut report = extract::report(name, decoded, opts.now, roots, opts.threads);
    progress.phase(Phase::Rules, None);
    report.authz = authz::summaries(&report);
    diagnose::diagnose(&mut report, &opts.rules);
    report.expiry_warning = opts.rules.expiry_warning;
    report
}

/// For the benchmarks, which time [`inspect`]'s phases through their own [`progress::Progress`]
/// (not a stable API).
#[doc(hidden)]
pub mod bench {
    /// `Ok` when an HTML page has only the markup envinspect's renderer writes (the `html` fuzz
    /// target's invariant).
    pub fn html_markup_is_ours(page: &str) -> Result<(), String> {
        super::render::markup_is_ours(page)
    }

    pub fn inspect_watched(
        input: &super::source::Input,
        opts: &super::Options,
        progress: &dyn super::progress::Progress,
    ) -> Result<super::Report, super::Error> {
        super::inspect_watched(input, opts, progress)
    }
}
