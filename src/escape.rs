//! What reaches the terminal: every text the binary writes passes through [`Escaped`], which
//! shows control characters escaped (`\u{1b}`), as Rust's `char::escape_default` writes them.
//! A dump is untrusted text, and a listener named with a terminal escape must not clear the
//! screen, set the window title, hide text or forge a line of output. Newlines and tabs pass;
//! so, when colour is on, do the few colour codes envinspect paints with (red, bold red,
//! yellow, green, reset), and no other sequence: not even another colour, so that a name in a
//! dump cannot conceal text (`ESC[8m`). JSON and YAML never hold a raw control character, so
//! they pass unchanged.

use std::io::{self, Write};

/// A writer that escapes control characters on their way to `inner`.
pub(crate) struct Escaped<W: Write> {
    inner: W,
    /// The colour codes in [`PAINTED`] pass (`--color`).
    color: bool,
    /// Bytes of a sequence not yet decided: an ESC and what followed it, or the lead byte of
    /// a two-byte character that may be a C1 control.
    pending: Vec<u8>,
    /// What one byte turned into, kept across writes.
    scratch: Vec<u8>,
}

/// Whether `b` may not pass as it is when nothing is pending: a control character other than
/// newline and tab (ESC among them), DEL, or the lead byte of a C1 control.
fn needs_care(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0b..=0x1f | 0x7f | 0xc2)
}

/// How many bytes at the start of `bytes` pass as they are. Eight at a time: a word with no
/// byte under 0x20, no DEL and no 0xc2 passes whole (the classic "has a byte less than n" and
/// "has a zero byte" tests); a word with one of them (a newline, mostly) is looked at byte by
/// byte. A byte at a time cost 12 instructions a byte of output.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let mut i = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let w = u64::from_ne_bytes(le);
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0;
        if below_space || has_zero(w ^ (ONES * 0x7f)) || has_zero(w ^ (ONES * 0xc2)) {
            if let Some(at) = word.iter().position(|&b| needs_care(b)) {
                return i + at;
            }
        }
        i += 8;
    }
    i + words
        .remainder()
        .iter()
        .position(|&b| needs_care(b))
        .unwrap_or(words.remainder().len())
}

/// The colour codes the renderers write (`ESC [ code m`): every one that may pass.
const PAINTED: &[&[u8]] = &[b"0", b"31", b"1;31", b"32", b"33"];

/// The longest sequence worth waiting for: `ESC [` and the longest code.
const MAX_SGR: usize = 6;

