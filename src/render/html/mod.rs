//! `-o html`: one self-contained page per answer (a dump's report, its certificates, a bundle),
//! made to be opened offline, searched, printed and attached to a ticket. Inline CSS, inline
//! SVG and a little plain JavaScript (search, sort, open-all); no font, no CDN, no request of
//! any kind.
//!
//! Everything from a dump is untrusted text. It reaches the page only through [`Html::text`]
//! (escaped for text and for double-quoted attributes alike) or [`anchor`] (which keeps only
//! `[A-Za-z0-9_-]` and writes every other byte as `.XX`), so no string from input ever becomes
//! markup, an attribute of its own, a URL scheme or script. Links are all in-page (`#…`), and
//! only to anchors the page has: a link whose target was not written is left as text.
//!
//! Deterministic: the same report gives the same bytes (no clock, sorted input).

mod bundle;
mod certs;
mod check;
mod evidence;
mod flow;
mod report;

pub(super) use bundle::bundle_page;
pub(crate) use check::markup_is_ours;
pub(crate) use evidence::{explain_page, sync_page};
pub(super) use flow::{authz_view_page, evaluation_page, l4_page, trace_page};
pub(super) use report::report_page;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::table::Table;

/// The page's style: readable on screen and on paper, colours that keep their contrast in print,
/// and status never shown by colour alone (every coloured cell also says its word).
const CSS: &str = include_str!("page.css");

/// Search (filters every table's rows, and the diagrams' entries), sortable columns, open all
/// sections before printing. Reads only the page's own text.
const JS: &str = include_str!("page.js");

/// A row's anchor, from its cells.
pub(super) type RowId<'a> = &'a dyn Fn(&[String]) -> String;

/// The anchor a cell links to, from its column and its row's cells.
pub(super) type CellLink<'a> = &'a dyn Fn(usize, &[String]) -> Option<String>;

/// A page being written: its body, and the anchors it has so far (links go only to those).
pub(super) struct Html {
    body: String,
    anchors: BTreeSet<String>,
    /// Links written before their target, checked when the page is finished.
    pending: Vec<(usize, usize, String)>,
}

/// Escapes `s` for HTML text and for a double-quoted attribute value.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (a terminal escape in a name) are shown, not passed on.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// An id for an object of `kind` named `name`: ASCII letters, digits, `_` and `-` as they are,
/// every other byte as `.XX`, so it is one token, never markup, and the same name always gives
/// the same id.
pub(super) fn anchor(kind: &str, name: &str) -> String {
    let mut out = String::with_capacity(kind.len() + name.len() + 1);
    for part in [kind, "-", name] {
        for b in part.bytes() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                out.push(b as char);
            } else {
                let _ = write!(out, ".{b:02X}");
            }
        }
    }
    out
}

