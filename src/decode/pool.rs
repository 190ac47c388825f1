//! The descriptor pool: Envoy's messages exactly as the envoy-types structs were generated
//! (vendored from the crate, see `proto/regenerate.sh`), plus envinspect's own placeholder for
//! `Any`s whose type we do not know, flattened into the [`Schema`] the encoder walks.

use prost::Message as _;
use prost_types::{
    field_descriptor_proto::{Label, Type},
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
};

use super::schema::{Message, Schema};
use super::DecodeError;

static ENVOY_DESCRIPTORS: &[u8] = include_bytes!("../../proto/envoy-types.desc.bin");

/// The carrier of an unknown `Any`: its original type URL and its JSON, verbatim.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct UnknownAny {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(string, tag = "2")]
    pub raw_json: String,
}

/// Built once per run (a few milliseconds) and shared by reference by every thread.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) schema: Schema,
}

impl Pool {
    pub(crate) fn load() -> Result<Self, DecodeError> {
        let mut set = FileDescriptorSet::decode(ENVOY_DESCRIPTORS)
            .map_err(|e| DecodeError::Descriptors(e.to_string()))?;
        set.file.push(placeholder_file());
        let schema = Schema::from_files(&set.file).map_err(DecodeError::Descriptors)?;
        Ok(Self { schema })
    }

    /// The pool of this process, loaded on first use and kept (the descriptors are embedded:
    /// every load gives the same pool).
    pub(crate) fn shared() -> Result<&'static Pool, DecodeError> {
        static SHARED: std::sync::OnceLock<Result<Pool, String>> = std::sync::OnceLock::new();
        match SHARED.get_or_init(|| {
            Pool::load().map_err(|e| match e {
                DecodeError::Descriptors(what) => what,
                other => other.to_string(),
            })
        }) {
            Ok(p) => Ok(p),
            Err(e) => Err(DecodeError::Descriptors(e.clone())),
        }
    }

    pub(crate) fn message(&self, full_name: &str) -> Option<&Message> {
        self.schema.message(full_name)
    }
}

/// prost-reflect's reading of the same descriptors: the tests' oracle.
#[cfg(test)]
pub(crate) fn descriptors() -> prost_reflect::DescriptorPool {
    let mut pool = prost_reflect::DescriptorPool::decode(ENVOY_DESCRIPTORS).unwrap();
    pool.add_file_descriptor_proto(placeholder_file()).unwrap();
    pool
}

fn placeholder_file() -> FileDescriptorProto {
    let string_field = |name: &str, number: i32| FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(Type::String as i32),
        json_name: Some(name.into()),
        ..Default::default()
    };
    let (package, name) = super::typeurl::UNKNOWN_PLACEHOLDER
        .rsplit_once('.')
        .unwrap_or(("envinspect.internal", "Unknown"));
    FileDescriptorProto {
        name: Some("envinspect/internal.proto".into()),
        package: Some(package.into()),
        message_type: vec![DescriptorProto {
            name: Some(name.into()),
            field: vec![string_field("type_url", 1), string_field("raw_json", 2)],
            ..Default::default()
        }],
        syntax: Some("proto3".into()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Name;

    #[test]
    fn vendored_descriptors_match_the_structs() {
        let pool = Pool::load().unwrap();
        for name in [
            envoy_types::pb::envoy::admin::v3::ConfigDump::full_name(),
            envoy_types::pb::envoy::config::cluster::v3::Cluster::full_name(),
            envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext::full_name(),
            super::super::typeurl::UNKNOWN_PLACEHOLDER.to_string(),
        ] {
            assert!(pool.message(&name).is_some(), "{name} missing");
        }
        // The typed structs must know every field the descriptors do (no drift).
        let desc = pool.message("envoy.config.cluster.v3.Cluster").unwrap();
        assert!(desc.field("transport_socket_matches").is_some());
    }
}
