//! Where in a document a value was read: a JSON Pointer (RFC 6901), `/configs/2/dynamic_active_
//! clusters/0/cluster`, empty for the whole document or for documents without pointers (PEM).

use std::fmt;
use std::ops::Deref;

use serde::Serialize;

/// A JSON Pointer into the document a value was read from: empty, or `/`-separated tokens.
/// Written as its text; reads as a `&str` where one is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer with this text. A pointer is empty or starts with `/`; anything else is a
    /// bug of the reader that made it (caught in debug builds, kept as given in release ones:
    /// a dump must never make envinspect panic).
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        debug_assert!(
            text.is_empty() || text.starts_with('/'),
            "not a JSON Pointer: {text:?}"
        );
        Pointer(text)
    }

    /// The pointer's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Pointer {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Pointer {
    fn from(text: String) -> Self {
        Pointer::new(text)
    }
}

impl From<&str> for Pointer {
    fn from(text: &str) -> Self {
        Pointer::new(text)
    }
}

impl From<&String> for Pointer {
    fn from(text: &String) -> Self {
        Pointer::new(text.as_str())
    }
}

impl PartialEq<str> for Pointer {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Pointer {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read_as_its_text() {
        let p = Pointer::new("/configs/0/bootstrap");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            "\"/configs/0/bootstrap\""
        );
        assert_eq!(p.to_string(), "/configs/0/bootstrap");
        assert!(p.starts_with("/configs"));
        assert_eq!(p, "/configs/0/bootstrap");
        assert!(Pointer::default().is_empty());
    }
}
