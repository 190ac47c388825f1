//! `fetch --save`: the documents `istioctl bug-report` keeps per proxy, fetched from a live admin,
//! checked to be what they claim, then written under their bug-report names (literal `?`).
//! Nothing is written unless every document arrived whole, so a directory is never half a capture.

use std::path::{Path, PathBuf};

use super::admin::{Admin, Endpoint};
use super::SourceError;
use crate::document::parse;
use crate::model::DocumentKind;

/// What a capture holds, in bug-report order.
pub(crate) const CAPTURE: [Endpoint; 5] = [
    Endpoint::ConfigDumpWithEds,
    Endpoint::Certs,
    Endpoint::ServerInfo,
    Endpoint::Clusters,
    Endpoint::StatsPrometheus,
];

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Saved {
    pub path: PathBuf,
    pub bytes: usize,
}

/// Fetches the admin endpoints of a capture (`CAPTURE`) and writes it into `dir` (created if missing). A ztunnel (Istio
/// ambient) answers `/config_dump` with its own document and has none of the others: its dump
/// alone is saved, as `config_dump`.
pub fn save(admin: &Admin, dir: &Path) -> Result<Vec<Saved>, SourceError> {
    let mut fetched = Vec::new();
    for e in CAPTURE {
        let input = admin.get(e)?;
        let Some(want) = e.kind() else {
            // Text: the admin client refused HTML; what the counters say is read when used.
            fetched.push((e, input.bytes));
            continue;
        };
        let kind = parse(&input.name, &input.bytes)?.kind;
        if e == Endpoint::ConfigDumpWithEds && kind == DocumentKind::Ztunnel {
            fetched.push((Endpoint::ConfigDump, input.bytes));
            break;
        }
        if kind != want {
            return Err(SourceError::Admin {
                url: input.name,
                kind: super::admin_error::AdminError::WrongDocument {
                    want: want.label(),
                    got: kind.label(),
                },
            });
        }
        fetched.push((e, input.bytes));
    }
    let io = |path: &Path, source| SourceError::Io {
        name: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut saved = Vec::new();
    for (e, bytes) in fetched {
        let path = dir.join(e.bundle_name());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|err| io(parent, err))?;
        }
        // Written beside, then renamed: a reader never sees half a file.
        let tmp = dir.join(format!(".{}.partial", e.bundle_name().replace('/', "_")));
        std::fs::write(&tmp, &bytes).map_err(|err| io(&tmp, err))?;
        std::fs::rename(&tmp, &path).map_err(|err| io(&path, err))?;
        saved.push(Saved {
            path,
            bytes: bytes.len(),
        });
    }
    Ok(saved)
}
