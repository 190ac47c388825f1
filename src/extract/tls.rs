//! Transport sockets and TLS contexts → [`Socket`] / [`TlsContext`].

use envoy_types::pb::envoy::config::core::v3::{
    data_source::Specifier, transport_socket::ConfigType, DataSource, TransportSocket,
};
use envoy_types::pb::envoy::extensions::transport_sockets::raw_buffer::v3::RawBuffer;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    common_tls_context::ValidationContextType, subject_alt_name_matcher::SanType,
    tls_parameters::TlsProtocol, CertificateValidationContext, CommonTlsContext,
    DownstreamTlsContext, SpiffeCertValidatorConfig, UpstreamTlsContext,
};
use envoy_types::pb::envoy::r#type::matcher::v3::{string_matcher::MatchPattern, StringMatcher};

use super::raw_config;
use crate::decode::{typeurl, unpack, Unpacked};
use crate::model::cert::{InlineMaterial, KeyMaterial};
use crate::model::tls::{
    CertSource, MatchKind, NoTls, SanKind, SanMatcher, StringMatch, TlsMode, ValidationSource,
};
use crate::model::{Socket, TlsContext};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Upstream,
    Downstream,
}

pub(crate) fn socket(ts: Option<&TransportSocket>, side: Side) -> Socket {
    let Some(ts) = ts else {
        return Socket::Plaintext {
            reason: NoTls::NoTransportSocket,
        };
    };
    let any = ts.config_type.as_ref().map(|ConfigType::TypedConfig(a)| a);
    if matches!(unpack::<RawBuffer>(any), Unpacked::Known(_)) {
        return Socket::Plaintext {
            reason: NoTls::RawBuffer,
        };
    }
    let tls = match side {
        Side::Upstream => unpack::<UpstreamTlsContext>(any).known().map(upstream),
        Side::Downstream => unpack::<DownstreamTlsContext>(any).known().map(downstream),
    };
    if let Some(ctx) = tls {
        return Socket::Tls(Box::new(ctx));
    }
    match any {
        None if typeurl::RAW_BUFFER_NAMES.contains(&ts.name.as_str()) => Socket::Plaintext {
            reason: NoTls::RawBuffer,
        },
        None if typeurl::TLS_SOCKET_NAMES.contains(&ts.name.as_str()) => {
            Socket::Tls(Box::default())
        }
        None => Socket::Other {
            name: ts.name.clone(),
            config: None,
        },
        Some(any) => Socket::Other {
            name: ts.name.clone(),
            config: Some(raw_config(any)),
        },
    }
}

pub(crate) fn upstream(ctx: UpstreamTlsContext) -> TlsContext {
    let mut out = common(ctx.common_tls_context.unwrap_or_default());
    out.sni = ctx.sni.parse().ok();
    out.mode = Some(if out.certificates.is_empty() {
        TlsMode::Simple
    } else {
        TlsMode::Mutual
    });
    out
}

pub(crate) fn downstream(ctx: DownstreamTlsContext) -> TlsContext {
    let mut out = common(ctx.common_tls_context.unwrap_or_default());
    let required = ctx
        .require_client_certificate
        .map(|b| b.value)
        .unwrap_or(false);
    out.require_client_certificate = Some(required);
    out.mode = Some(if required {
        TlsMode::Mutual
    } else {
        TlsMode::Simple
    });
    out
}

fn common(ctx: CommonTlsContext) -> TlsContext {
    let mut out = TlsContext {
        alpn: ctx.alpn_protocols,
        ..Default::default()
    };
    if let Some(params) = ctx.tls_params {
        out.min_version = protocol(params.tls_minimum_protocol_version);
        out.max_version = protocol(params.tls_maximum_protocol_version);
    }
    for cert in ctx.tls_certificates {
        if let Some(bytes) = cert.certificate_chain.as_ref().and_then(inline_bytes) {
            let key = super::secret::key_material(cert.private_key.as_ref());
            out.inline.push(InlineMaterial {
                ca: false,
                bytes,
                key,
            });
        }
        if let Some(src) = cert.certificate_chain.as_ref().and_then(data_source) {
            out.certificates.push(match src {
                Data::File(path) => CertSource::File { path },
                Data::Inline(bytes) => CertSource::Inline { bytes },
                Data::Env(name) => CertSource::Provider {
                    name: format!("env:{name}"),
                },
            });
        }
    }
    for sds in ctx.tls_certificate_sds_secret_configs {
        out.certificates.push(CertSource::Sds {
            name: sds.name.into(),
        });
    }
    if let Some(p) = ctx.tls_certificate_provider_instance {
        out.certificates.push(CertSource::Provider {
            name: p.instance_name,
        });
    }
    match ctx.validation_context_type {
        Some(ValidationContextType::ValidationContext(cvc)) => validation(cvc, &mut out),
        Some(ValidationContextType::ValidationContextSdsSecretConfig(sds)) => {
            out.validation.push(ValidationSource::Sds {
                name: sds.name.into(),
            });
        }
        Some(ValidationContextType::CombinedValidationContext(combined)) => {
            if let Some(cvc) = combined.default_validation_context {
                validation(cvc, &mut out);
            }
            if let Some(sds) = combined.validation_context_sds_secret_config {
                out.validation.push(ValidationSource::Sds {
                    name: sds.name.into(),
                });
            }
        }
        #[allow(deprecated)]
        Some(ValidationContextType::ValidationContextCertificateProviderInstance(p)) => {
            out.validation.push(ValidationSource::Provider {
                name: p.instance_name,
            });
        }
        #[allow(deprecated)]
        Some(other) => out.validation.push(ValidationSource::Provider {
            name: format!("{other:?}").chars().take(60).collect(),
        }),
        None => {}
    }
    out
}

