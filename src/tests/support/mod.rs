//! What the tests share and are not tests themselves: a real Envoy started and stopped by its
//! PID (`envoy`), certificates made with rcgen (`pki`), signed tokens (`jwt`), and the
//! configurations and trigger tables the tests build from real fixtures (`*_config`,
//! `rules_cases`).

pub mod authz_config;
pub mod browser;
pub mod envoy;
pub mod explain_cases;
pub mod explain_config;
pub mod jwt;
pub mod pki;
pub mod ports;
pub mod rules_cases;
pub mod sidecar_config;
pub mod trace_config;
