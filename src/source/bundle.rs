//! Bytes in from a support bundle: an `istioctl bug-report` (`.tar.gz` or extracted, with or
//! without the `bug-report/` prefix), an `egctl x collect` tree, an OpenShift must-gather, or any
//! directory of dumps. Archives are read as a stream, never extracted: entries with `..` or
//! absolute paths, links, devices, or beyond the size limits are refused one by one (the rest is
//! read), and nothing is ever written anywhere.

use std::io::Read;
use std::path::{Component, Path};

use super::SourceError;
use crate::document::ParseError;
use crate::progress::{Phase, Progress, Reading};

/// What a bundle file is to a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    /// `config_dump?include_eds` (preferred) or another config dump.
    ConfigDump { with_eds: bool },
    /// Envoy's `/certs`.
    Certs,
    /// A JSON file in a tree of no known layout: a proxy if it is a config dump, else ignored.
    AnyJson,
    /// The proxy container's log (`istio-proxy.log`): Envoy's own lines and its access log.
    AccessLog,
    /// `/stats/prometheus` (`stats/prometheus`).
    Stats,
    /// istiod's `debug/syncz` (`istio/NS/ISTIOD-POD/debug/syncz`): the sync state of the proxies
    /// connected to that istiod. Its `proxy` is `istio/NS/POD`.
    Syncz,
}

impl EntryKind {
    /// Evidence beside a dump, not a dump.
    pub fn is_evidence(self) -> bool {
        matches!(self, EntryKind::AccessLog | EntryKind::Stats)
    }
}

/// One proxy document found in the bundle.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Entry {
    /// `namespace/pod`, or the file's path for a plain tree of dumps.
    pub proxy: String,
    pub kind: EntryKind,
    /// Where it is in the bundle.
    pub path: String,
    pub bytes: Vec<u8>,
}

pub(crate) use crate::model::bundle::Refused;

/// What a bundle may hold before envinspect refuses to read more of it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest single file read.
    pub entry_bytes: u64,
    /// Largest total of decompressed bytes read from an archive (gzip bombs).
    pub total_bytes: u64,
    /// Most archive entries looked at.
    pub entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            entry_bytes: 1 << 30,
            total_bytes: 16 << 30,
            entries: 2_000_000,
        }
    }
}

/// Which proxy (and which document of it) a path in a bundle is, if any.
pub(crate) fn classify(path: &str) -> Option<(String, EntryKind)> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let file = *parts.last()?;
    let at = |name: &str| parts.iter().rposition(|p| *p == name);
    // istioctl bug-report: istio/<ns>/<istiod pod>/debug/syncz (`pilot-discovery request GET`).
    if let [.., "istio", ns, pod, "debug", "syncz"] = parts.as_slice() {
        return Some((format!("istio/{ns}/{pod}"), EntryKind::Syncz));
    }
    // istioctl bug-report: proxies/<ns>/<pod>/stats/prometheus (`/stats/prometheus`).
    if let Some(i) = at("proxies").filter(|i| parts.len() == i + 5) {
        if parts[i + 3] == "stats" && file == "prometheus" {
            return Some((
                format!("{}/{}", parts[i + 1], parts[i + 2]),
                EntryKind::Stats,
            ));
        }
        return None;
    }
    // istioctl bug-report: proxies/<ns>/<pod>/<file>
    if let Some(i) = at("proxies").filter(|i| parts.len() == i + 4) {
        let proxy = format!("{}/{}", parts[i + 1], parts[i + 2]);
        return match file {
            "config_dump?include_eds" => Some((proxy, EntryKind::ConfigDump { with_eds: true })),
            "config_dump" => Some((proxy, EntryKind::ConfigDump { with_eds: false })),
            "certs" => Some((proxy, EntryKind::Certs)),
            // bug-report's `writeFile(ProxyOutputPath(…)/istio-proxy.log)`.
            "istio-proxy.log" => Some((proxy, EntryKind::AccessLog)),
            _ => None,
        };
    }
    // egctl x collect: config-dumps/<ns>/<pod>.json
    if let Some(i) = at("config-dumps").filter(|i| parts.len() == i + 3) {
        let pod = file.strip_suffix(".json")?;
        return Some((
            format!("{}/{pod}", parts[i + 1]),
            EntryKind::ConfigDump { with_eds: false },
        ));
    }
    // must-gather: namespaces/<ns>/pods/<pod>/…config_dump….json
    if let Some(i) =
        at("pods").filter(|i| *i >= 2 && parts[i - 2] == "namespaces" && parts.len() > i + 2)
    {
        if file.contains("config_dump") && file.ends_with(".json") {
            return Some((
                format!("{}/{}", parts[i - 1], parts[i + 1]),
                EntryKind::ConfigDump { with_eds: false },
            ));
        }
        return None;
    }
    // A plain tree laid out as a bug-report without `proxies/`: NS/POD/<config dump file>.
    let stem = file.trim_end_matches(".gz").trim_end_matches(".json");
    let dump_name = stem.starts_with("config_dump") || stem.ends_with("config_dump");
    let known_layout = ["proxies", "config-dumps", "namespaces"]
        .iter()
        .any(|l| parts.contains(l));
    if dump_name && !known_layout && parts.len() >= 3 {
        let n = parts.len();
        return Some((
            format!("{}/{}", parts[n - 3], parts[n - 2]),
            EntryKind::ConfigDump {
                with_eds: stem.contains("include_eds"),
            },
        ));
    }
    // Any other tree of dumps: each JSON file is a proxy, named by its path.
    if !known_layout && (file.ends_with(".json") || file.ends_with(".json.gz")) {
        return Some((parts.join("/"), EntryKind::AnyJson));
    }
    None
}

