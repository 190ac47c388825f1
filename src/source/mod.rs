//! Bytes in: reads a file, standard input, a live admin API or a bundle, and undoes the
//! compression a transport added (gzip). The result is an [`Input`], bytes with the name every
//! message uses; `document/` parses it, and nothing here knows JSON's shapes or protos.

pub(crate) mod admin;
pub(crate) mod admin_error;
pub(crate) mod bundle;
pub(crate) mod lines;
pub(crate) mod save;

use crate::document::ParseError;
use crate::progress::{Phase, Progress, Reading};
use std::io::Read;
use std::path::Path;

/// Decompressed input larger than this is refused: a `.gz` of a few MB must not fill memory.
/// The largest document read, as stored or once decompressed: production dumps are tens of
/// megabytes; past this, a file is refused before it is read.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

/// Raw bytes and the name used for them in every message (a path, or `<stdin>`).
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The name used in messages.
    pub name: String,
    /// The bytes (decompressed, when they were gzip).
    pub bytes: Vec<u8>,
}

/// Why a document's bytes could not be read or parsed; each names the document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file (or standard input) cannot be read.
    #[error("{name}: cannot read")]
    Io {
        /// The document.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Gzip magic bytes, but not a gzip stream.
    #[error("{name}: not a valid gzip stream")]
    Gzip {
        /// The document.
        name: String,
        /// The decoder's reason.
        #[source]
        source: std::io::Error,
    },
    /// Larger than one document may be ([`crate::MAX_DOCUMENT_BYTES`]).
    #[error("{name}: larger than {limit} bytes, the limit for one document")]
    TooLarge {
        /// The document.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// The bytes were read but do not parse as a document envinspect reads.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// An archive or bundle file of no shape envinspect reads (or too large to).
    #[error("{name}: {what}")]
    Shape {
        /// The document.
        name: String,
        /// What was found, and what was expected.
        what: String,
    },
    /// A live admin API gave no document: the URL asked, and why, as a kind to match.
    #[error("{url}")]
    Admin {
        /// The URL asked.
        url: String,
        /// Why.
        #[source]
        kind: admin_error::AdminError,
    },
}

/// Reads a file (a path is a path: `-` for standard input is the command line's business).
pub fn read_path(path: &Path) -> Result<Input, SourceError> {
    read_file(path, &crate::progress::Quiet)
}

/// [`read_path`], telling `progress` of the bytes read of the file's size.
pub fn read_file(path: &Path, progress: &dyn Progress) -> Result<Input, SourceError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SourceError::Io {
        name: name.clone(),
        source,
    })?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if size.is_some_and(|n| n > MAX_DOCUMENT_BYTES) {
        return Err(SourceError::TooLarge {
            name,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    progress.phase(Phase::Read, size);
    let file = Reading {
        inner: file,
        progress,
    };
    // Room for the whole file at once: growing the buffer by doubling copied and page-faulted
    // a large dump several times over (8% of a 72 MB run).
    read_sized(&name, file, size.unwrap_or(0) as usize)
}

/// Reads everything from `reader`, gunzipping when the bytes say gzip (not the file name).
pub fn read_from(name: &str, reader: impl Read) -> Result<Input, SourceError> {
    read_sized(name, reader, 0)
}

fn read_sized(name: &str, mut reader: impl Read, size_hint: usize) -> Result<Input, SourceError> {
    // One byte more than the file, so that end of file is seen without growing the buffer.
    let mut bytes = Vec::with_capacity(size_hint.saturating_add(1));
    (&mut reader)
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io {
            name: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(SourceError::TooLarge {
            name: name.to_string(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip(name, &bytes)?
    } else {
        bytes
    };
    Ok(Input {
        name: name.to_string(),
        bytes,
    })
}

fn gunzip(name: &str, bytes: &[u8]) -> Result<Vec<u8>, SourceError> {
    let mut out = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(bytes);
    decoder
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|source| SourceError::Gzip {
            name: name.to_string(),
            source,
        })?;
    if out.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(SourceError::TooLarge {
            name: name.to_string(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_detected_by_magic() {
        use std::io::Write;
        let json = br#"{"cluster_statuses": []}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(read_from("t.json", &bytes[..]).unwrap().bytes, json);
        let err = read_from("t.json", &bytes[..bytes.len() / 2])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.json: not a valid gzip stream"), "{err}");
    }
}
