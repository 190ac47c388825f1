//! "Cannot tell" is typed: each unknown decision says what it turns on (a fact not given,
//! configuration not evaluated, the external server) and where it arose, so a caller can act
//! on the kind (give `--source-ip`) without reading the sentence; the sentence is what the
//! JSON `reason` carries.

use envinspect::authz::{evaluate, Request};
use envinspect::model::cannot_tell::{CannotTell, Construct, Fact, Place, Reason};
use envinspect::model::decision::Decision;
use serde_json::{json, Value};

use super::authz::{listener_with, tmp};
use super::NOW;

fn report(name: &str, dump: &Value) -> envinspect::model::Report {
    let opts = envinspect::Options::at(
        time::OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339).unwrap(),
    );
    envinspect::Inspection::read(std::path::Path::new(&tmp(name, dump)), &opts)
        .expect("the dump reads")
        .into_report()
}

fn plain(port: u32) -> Request {
    Request {
        port,
        client: Some(envinspect::authz::Client::Plaintext),
        path: Some("/".into()),
        ..Default::default()
    }
}

fn rbac(principal: Value, condition: Option<Value>) -> Value {
    let mut policy = json!({ "permissions": [{ "any": true }], "principals": [principal] });
    if let Some(c) = condition {
        policy["condition"] = c;
    }
    json!({ "name": "envoy.filters.http.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": { "action": "ALLOW", "policies": { "ns[x]-policy[p]-rule[0]": policy } } } })
}

fn reason(r: &envinspect::model::Report, req: &Request) -> (Decision, Option<Reason>) {
    let e = evaluate(r, req, r.now);
    if let Some(why) = &e.reason {
        // What the JSON carries is the sentence.
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["reason"], json!(why.to_string()));
    }
    (e.decision, e.reason)
}

#[test]
fn an_unknown_names_the_fact_it_needs_and_where() {
    // Two chains that differ by the client's source range.
    let mut dump = listener_with(&rbac(json!({ "any": true }), None));
    let l = &mut dump["configs"][0]["static_listeners"][0]["listener"];
    let mut near = l["filter_chains"][0].clone();
    near["filter_chain_match"] =
        json!({ "source_prefix_ranges": [{ "address_prefix": "10.0.0.0", "prefix_len": 8 }] });
    l["filter_chains"].as_array_mut().unwrap().push(near);
    let r = report("reasons-chains", &dump);
    let (d, why) = reason(&r, &plain(8080));
    assert_eq!(d, Decision::Unknown);
    let Some(Reason::CannotTell(u)) = why else {
        panic!("{why:?}")
    };
    assert_eq!(
        u,
        CannotTell::NotGiven(Fact::SourceIp).at(Place::FilterChain)
    );
    // Given the fact, it is decided.
    let given = Request {
        source_ip: Some("10.1.2.3".parse().unwrap()),
        ..plain(8080)
    };
    assert_eq!(reason(&r, &given).0, Decision::Allow);
}

#[test]
fn an_rbac_unknown_names_the_filter_and_the_policy() {
    let ip = json!({ "remote_ip": { "address_prefix": "10.0.0.0", "prefix_len": 8 } });
    let r = report("reasons-rbac-ip", &listener_with(&rbac(ip, None)));
    let (d, why) = reason(&r, &plain(8080));
    assert_eq!(d, Decision::Unknown);
    let Some(Reason::CannotTell(u)) = why else {
        panic!("{why:?}")
    };
    assert_eq!(u.root(), &CannotTell::NotGiven(Fact::SourceIp));
    assert_eq!(
        u,
        CannotTell::NotGiven(Fact::SourceIp)
            .at(Place::Policy("ns[x]-policy[p]-rule[0]".into()))
            .at(Place::Filter("envoy.filters.http.rbac".into()))
    );

    let cel = json!({ "call_expr": { "function": "_==_", "args": [] } });
    let r = report(
        "reasons-rbac-cel",
        &listener_with(&rbac(json!({ "any": true }), Some(cel))),
    );
    let (_, why) = reason(&r, &plain(8080));
    let Some(Reason::CannotTell(u)) = why else {
        panic!("{why:?}")
    };
    assert!(
        matches!(
            u.root(),
            CannotTell::Unevaluated(Construct::CelCondition { policy }) if policy == "ns[x]-policy[p]-rule[0]"
        ),
        "{u:?}"
    );
}

#[test]
fn a_missing_listener_is_a_typed_refusal() {
    let r = report(
        "reasons-no-listener",
        &listener_with(&rbac(json!({ "any": true }), None)),
    );
    let (d, why) = reason(&r, &plain(9999));
    assert_eq!(d, Decision::Rejected);
    assert!(matches!(why, Some(Reason::NoListener(_))), "{why:?}");
}
