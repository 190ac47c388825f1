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
        let mut out = Vec::with_capacity(buf.len());
        for &b in buf {
            self.byte(b, &mut out);
        }
        self.inner.write_all(&out)?;
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
}
