//! envinspect: reads what an Envoy proxy says about itself (a `/config_dump`, `/certs`,
//! `/clusters`, `/server_info`) and answers who it is, whom it trusts and how its traffic flows.
//!
//! Layers, each a module: [`source`] (bytes in) → [`decode`] (typed protos) → [`extract`]
//! (protos → [`model`]) → [`cert`] and [`filter`] (work on the model) → [`render`] (table, json,
//! yaml). Protos stop at `extract`. The library never reads the clock: `now` is an argument.

pub mod cert;
pub mod decode;
pub mod extract;
pub mod filter;
pub mod model;
pub mod render;
pub mod source;

use time::OffsetDateTime;

pub use decode::Pool;
pub use model::Report;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
}

/// Reads, decodes and extracts one document into a report judged at `now`.
pub fn inspect(input: &source::Input, pool: &Pool, now: OffsetDateTime) -> Result<Report, Error> {
    inspect_with_roots(input, None, pool, now)
}

/// What a command fetches from a live admin API: the smallest document that answers it as a saved
/// one would. Endpoints come from `/clusters?format=json` (istioctl's source, with live health);
/// only the report needs `include_eds`. Narrower `mask`/`resource` queries are not used: every
/// command also judges certificates and pairs secrets with the clusters and listeners using them,
/// so it needs the whole dump to give the same findings and exit code as for a file.
pub fn admin_endpoint(view: render::View) -> source::admin::Endpoint {
    use source::admin::Endpoint;
    match view {
        render::View::Report => Endpoint::ConfigDumpWithEds,
        render::View::Endpoints => Endpoint::Clusters,
        _ => Endpoint::ConfigDump,
    }
}

/// As [`inspect`], with extra trust anchors (PEM/DER) for verifying a certificate file.
pub fn inspect_with_roots(
    input: &source::Input,
    roots: Option<&source::Input>,
    pool: &Pool,
    now: OffsetDateTime,
) -> Result<Report, Error> {
    let doc = source::parse(input)?;
    let decoded = decode::decode(pool, doc);
    let roots = roots.map(|r| (r.name.as_str(), r.bytes.as_slice()));
    Ok(extract::report(&input.name, decoded, now, roots))
}
