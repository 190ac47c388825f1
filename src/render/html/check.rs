//! What a page may contain: the tags and attributes the renderer writes, and nothing else. A
//! page passes when every tag is one of those and carries only those attributes, and there is
//! exactly one script (the renderer's). The unit tests and the `html` fuzz target hold every page
//! to it, whatever the dump's names.

/// Tags the renderer writes.
const TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "main", "script",
    "section", "details", "summary", "h1", "h2", "h3", "p", "label", "input", "button", "dl", "dt",
    "dd", "table", "caption", "thead", "tbody", "tr", "th", "td", "span", "a", "ul", "ol", "li",
    "div", "strong", "em", "code", "br", "svg", "text", "rect", "line",
];

/// Attributes the renderer writes (none of them an event handler or a URL but `href="#…"`).
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "http-equiv",
    "id",
    "class",
    "for",
    "type",
    "autocomplete",
    "placeholder",
    "open",
    "scope",
    "href",
    "title",
    "role",
    "aria-label",
    "aria-labelledby",
    "tabindex",
    "data-reason",
    "viewBox",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "width",
    "height",
    "text-anchor",
    "html",
];

/// `Ok` when `page` has only the renderer's markup; else the first stray tag or attribute.
pub(crate) fn markup_is_ours(page: &str) -> Result<(), String> {
    // The style and the script are the renderer's constants: skip their bodies.
    let body = strip_between(page, "<style>", "</style>");
    let body = strip_between(&body, "<script>", "</script>");
    if page.matches("<script").count() != 1 {
        return Err(format!("{} scripts", page.matches("<script").count()));
    }
    let mut rest = body.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("a tag is not closed")?;
        let tag = rest[..end].trim_start_matches('/');
        rest = &rest[end..];
        let mut words = split_attributes(tag.trim_end_matches('/'));
        let name = words.next().unwrap_or_default();
        if !TAGS.contains(&name) {
            return Err(format!("tag <{name}>"));
        }
        for w in words {
            let (attr, value) = w.split_once('=').unwrap_or((w, ""));
            if !ATTRIBUTES.contains(&attr) {
                return Err(format!("attribute {attr} on <{name}>"));
            }
            if attr == "href" && !value.starts_with("\"#") {
                return Err(format!("href {value}"));
            }
        }
    }
    Ok(())
}

fn strip_between(s: &str, open: &str, close: &str) -> String {
    match (s.find(open), s.find(close)) {
        (Some(a), Some(b)) if b > a => format!("{}{}", &s[..a + open.len()], &s[b..]),
        _ => s.to_string(),
    }
}

/// A tag's name and attributes, split on whitespace outside double quotes.
fn split_attributes(tag: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (None, false);
    for (i, c) in tag.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    out.push(&tag[s..i]);
                }
                continue;
            }
            _ => {}
        }
        if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&tag[s..]);
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{render, Color, Format, View};

    /// Names that are markup, script, URLs, entities and quotes, alone and mixed.
    fn hostile() -> Vec<String> {
        let base = [
            "<img src=x onerror=alert(1)>",
            "</script><script>alert(2)</script>",
            "javascript:alert(3)",
            "\"><svg onload=alert(4)>",
            "' onmouseover='alert(5)",
            "&lt;b&gt;&amp;",
            "<!-- x --><style>*{}</style>",
            "a\u{1b}[31mred\nline",
        ];
        let mut out: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for (i, a) in base.iter().enumerate() {
            out.push(format!("{a}{}", base[(i + 3) % base.len()]));
        }
        out
    }

    fn dump(evil: &str) -> serde_json::Value {
        serde_json::json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
             "static_clusters": [{"cluster": {
                "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                "name": evil, "type": "STATIC", "connect_timeout": "1s",
                "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                    "sni": "evil.example",
                    "common_tls_context": {
                        "tls_certificate_sds_secret_configs": [{"name": evil}],
                        "validation_context": {"match_typed_subject_alt_names": [
                            {"san_type": "URI", "matcher": {"exact": evil}}]}}}}}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
             "static_listeners": [{"listener": {
                "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                "name": evil,
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}},
                "filter_chains": [{"name": evil, "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": evil,
                        "route_config": {"name": evil, "virtual_hosts": [{
                            "name": evil, "domains": [evil],
                            "routes": [{"name": evil, "match": {"prefix": evil},
                                        "route": {"cluster": evil}}]}]},
                        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}}]}
        ]})
    }

    #[test]
    fn hostile_names_make_no_markup_in_any_page() {
        let now = time::macros::datetime!(2026-12-01 0:00 UTC);
        for evil in hostile() {
            let input = crate::Input {
                name: evil.clone(),
                bytes: dump(&evil).to_string().into_bytes(),
            };
            let report = crate::inspect(&input, &crate::Options::at(now)).expect("reads");
            assert!(
                report.listeners.iter().any(|l| l.name.as_str() == evil),
                "{evil}"
            );
            for view in [
                View::Report,
                View::Certs,
                View::Clusters,
                View::Listeners,
                View::Routes,
                View::Secrets,
            ] {
                let mut out = Vec::new();
                render(&report, view, Format::Html, Color::Plain, None, &mut out).unwrap();
                let page = String::from_utf8(out).unwrap();
                assert_eq!(markup_is_ours(&page), Ok(()), "{evil:?} {view:?}");
            }
        }
    }

    #[test]
    fn the_checker_catches_what_it_must() {
        let ok = "<html><body><p>x</p><script>1</script></body></html>";
        assert_eq!(markup_is_ours(ok), Ok(()));
        let bad = [
            "<p><img src=x></p><script></script>",
            "<p onclick=\"x\">a</p><script></script>",
            "<a href=\"javascript:x\">a</a><script></script>",
            "<p>a</p><script></script><script></script>",
        ];
        for b in bad {
            assert!(markup_is_ours(b).is_err(), "{b}");
        }
    }
}
