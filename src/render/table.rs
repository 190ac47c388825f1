//! A plain column-aligned table: header, rows, columns padded to their widest cell plus three
//! spaces, no trailing blanks. Empty cells print as `-`.

use std::io::{self, Write};

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose column names are computed (one per caller, say).
    pub fn with_header(header: Vec<String>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The row added last, to extend it.
    pub fn last_row(&mut self) -> Option<&mut Vec<String>> {
        self.rows.last_mut()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let cell = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
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
        let line = |w: &mut dyn Write, cells: Vec<String>| -> io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                out.push_str(c);
                if i + 1 < cells.len() {
                    let pad = widths[i] + 3 - c.chars().count();
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(w, self.header.clone())?;
        for row in &self.rows {
            line(w, row.iter().map(|c| cell(c)).collect())?;
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
}