/// Trust and SAN matchers of a validation context (also used for `Secret`s of CA type).
pub(crate) fn validation(cvc: CertificateValidationContext, out: &mut TlsContext) {
    if let Some(bytes) = cvc.trusted_ca.as_ref().and_then(inline_bytes) {
        out.inline.push(InlineMaterial {
            ca: true,
            bytes,
            key: KeyMaterial::Absent,
        });
    }
    if let Some(src) = cvc.trusted_ca.as_ref().and_then(data_source) {
        out.validation.push(match src {
            Data::File(path) => ValidationSource::File { path },
            Data::Inline(bytes) => ValidationSource::InlineCa { bytes },
            Data::Env(name) => ValidationSource::Provider {
                name: format!("env:{name}"),
            },
        });
    }
    if let Some(custom) = cvc.custom_validator_config {
        match unpack::<SpiffeCertValidatorConfig>(custom.typed_config.as_ref()) {
            Unpacked::Known(spiffe) => out.validation.push(ValidationSource::SpiffeBundles {
                trust_domains: spiffe
                    .trust_domains
                    .iter()
                    .filter_map(|t| t.name.parse().ok())
                    .collect(),
            }),
            _ => out
                .validation
                .push(ValidationSource::CustomValidator { name: custom.name }),
        }
    }
    #[allow(deprecated)]
    for m in cvc.match_subject_alt_names {
        if let Some(matcher) = string_match(m) {
            out.san_matchers.push(SanMatcher {
                san: SanKind::Any,
                matcher,
            });
        }
    }
    for m in cvc.match_typed_subject_alt_names {
        let san = match SanType::try_from(m.san_type) {
            Ok(SanType::Uri) => SanKind::Uri,
            Ok(SanType::Dns) => SanKind::Dns,
            Ok(SanType::IpAddress) => SanKind::Ip,
            Ok(SanType::Email) => SanKind::Email,
            Ok(SanType::OtherName) => SanKind::OtherName,
            _ => SanKind::Any,
        };
        if let Some(matcher) = m.matcher.and_then(string_match) {
            out.san_matchers.push(SanMatcher { san, matcher });
        }
    }
}

pub(crate) fn string_match(m: StringMatcher) -> Option<StringMatch> {
    let (how, value) = match m.match_pattern? {
        MatchPattern::Exact(v) => (MatchKind::Exact, v),
        MatchPattern::Prefix(v) => (MatchKind::Prefix, v),
        MatchPattern::Suffix(v) => (MatchKind::Suffix, v),
        MatchPattern::Contains(v) => (MatchKind::Contains, v),
        MatchPattern::SafeRegex(r) => (MatchKind::Regex, r.regex),
        MatchPattern::Custom(c) => (MatchKind::Regex, format!("<custom matcher {}>", c.name)),
    };
    Some(StringMatch {
        how,
        value,
        ignore_case: m.ignore_case,
    })
}

fn protocol(p: i32) -> Option<String> {
    match TlsProtocol::try_from(p) {
        Ok(TlsProtocol::TlsAuto) => None,
        Ok(p) => Some(p.as_str_name().replace('_', ".")),
        Err(_) => Some(format!("unknown ({p})")),
    }
}

fn inline_bytes(d: &DataSource) -> Option<Vec<u8>> {
    match d.specifier.as_ref()? {
        Specifier::InlineBytes(b) => Some(b.clone()),
        Specifier::InlineString(s) => Some(s.clone().into_bytes()),
        _ => None,
    }
}

pub(crate) enum Data {
    File(String),
    Inline(usize),
    Env(String),
}

pub(crate) fn data_source(d: &DataSource) -> Option<Data> {
    Some(match d.specifier.as_ref()? {
        Specifier::Filename(f) => Data::File(f.clone()),
        Specifier::InlineBytes(b) => Data::Inline(b.len()),
        Specifier::InlineString(s) => Data::Inline(s.len()),
        Specifier::EnvironmentVariable(e) => Data::Env(e.clone()),
    })
}
