//! Lines of a large text input (an access log, a container log, stats), read a buffer at a
//! time: memory is bounded by [`MAX_LINE`] whatever the input's length, a gzip stream is
//! undone on the fly, and a line too long to be a log line is skipped unread (counted), so a
//! 2 GB file without a newline costs one buffer.

use std::io::{BufRead, BufReader, Read};

/// The longest line kept: Envoy's access-log lines are a few kilobytes at most.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// One item of a line reader.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// A line's bytes, without its `\n` (nor a `\r` before it).
    Text(&'a [u8]),
    /// A line longer than [`MAX_LINE`], skipped.
    TooLong,
}

/// Reads lines from a stream, a gzip stream decoded.
pub(crate) struct Lines<'a> {
    inner: Box<dyn BufRead + 'a>,
    buf: Vec<u8>,
    /// 1-based number of the last line returned.
    pub number: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `reader`; gzip (by its magic bytes) is decompressed.
    pub(crate) fn new(reader: impl Read + 'a) -> std::io::Result<Lines<'a>> {
        let mut r = BufReader::with_capacity(1 << 16, reader);
        let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let inner: Box<dyn BufRead + 'a> = if gz {
            Box::new(BufReader::with_capacity(
                1 << 16,
                flate2::read::MultiGzDecoder::new(r),
            ))
        } else {
            Box::new(r)
        };
        Ok(Lines {
            inner,
            buf: Vec::new(),
            number: 0,
        })
    }

    /// The next line, `None` at the end.
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE + 1 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some(Line::TooLong));
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(Some(Line::Text(&self.buf[..end])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: Vec<u8>) -> Vec<String> {
        let mut l = Lines::new(std::io::Cursor::new(bytes)).unwrap();
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong => "<too long>".into(),
            });
        }
        out
    }

    #[test]
    fn lines_end_at_newlines_with_or_without_a_last_one() {
        assert_eq!(all(b"a\r\nb\n\nc".to_vec()), vec!["a", "b", "", "c"]);
        assert_eq!(all(b"a\n".to_vec()), vec!["a"]);
        assert!(all(Vec::new()).is_empty());
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_and_the_next_still_reads() {
        let mut big = vec![b'x'; MAX_LINE + 10];
        big.extend_from_slice(b"\nafter\n");
        assert_eq!(all(big), vec!["<too long>", "after"]);
        // No newline at all: one skipped line, memory bounded by the buffer.
        assert_eq!(all(vec![b'y'; 3 * MAX_LINE]), vec!["<too long>"]);
    }

    #[test]
    fn gzip_is_undone() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"one\ntwo\n").unwrap();
        assert_eq!(all(gz.finish().unwrap()), vec!["one", "two"]);
    }
}