/// Why a path from an archive may not be used, if it may not.
fn unsafe_path(p: &Path) -> Option<&'static str> {
    for c in p.components() {
        match c {
            Component::ParentDir => return Some("path contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Some("absolute path"),
            _ => {}
        }
    }
    None
}

/// Counts what passes through, and stops at a limit (a gzip bomb reads as an error, not forever).
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read >= self.limit {
            return Err(std::io::Error::other(format!(
                "more than {} decompressed bytes",
                self.limit
            )));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads a bundle (a directory, or a `.tar.gz`/`.tgz`/`.tar` file) and hands every proxy document
/// to `sink` as it is read. Returns the entries refused.
pub(crate) fn read(
    path: &Path,
    limits: &Limits,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Entry),
) -> Result<Vec<Refused>, SourceError> {
    let name = path.display().to_string();
    let io = |source| SourceError::Io {
        name: name.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        let mut refused = Vec::new();
        walk(path, path, limits, progress, 0, sink, &mut refused);
        refused.sort();
        return Ok(refused);
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    // A JSON file is a tool's wrapper around several dumps (egctl), not an archive.
    let mut head = [0u8; 64];
    let n = file.read(&mut head).map_err(io)?;
    if head[..n].trim_ascii_start().first() == Some(&b'{') {
        return read_wrapped(path, limits, sink);
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // Progress is the archive's own bytes (compressed) of its size: the one total known ahead.
    progress.phase(Phase::Bundle, Some(meta.len()));
    let file = Reading {
        inner: file,
        progress,
    };
    read_archive(&name, file, limits, sink)
}

/// The dumps of a file that wraps several (egctl `x translate`, `config envoy-proxy all`), one
/// entry each, named by the wrapper's keys.
fn read_wrapped(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn FnMut(Entry),
) -> Result<Vec<Refused>, SourceError> {
    let input = super::read_path(path)?;
    let name = input.name.clone();
    if input.bytes.len() as u64 > limits.total_bytes {
        return Err(SourceError::Shape {
            name,
            what: format!("larger than --max-total-bytes ({})", limits.total_bytes),
        });
    }
    let json = crate::document::json::parse(&input.bytes).map_err(|e| ParseError::Json {
        name: name.clone(),
        line: e.line(),
        column: e.column(),
        what: crate::json_text::json_error_text(&e),
    })?;
    let Some(proxies) = crate::document::wrapped(&json) else {
        return Err(SourceError::Shape {
            name,
            what: "a JSON file that wraps no config dumps: a bundle is a directory, a .tar.gz, or a file of dumps keyed by proxy (egctl)".into(),
        });
    };
    for w in proxies {
        let bytes = serde_json::to_vec(&w.dump).unwrap_or_default();
        sink(Entry {
            proxy: w.proxy,
            kind: EntryKind::ConfigDump { with_eds: false },
            path: format!("{name}#{}", w.pointer),
            bytes,
        });
    }
    Ok(Vec::new())
}

/// Reads a `.tar` or `.tar.gz` stream (gzip recognised by its magic bytes), as `read` does a
/// file.
pub fn read_archive(
    name: &str,
    mut stream: impl Read,
    limits: &Limits,
    sink: &mut dyn FnMut(Entry),
) -> Result<Vec<Refused>, SourceError> {
    let io = |source| SourceError::Io {
        name: name.to_string(),
        source,
    };
    let mut magic = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        match stream.read(&mut magic[n..]).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    let head = std::io::Cursor::new(magic[..n].to_vec()).chain(stream);
    let reader: Box<dyn Read> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(head))
    } else {
        Box::new(head)
    };
    read_tar(
        name,
        Counted {
            inner: reader,
            read: 0,
            limit: limits.total_bytes,
        },
        limits,
        sink,
    )
}

