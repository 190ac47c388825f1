//! envinspect: reads what an Envoy proxy says about itself (a `/config_dump`, `/certs`,
//! `/clusters`, `/server_info`) and answers who it is, whom it trusts and how its traffic flows.
//!
//! Layers, each a module: [`source`] (bytes in) → [`decode`] (typed protos) → `extract`
//! (protos → [`model`]) → `render` (table, json, yaml). Protos stop at `extract`.

pub mod decode;
pub mod source;
pub mod cert;
pub mod extract;
pub mod model;