impl Html {
    pub(super) fn new() -> Self {
        Html {
            body: String::new(),
            anchors: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    /// Raw markup the renderer itself wrote (never input).
    pub(super) fn raw(&mut self, s: &str) -> &mut Self {
        self.body.push_str(s);
        self
    }

    /// Text from anywhere, escaped.
    pub(super) fn text(&mut self, s: &str) -> &mut Self {
        self.body.push_str(&esc(s));
        self
    }

    /// `<tag>text</tag>`, the text escaped.
    pub(super) fn el(&mut self, tag: &str, s: &str) -> &mut Self {
        let _ = write!(self.body, "<{tag}>{}</{tag}>", esc(s));
        self
    }

    /// An `id` attribute (with its leading space), recorded as a link target.
    pub(super) fn id(&mut self, id: &str) -> String {
        self.anchors.insert(id.to_string());
        format!(" id=\"{id}\"")
    }

    /// A link to `#id` showing `label`; plain text if the page never gets that anchor.
    pub(super) fn link(&mut self, id: &str, label: &str) -> &mut Self {
        let start = self.body.len();
        let _ = write!(self.body, "<a href=\"#{id}\">{}</a>", esc(label));
        self.pending
            .push((start, self.body.len(), format!("{}\u{0}{label}", id)));
        self
    }

    /// A section with a heading and an anchor, open by default.
    pub(super) fn section(&mut self, id: &str, title: &str) -> &mut Self {
        let id = self.id(id);
        let _ = write!(
            self.body,
            "<section{id}><details open><summary><h2>{}</h2></summary>",
            esc(title)
        );
        self
    }

    pub(super) fn end_section(&mut self) -> &mut Self {
        self.body.push_str("</details></section>\n");
        self
    }

    /// A table of `t`, searchable and sortable. `row_id` gives a row's anchor from its cells;
    /// `link` the anchor a cell links to (column, cells).
    pub(super) fn table(
        &mut self,
        caption: &str,
        t: &Table,
        row_id: Option<RowId<'_>>,
        link: Option<CellLink<'_>>,
    ) -> &mut Self {
        let _ = write!(
            self.body,
            "<table class=\"data\"><caption>{} <span class=\"count\">({} rows)</span></caption><thead><tr>",
            esc(caption),
            t.rows().len()
        );
        for h in t.header() {
            let _ = write!(
                self.body,
                "<th scope=\"col\"><button type=\"button\" class=\"sort\">{}</button></th>",
                esc(h)
            );
        }
        self.body.push_str("</tr></thead><tbody>");
        for row in t.rows() {
            match row_id.map(|f| f(row)) {
                Some(id) if !self.anchors.contains(&id) => {
                    let id = self.id(&id);
                    let _ = write!(self.body, "<tr{id}>");
                }
                _ => self.body.push_str("<tr>"),
            }
            for (i, c) in row.iter().enumerate() {
                let class = level_class(c);
                let _ = write!(self.body, "<td{class}>");
                match link.and_then(|f| f(i, row)) {
                    Some(target) if !c.is_empty() => {
                        self.link(&target, c);
                    }
                    _ if c.is_empty() => {
                        self.body.push('-');
                    }
                    _ => {
                        self.text(c);
                    }
                }
                self.body.push_str("</td>");
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table>\n");
        self
    }

    /// The whole page: head, the search box, the body, the script. Links to anchors the page
    /// does not have become their label as text.
    pub(super) fn finish(mut self, title: &str) -> String {
        for (start, end, key) in self.pending.iter().rev() {
            let (id, label) = key.split_once('\u{0}').unwrap_or((key, ""));
            if !self.anchors.contains(id) {
                self.body.replace_range(*start..*end, &esc(label));
            }
        }
        let mut page = String::with_capacity(self.body.len() + CSS.len() + JS.len() + 1024);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
             <header><p class=\"tool\">envinspect</p><h1>{}</h1>\
             <p class=\"search\"><label for=\"q\">Search</label> \
             <input id=\"q\" type=\"search\" autocomplete=\"off\" \
             placeholder=\"filter every table and diagram\">\
             <button type=\"button\" id=\"open-all\">Open all</button></p></header>\n<main>\n",
            esc(title),
            esc(title)
        );
        page.push_str(&self.body);
        let _ = write!(page, "</main>\n<script>\n{JS}</script>\n</body>\n</html>\n");
        page
    }
}

/// Cells that are a level or a verdict get a class (their word stays: never colour alone).
fn level_class(cell: &str) -> &'static str {
    match cell {
        "error" | "FAIL" | "no" | "EXPIRED" | "broken" | "ERROR" => " class=\"bad\"",
        "warning" | "?" | "STALE" | "STALE (Never Acknowledged)" | "NOT SENT" => " class=\"warn\"",
        "ok" | "yes" | "PASS" | "SYNCED" => " class=\"good\"",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            esc("<img src=x onerror=\"alert('1')\">&\u{1b}"),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;\\u{1b}"
        );
    }

    #[test]
    fn anchors_are_one_safe_token() {
        assert_eq!(
            anchor("cluster", "outbound|80||a.b"),
            "cluster-outbound.7C80.7C.7Ca.2Eb"
        );
        assert_eq!(anchor("x", "\"><script>"), "x-.22.3E.3Cscript.3E");
        assert!(anchor("x", "javascript:alert(1)")
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)));
    }

    #[test]
    fn links_to_anchors_the_page_lacks_are_text() {
        let mut h = Html::new();
        h.link("nowhere", "a <b>");
        let id = h.id("here");
        h.raw(&format!("<p{id}>x</p>"));
        h.link("here", "there");
        let page = h.finish("t");
        assert!(page.contains("a &lt;b&gt;<p id=\"here\">x</p><a href=\"#here\">there</a>"));
        assert!(!page.contains("#nowhere"));
    }
}
