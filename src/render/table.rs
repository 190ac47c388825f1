//! A plain column-aligned table: header, rows, columns padded to their widest cell plus three
//! spaces, no trailing blanks. Empty cells print as `-`.

use std::io::{self, Write};

/// The ANSI code a cell's text gets, if any.
type Painter = fn(&str) -> Option<&'static str>;

pub(super) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// A column whose cells are coloured (`--color`), and the ANSI code each cell gets.
    paint: Option<(usize, Painter)>,
}

impl Table {
    /// A table whose column names are computed (one per caller, say).
    pub(super) fn with_header(header: Vec<String>) -> Self {
        Self {
            header,
            rows: Vec::new(),
            paint: None,
        }
    }

    pub(super) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            paint: None,
        }
    }

    pub(super) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The row added last, to extend it.
    pub(super) fn last_row(&mut self) -> Option<&mut Vec<String>> {
        self.rows.last_mut()
    }

    /// Colours the cells of `column` with the ANSI code `code` gives each (none: plain). The
    /// padding is computed on the plain text, so columns stay aligned.
    pub(super) fn paint(&mut self, column: usize, code: Painter) {
        self.paint = Some((column, code));
    }

    /// The column names.
    pub(super) fn header(&self) -> &[String] {
        &self.header
    }

    /// The rows, cells as the text output has them (empty: none).
    pub(super) fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(super) fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        // Cells are text from the dump: a control character in one (a terminal escape in a
        // listener's name) is shown escaped, never sent to the terminal.
        let cell = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                super::explain::clean(s)
            }
        };
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell(c).chars().count());
                }
            }
        }
        let line = |w: &mut dyn Write, cells: Vec<String>, body: bool| -> io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                let code = self
                    .paint
                    .filter(|(col, _)| body && *col == i)
                    .and_then(|(_, code)| code(c));
                match code {
                    Some(code) => out.push_str(&format!("\x1b[{code}m{c}\x1b[0m")),
                    None => out.push_str(c),
                }
                if i + 1 < cells.len() {
                    let pad = widths[i] + 3 - c.chars().count();
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(w, self.header.clone(), false)?;
        for row in &self.rows {
            line(w, row.iter().map(|c| cell(c)).collect(), true)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_marks_empty_cells() {
        let mut t = Table::new(&["A", "BB"]);
        t.row(vec!["xyz".into(), "".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A     BB\nxyz   -\n");
    }

    #[test]
    fn control_characters_in_cells_are_escaped() {
        let mut t = Table::new(&["NAME"]);
        t.row(vec!["evil\x1b[31mred".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME\nevil\\u{1b}[31mred\n"
        );
    }

    #[test]
    fn painted_cells_keep_the_columns_aligned() {
        let mut t = Table::new(&["LEVEL", "RULE"]);
        t.row(vec!["error".into(), "a".into()]);
        t.row(vec!["info".into(), "b".into()]);
        t.paint(0, |c| (c == "error").then_some("31"));
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "LEVEL   RULE\n\x1b[31merror\x1b[0m   a\ninfo    b\n"
        );
    }
}