impl<W: Write> Escaped<W> {
    pub(crate) fn new(inner: W, color: bool) -> Self {
        Escaped {
            inner,
            color,
            pending: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn escaped(c: char, out: &mut Vec<u8>) {
        out.extend(c.escape_default().to_string().bytes());
    }

    /// The pending bytes, shown as text: the ESC escaped, the rest as it was.
    fn give_up(&mut self, out: &mut Vec<u8>) {
        let pending = std::mem::take(&mut self.pending);
        match pending.first() {
            Some(0x1b) => {
                Self::escaped('\x1b', out);
                out.extend(&pending[1..]);
            }
            Some(_) => out.extend(&pending),
            None => {}
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.pending.first().copied() {
            Some(0x1b) => {
                let csi = self.pending.len() > 1;
                match b {
                    b'[' if !csi && self.color => return self.pending.push(b),
                    b'0'..=b'9' | b';' if csi && self.pending.len() < MAX_SGR => {
                        return self.pending.push(b)
                    }
                    b'm' if csi && PAINTED.contains(&&self.pending[2..]) => {
                        self.pending.push(b);
                        out.append(&mut self.pending);
                        return;
                    }
                    _ => self.give_up(out),
                }
            }
            Some(0xc2) => {
                if (0x80..=0x9f).contains(&b) {
                    self.pending.clear();
                    Self::escaped(char::from(b), out);
                    return;
                }
                self.give_up(out);
            }
            _ => {}
        }
        match b {
            0x1b | 0xc2 => self.pending.push(b),
            b'\n' | b'\t' => out.push(b),
            0x00..=0x1f | 0x7f => Self::escaped(char::from(b), out),
            _ => out.push(b),
        }
    }
}

impl<W: Write> Write for Escaped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Runs of bytes that pass unchanged (almost all of them) go straight through; only a
        // byte that may need care, and what follows it while a sequence is undecided, takes the
        // byte-by-byte path. The JSON of a large dump is tens of MB: the byte-by-byte path for
        // all of it cost 7% of a whole run.
        let mut rest = buf;
        let mut out = std::mem::take(&mut self.scratch);
        while let Some((&b, tail)) = rest.split_first() {
            if self.pending.is_empty() {
                let clean = clean_prefix(rest);
                if clean > 0 {
                    self.inner.write_all(&rest[..clean])?;
                    rest = &rest[clean..];
                    continue;
                }
            }
            out.clear();
            self.byte(b, &mut out);
            self.inner.write_all(&out)?;
            rest = tail;
        }
        self.scratch = out;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut out = Vec::new();
        self.give_up(&mut out);
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

/// `s` with its control characters escaped, for a line written to stderr.
pub(crate) fn line(s: &str) -> String {
    let mut w = Escaped::new(Vec::new(), false);
    let _ = w.write_all(s.as_bytes());
    let _ = w.flush();
    String::from_utf8_lossy(&w.inner).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(color: bool, parts: &[&[u8]]) -> String {
        let mut w = Escaped::new(Vec::new(), color);
        for p in parts {
            w.write_all(p).unwrap();
        }
        w.flush().unwrap();
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn control_characters_are_escaped_and_text_passes() {
        assert_eq!(
            through(
                false,
                &[b"evil\x1b[2Jname\x07\r\n\ttab \xc3\xa9 \xe2\x86\x92"]
            ),
            "evil\\u{1b}[2Jname\\u{7}\\r\n\ttab é →"
        );
        // A C1 control (U+009B, the one-character CSI) is escaped too.
        assert_eq!(through(false, &["a\u{9b}2Jb".as_bytes()]), "a\\u{9b}2Jb");
        // OSC (title, hyperlink) never passes, colour or not.
        assert_eq!(
            through(true, &[b"\x1b]0;pwned\x07"]),
            "\\u{1b}]0;pwned\\u{7}"
        );
    }

    #[test]
    fn colour_codes_pass_only_with_colour_and_across_writes() {
        assert_eq!(
            through(true, &[b"\x1b[3", b"1merror\x1b[0m"]),
            "\x1b[31merror\x1b[0m"
        );
        assert_eq!(through(false, &[b"\x1b[31merror"]), "\\u{1b}[31merror");
        // Not a colour code envinspect paints with: cursor movement, concealed text, even with
        // colour on.
        assert_eq!(through(true, &[b"\x1b[2J"]), "\\u{1b}[2J");
        assert_eq!(through(true, &[b"\x1b[8mhidden"]), "\\u{1b}[8mhidden");
        assert_eq!(through(true, &[b"\x1b[1;31m"]), "\x1b[1;31m");
        // A sequence cut by the end of output is shown, not lost.
        assert_eq!(through(true, &[b"x\x1b[3"]), "x\\u{1b}[3");
        assert_eq!(line("a\x1b[1mb"), "a\\u{1b}[1mb");
    }

    /// The fast path (clean runs written whole) gives what the byte-by-byte state machine
    /// gives, however the output is cut into writes.
    #[test]
    fn clean_prefix_stops_at_the_first_byte_that_needs_care() {
        for len in 0..40 {
            for at in 0..=len {
                for special in [0x00u8, 0x08, 0x0b, 0x0d, 0x1b, 0x1f, 0x7f, 0xc2] {
                    let mut text = vec![b'a'; len];
                    // newlines, tabs, spaces, UTF-8 other than 0xc2 all pass
                    for (i, b) in text.iter_mut().enumerate() {
                        *b = [b'a', b'\n', b'\t', b' ', 0xc3, 0xe2, 0x80, 0x7e, 0x20][i % 9];
                    }
                    if at < len {
                        text[at] = special;
                    }
                    assert_eq!(clean_prefix(&text), at, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn runs_written_whole_match_byte_by_byte() {
        let texts: &[&[u8]] = &[
            b"plain {\"json\": 1}\n\tnext",
            b"a\x1b[31mred\x1b[0m b\x1b[2J c\x1b]0;t\x07 d\x1b[1;31m e\x1b[8m",
            "caf\u{e9} \u{9b}2J \u{a0}nbsp \u{85}nel \u{2192}".as_bytes(),
            b"\xc2\x1b\xc2\xc2\x9b\x1b\x1b[\x1b[3\r\x7f\x00\xc2",
        ];
        for color in [false, true] {
            for text in texts {
                let mut reference = Escaped::new(Vec::new(), color);
                let mut expected = Vec::new();
                for &b in *text {
                    reference.byte(b, &mut expected);
                }
                reference.give_up(&mut expected);
                for cut in 1..=text.len() {
                    let parts: Vec<&[u8]> = text.chunks(cut).collect();
                    let mut w = Escaped::new(Vec::new(), color);
                    for p in &parts {
                        w.write_all(p).unwrap();
                    }
                    w.flush().unwrap();
                    assert_eq!(
                        w.inner, expected,
                        "{text:?} in writes of {cut}, colour {color}"
                    );
                }
            }
        }
    }
}
