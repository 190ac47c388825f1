//! Authorization, decided from the proxy's own state as Envoy decides it: the view of every
//! chain's layers (RBAC, jwt_authn, ext_authz) and the evaluation of one request against them.
//! Works on the model only; nothing here is one mesh's except the names `istio` reads. `chain`
//! and `route` (which chain, virtual host and route Envoy gives a connection) are shared with
//! `trace`.

pub mod ambient;
pub(crate) mod chain;
mod chain_matcher;
pub(crate) mod context;
mod eval;
mod inbound;
pub(crate) mod istio;
pub(crate) mod jwt;
mod jwt_eval;
mod layers;
mod matchers;
pub(crate) mod reach;
mod request;
pub(crate) mod route;
mod state;
mod view;

pub use eval::evaluate;
pub use request::{Client, Request};
pub use view::{summaries, view};