fn read_tar(
    name: &str,
    stream: impl Read,
    limits: &Limits,
    sink: &mut dyn FnMut(Entry),
) -> Result<Vec<Refused>, SourceError> {
    let mut archive = tar::Archive::new(stream);
    let mut refused = Vec::new();
    let entries = archive.entries().map_err(|e| SourceError::Shape {
        name: name.into(),
        what: format!("not a tar archive: {e}"),
    })?;
    for (seen, entry) in entries.enumerate() {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A corrupt stream (truncated, bad gzip trailer, over the total limit): keep what
                // was read, say where it stopped.
                refused.push(Refused {
                    path: format!("{name} (after {seen} entries)"),
                    reason: format!("archive unreadable from here: {e}"),
                });
                break;
            }
        };
        if seen as u64 >= limits.entries {
            refused.push(Refused {
                path: name.into(),
                reason: format!("more than {} entries: the rest is not read", limits.entries),
            });
            break;
        }
        let path = match entry.path() {
            Ok(p) => p.into_owned(),
            Err(e) => {
                refused.push(Refused {
                    path: "(unreadable name)".into(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let shown = path.display().to_string();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        // Any entry escaping the archive is refused, proxy document or not: it is hostile.
        if let Some(why) = unsafe_path(&path) {
            refused.push(Refused {
                path: shown,
                reason: why.into(),
            });
            continue;
        }
        let Some((proxy, doc)) = classify(&shown) else {
            continue;
        };
        if !kind.is_file() {
            let what = if kind.is_symlink() {
                "a symbolic link"
            } else if kind.is_hard_link() {
                "a hard link"
            } else {
                "not a regular file (device, fifo…)"
            };
            refused.push(Refused {
                path: shown,
                reason: format!("{what}: not followed"),
            });
            continue;
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > limits.entry_bytes {
            refused.push(Refused {
                path: shown,
                reason: format!(
                    "{size} bytes, over the {}-byte limit per file",
                    limits.entry_bytes
                ),
            });
            continue;
        }
        // The header's size is a claim: reserve no more than a dump is likely to need, so a
        // tiny archive that claims a huge entry costs nothing until bytes arrive.
        let mut bytes = Vec::with_capacity(size.min(64 << 20) as usize);
        if let Err(e) = (&mut entry)
            .take(limits.entry_bytes + 1)
            .read_to_end(&mut bytes)
        {
            refused.push(Refused {
                path: shown,
                reason: format!("cannot read: {e}"),
            });
            continue;
        }
        // The archive ended inside this entry (a capture cut while it was written): its part is
        // not a document, whatever a parser would make of it, and the archive is over.
        if (bytes.len() as u64) < size {
            refused.push(Refused {
                path: shown,
                reason: format!(
                    "the archive ends inside this entry: {} of its {size} bytes",
                    bytes.len()
                ),
            });
            // Nothing follows a cut: the next read would only say the stream ended.
            break;
        }
        // A `.json.gz` inside the archive is gunzipped as the same file in a directory is
        // (by its magic bytes, under the same size limit).
        let bytes = match super::read_from(&shown, bytes.as_slice()) {
            Ok(input) => input.bytes,
            Err(e) => {
                refused.push(Refused {
                    path: shown,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        sink(Entry {
            proxy,
            kind: doc,
            path: shown,
            bytes,
        });
    }
    refused.sort();
    Ok(refused)
}

fn walk(
    root: &Path,
    dir: &Path,
    limits: &Limits,
    progress: &dyn Progress,
    depth: usize,
    sink: &mut dyn FnMut(Entry),
    refused: &mut Vec<Refused>,
) {
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if depth > 64 {
        refused.push(Refused {
            path: shown(dir),
            reason: "nested more than 64 directories deep".into(),
        });
        return;
    }
    let mut children: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            refused.push(Refused {
                path: shown(dir),
                reason: format!("cannot list: {e}"),
            });
            return;
        }
    };
    children.sort();
    for p in children {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &p, limits, progress, depth + 1, sink, refused);
            continue;
        }
        let rel = shown(&p);
        let Some((proxy, kind)) = classify(&rel) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            refused.push(Refused {
                path: rel,
                reason: "a symbolic link: not followed".into(),
            });
        } else if !meta.is_file() {
            refused.push(Refused {
                path: rel,
                reason: "not a regular file (device, fifo…)".into(),
            });
        } else if meta.len() > limits.entry_bytes {
            refused.push(Refused {
                path: rel,
                reason: format!(
                    "{} bytes, over the {}-byte limit per file",
                    meta.len(),
                    limits.entry_bytes
                ),
            });
        } else {
            progress.bytes(meta.len());
            match super::read_path(&p) {
                Ok(input) => sink(Entry {
                    proxy,
                    kind,
                    path: rel,
                    bytes: input.bytes,
                }),
                Err(e) => refused.push(Refused {
                    path: rel,
                    reason: e.to_string(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let c = |p: &str| classify(p);
        assert_eq!(
            c("bug-report/proxies/shop/cart-1/config_dump?include_eds"),
            Some((
                "shop/cart-1".into(),
                EntryKind::ConfigDump { with_eds: true }
            ))
        );
        assert_eq!(
            c("proxies/shop/cart-1/certs"),
            Some(("shop/cart-1".into(), EntryKind::Certs))
        );
        assert_eq!(
            classify("bug-report/istio/istio-system/istiod-7d4-x/debug/syncz"),
            Some(("istio/istio-system/istiod-7d4-x".into(), EntryKind::Syncz))
        );
        assert_eq!(c("proxies/shop/cart-1/clusters"), None);
        assert_eq!(
            c("bug-report/proxies/istio-system/istiod/debug/syncz.json"),
            None
        );
        assert_eq!(
            c("out/config-dumps/default/gw-1.json"),
            Some((
                "default/gw-1".into(),
                EntryKind::ConfigDump { with_eds: false }
            ))
        );
        assert_eq!(
            c("must-gather/namespaces/shop/pods/cart-1/istio-proxy/config_dump_proxy.json"),
            Some((
                "shop/cart-1".into(),
                EntryKind::ConfigDump { with_eds: false }
            ))
        );
        assert_eq!(
            c("dumps/a/b.json"),
            Some(("dumps/a/b.json".into(), EntryKind::AnyJson))
        );
        // A plain NS/POD tree names the proxy as a bug-report does.
        assert_eq!(
            c("out/shop/cart-1/config_dump.json"),
            Some((
                "shop/cart-1".into(),
                EntryKind::ConfigDump { with_eds: false }
            ))
        );
        assert_eq!(
            c("shop/cart-1/config_dump_include_eds.json.gz"),
            Some((
                "shop/cart-1".into(),
                EntryKind::ConfigDump { with_eds: true }
            ))
        );
        assert_eq!(
            c("cart-1/config_dump.json"),
            Some(("cart-1/config_dump.json".into(), EntryKind::AnyJson))
        );
        assert!(
            unsafe_path(Path::new("../etc/passwd")).is_some()
                && unsafe_path(Path::new("/etc/x")).is_some()
        );
        assert!(unsafe_path(Path::new("proxies/a/b/certs")).is_none());
    }
}
