//! Unpacking `google.protobuf.Any` into typed structs. `extract/` asks "is this an X?" through
//! [`unpack`], never by comparing type URL strings itself.

use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};

use super::pool::UnknownAny;
use super::typeurl;

/// What an `Any` turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unpacked<T> {
    Known(T),
    /// A type our descriptors do not have: its URL and JSON, as they were in the dump.
    Raw {
        type_url: String,
        raw_json: String,
    },
    /// A known type other than `T`.
    Other {
        type_url: String,
    },
    /// The bytes did not decode as `T` (should not happen after the walk; kept, not hidden).
    Invalid {
        type_url: String,
        error: String,
    },
    /// No `Any` at all.
    Absent,
}

pub(crate) fn unpack<T: Message + Name + Default>(any: Option<&Any>) -> Unpacked<T> {
    let Some(any) = any else {
        return Unpacked::Absent;
    };
    if any.type_url.is_empty() && any.value.is_empty() {
        return Unpacked::Absent;
    }
    let name = typeurl::message_name(&any.type_url);
    if name == typeurl::UNKNOWN_PLACEHOLDER {
        return match UnknownAny::decode(any.value.as_slice()) {
            Ok(u) => Unpacked::Raw {
                type_url: u.type_url,
                raw_json: u.raw_json,
            },
            Err(e) => Unpacked::Invalid {
                type_url: any.type_url.clone(),
                error: e.to_string(),
            },
        };
    }
    if name != T::full_name() {
        return Unpacked::Other {
            type_url: any.type_url.clone(),
        };
    }
    match T::decode(any.value.as_slice()) {
        Ok(t) => Unpacked::Known(t),
        Err(e) => Unpacked::Invalid {
            type_url: any.type_url.clone(),
            error: e.to_string(),
        },
    }
}

/// The full message name of an `Any`, as a user would want to see it (the original URL for
/// unknown types).
pub(crate) fn type_name(any: &Any) -> String {
    let name = typeurl::message_name(&any.type_url);
    if name == typeurl::UNKNOWN_PLACEHOLDER {
        if let Ok(u) = UnknownAny::decode(any.value.as_slice()) {
            return typeurl::message_name(&u.type_url).to_string();
        }
    }
    name.to_string()
}

impl<T> Unpacked<T> {
    pub(crate) fn known(self) -> Option<T> {
        match self {
            Unpacked::Known(t) => Some(t),
            _ => None,
        }
    }
}

/// A message no `Any` ever holds: `unpack::<Never>` tells only whether an `Any` is raw.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Never {}

impl Name for Never {
    const NAME: &'static str = "Never";
    const PACKAGE: &'static str = "envinspect.internal";
}
