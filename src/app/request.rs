//! A request as the command line describes it (`authz --principal …`, `trace … --method …`),
//! turned into what `authz` evaluates or `trace` follows, with the refusals of options that do
//! not belong to the direction asked for.

use std::net::IpAddr;

use super::UsageError;
use crate::authz::Request;
use crate::trace::{AppProtocol, Probe, Target};

/// The request options, as given (the binary fills it from its flags).
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    /// The client presents a certificate with this SPIFFE ID (URI SAN).
    pub principal: Option<String>,
    /// The client sends plaintext.
    pub plaintext: bool,
    /// Only a TCP connection, no HTTP request.
    pub tcp: bool,
    pub listener: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub host: Option<String>,
    /// `name: value`, as typed.
    pub headers: Vec<String>,
    pub jwt: Option<String>,
    /// `ISSUER/SUBJECT`.
    pub request_principal: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub sni: Option<String>,
    pub alpn: Option<Vec<String>>,
}

impl RequestSpec {
    /// Whether a client was described at all (else `authz` shows the view).
    pub fn given(&self) -> bool {
        self.principal.is_some() || self.plaintext
    }

    /// The first option given that describes a request, for the refusal when no client is.
    pub fn request_option(&self) -> Option<&'static str> {
        [
            ("--method", self.method.is_some()),
            ("--path", self.path.is_some()),
            ("--host", self.host.is_some()),
            ("--header", !self.headers.is_empty()),
            ("--jwt", self.jwt.is_some()),
            ("--request-principal", self.request_principal.is_some()),
            ("--source-ip", self.source_ip.is_some()),
            ("--destination-ip", self.destination_ip.is_some()),
            ("--sni", self.sni.is_some()),
            ("--alpn", self.alpn.is_some()),
            ("--tcp", self.tcp),
            ("--listener", self.listener.is_some()),
        ]
        .into_iter()
        .find(|(_, set)| *set)
        .map(|(flag, _)| flag)
    }

    fn parsed_headers(&self) -> Result<Vec<(String, String)>, UsageError> {
        self.headers
            .iter()
            .map(|h| {
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| UsageError::Header(h.clone(), "expected `name: value`"))?;
                if k.trim().is_empty() {
                    return Err(UsageError::Header(h.clone(), "the name is empty"));
                }
                Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
            })
            .collect()
    }

    /// The outbound request `trace HOST:PORT` follows; the options of an inbound request
    /// (identities, tokens, the listener) are refused.
    pub fn to_probe(&self, target: Target, app: AppProtocol) -> Result<Probe, UsageError> {
        let inbound_only = [
            ("--principal", self.principal.is_some()),
            ("--plaintext", self.plaintext),
            ("--jwt", self.jwt.is_some()),
            ("--request-principal", self.request_principal.is_some()),
            ("--listener", self.listener.is_some()),
            ("--destination-ip", self.destination_ip.is_some()),
        ];
        if let Some((flag, _)) = inbound_only.iter().find(|(_, set)| *set) {
            return Err(UsageError::InboundOption(flag));
        }
        let mut p = Probe::new(target, app);
        p.sni = self.sni.clone();
        p.alpn = self.alpn.clone();
        p.method = self.method.clone();
        p.path = self.path.clone();
        p.host = self.host.clone();
        p.headers = self.parsed_headers()?;
        p.tcp = self.tcp;
        p.source_ip = self.source_ip;
        Ok(p)
    }

    /// The inbound request `authz` evaluates on `port`.
    pub fn to_request(&self, port: u16) -> Result<Request, UsageError> {
        let headers = self.parsed_headers()?;
        if let Some(rp) = self
            .request_principal
            .as_ref()
            .filter(|rp| !rp.contains('/'))
        {
            return Err(UsageError::RequestPrincipal(rp.clone()));
        }
        Ok(Request {
            port: port.into(),
            listener: self.listener.clone(),
            principal: self.principal.clone(),
            plaintext: self.plaintext,
            tcp: self.tcp,
            method: self.method.clone(),
            path: self.path.clone(),
            host: self.host.clone(),
            headers,
            jwt: self.jwt.clone(),
            request_principal: self.request_principal.clone(),
            source_ip: self.source_ip,
            destination_ip: self.destination_ip,
            sni: self.sni.clone(),
            alpn: self.alpn.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_value_with_the_name_folded() {
        let spec = RequestSpec {
            principal: Some("spiffe://td/ns/a/sa/b".into()),
            headers: vec!["X-Env:  prod ".into()],
            ..Default::default()
        };
        let r = spec.to_request(8080).unwrap();
        assert_eq!(r.headers, vec![("x-env".to_string(), "prod".to_string())]);
        assert_eq!(r.port, 8080);
        let bad = RequestSpec {
            headers: vec![": v".into()],
            ..Default::default()
        };
        assert!(matches!(
            bad.to_request(1),
            Err(UsageError::Header(_, "the name is empty"))
        ));
        let none = RequestSpec {
            headers: vec!["novalue".into()],
            ..Default::default()
        };
        assert!(matches!(none.to_request(1), Err(UsageError::Header(..))));
    }

    #[test]
    fn inbound_options_are_refused_outbound() {
        let spec = RequestSpec {
            jwt: Some("x.y.z".into()),
            ..Default::default()
        };
        let t: Target = "reviews:9080".parse().unwrap();
        let e = spec.to_probe(t, AppProtocol::Auto).unwrap_err();
        assert!(matches!(e, UsageError::InboundOption("--jwt")));
    }

    #[test]
    fn a_request_principal_is_issuer_slash_subject() {
        let spec = RequestSpec {
            plaintext: true,
            request_principal: Some("no-slash".into()),
            ..Default::default()
        };
        assert!(matches!(
            spec.to_request(80),
            Err(UsageError::RequestPrincipal(_))
        ));
    }
}
