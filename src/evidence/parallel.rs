//! A large log on several cores: one thread reads lines into chunks of about a megabyte, workers
//! classify and explain each chunk with their own [`Formats`], and the caller's thread hands the
//! results to the sink in file order. Memory is bounded by the chunks in flight (a few per
//! worker), never by the log's length; the output is the same as [`super::explain_log`]'s, line
//! for line.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{mpsc, Mutex};

use super::{EvidenceError, Formats, Reading, Sink};
use crate::model::evidence::{Explained, LogSummary, Record};
use crate::model::Report;
use crate::source::lines::{Line, Lines};

/// Lines of about this many bytes make a chunk.
const CHUNK_BYTES: usize = 1 << 20;

struct Chunk {
    index: u64,
    /// The number of its first line.
    first: u64,
    data: Vec<u8>,
    /// Each line's byte range in `data`; `None` for a line too long to keep.
    lines: Vec<Option<(usize, usize)>>,
}

/// What a chunk gave, in its order.
struct Done {
    index: u64,
    explained: Vec<Explained>,
    part: LogSummary,
    /// Access-log lines by format index.
    parsed: Vec<u64>,
}

/// [`super::explain_log`] on `threads` workers (1 or fewer: the same, on this thread).
pub fn explain_log_parallel(
    report: &Report,
    name: &str,
    reader: impl Read + Send,
    all: bool,
    threads: usize,
    summary: &mut LogSummary,
    sink: &mut dyn Sink,
) -> Result<(), EvidenceError> {
    if threads <= 1 {
        return super::explain_log(report, name, reader, all, summary, sink);
    }
    let err = |line: u64, source| EvidenceError::Read {
        name: name.to_string(),
        line,
        source,
    };
    summary.files.push(name.to_string());
    let names = Formats::of(report, name);
    super::unread(summary, &names);
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Chunk>(threads * 2);
    let chunk_rx = Mutex::new(chunk_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let read = std::thread::scope(|scope| {
        for _ in 0..threads {
            let (done_tx, chunk_rx) = (done_tx.clone(), &chunk_rx);
            scope.spawn(move || {
                let mut formats = Formats::of(report, name);
                loop {
                    let next = chunk_rx.lock().map(|r| r.recv());
                    let Ok(Ok(chunk)) = next else { break };
                    let done = work(report, name, all, &mut formats, chunk);
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let reader = scope.spawn(move || -> Result<(), EvidenceError> {
            let mut lines = Lines::new(reader).map_err(|e| err(0, e))?;
            let mut index = 0;
            loop {
                let mut chunk = Chunk {
                    index,
                    first: lines.number + 1,
                    data: Vec::with_capacity(CHUNK_BYTES + 4096),
                    lines: Vec::new(),
                };
                while chunk.data.len() < CHUNK_BYTES {
                    let number = lines.number + 1;
                    match lines.next_line().map_err(|e| err(number, e)) {
                        Ok(None) => break,
                        Ok(Some(Line::TooLong)) => chunk.lines.push(None),
                        Ok(Some(Line::Text(t))) => {
                            let start = chunk.data.len();
                            chunk.data.extend_from_slice(t);
                            chunk.lines.push(Some((start, chunk.data.len())));
                        }
                        Err(e) => {
                            if !chunk.lines.is_empty() {
                                let _ = chunk_tx.send(chunk);
                            }
                            return Err(e);
                        }
                    }
                }
                if chunk.lines.is_empty() {
                    return Ok(());
                }
                if chunk_tx.send(chunk).is_err() {
                    return Ok(());
                }
                index += 1;
            }
        });
        // In file order: a chunk waits here until those before it are handed over.
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0;
        let mut parsed = vec![0u64; names.len()];
        for done in done_rx {
            pending.insert(done.index, done);
            while let Some(d) = pending.remove(&next) {
                merge(summary, &mut parsed, d, sink);
                next += 1;
            }
        }
        for (i, n) in parsed.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            *summary.parsed.entry(names.name(i).to_string()).or_default() += n;
        }
        reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    read
}

fn work(report: &Report, name: &str, all: bool, formats: &mut Formats, chunk: Chunk) -> Done {
    let mut part = LogSummary::default();
    let mut explained = Vec::new();
    let mut reading = Reading {
        report,
        name,
        all,
        rec: Record::default(),
        parsed: vec![0u64; formats.len()],
    };
    for (k, range) in chunk.lines.iter().enumerate() {
        let number = chunk.first + k as u64;
        match *range {
            None => reading.too_long(&mut part),
            Some((a, z)) => {
                let line = &chunk.data[a..z];
                reading.read(number, line, formats, &mut part, &mut |e| explained.push(e));
            }
        }
    }
    Done {
        index: chunk.index,
        explained,
        part,
        parsed: reading.parsed,
    }
}

fn merge(summary: &mut LogSummary, parsed: &mut [u64], d: Done, sink: &mut dyn Sink) {
    for (p, n) in parsed.iter_mut().zip(&d.parsed) {
        *p += n;
    }
    let s = d.part;
    summary.lines += s.lines;
    summary.envoy_log += s.envoy_log;
    summary.unmatched += s.unmatched;
    summary.too_long += s.too_long;
    summary.failed += s.failed;
    for u in s.unmatched_first {
        if summary.unmatched_first.len() < 10 {
            summary.unmatched_first.push(u);
        }
    }
    for e in d.explained {
        sink.explained(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_merge_in_file_order() {
        let mut s = LogSummary::default();
        let mut p = vec![0; 2];
        let mut out: Vec<Explained> = Vec::new();
        let part = LogSummary {
            lines: 3,
            unmatched: 1,
            unmatched_first: vec!["f:2".into()],
            ..Default::default()
        };
        merge(
            &mut s,
            &mut p,
            Done {
                index: 0,
                explained: vec![],
                part,
                parsed: vec![2, 0],
            },
            &mut out,
        );
        assert_eq!((s.lines, s.unmatched, p[0]), (3, 1, 2));
        assert_eq!(s.unmatched_first, vec!["f:2"]);
    }
}
