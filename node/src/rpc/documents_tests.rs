//! The certificate and document methods over a real node's storage: records and
//! anchorings committed through the mempool, each method called as the server
//! would call it, and every certificate it hands out checked by the offline
//! verifier against the dev genesis.

use super::*;
use crate::app::tests::{dev_subject, open_app, produce_one, run};
use crate::cli::dev_genesis;
use crate::keyring::dev_key;
use tamga_runtime::records::Event;
use tamga_runtime::types::{ObjectCategory, Payload};
use tamga_verify::report::{Finding, Verified};

type Method = fn(&App, Params) -> RpcResult;

fn call(app: &App, method: Method, params: Value) -> RpcResult {
    let text = params.to_string();
    method(app, Params::new(Some(&text)))
}

fn block(app: &App) {
    produce_one(app, &dev_key("validator")).unwrap();
}

/// A record alice owns, registered in a block of its own: the chain is then
/// at height 1.
fn registered(app: &App) -> Hash32 {
    let payload = Payload::Register {
        category: ObjectCategory::Tangible,
        description: "plot 7, Almaty".into(),
        owner: dev_subject("alice"),
        national: false,
        quantity: None,
    };
    match run(app, "registrar", &[], payload)[..] {
        [Event::Registered { record, .. }, ..] => record,
        ref other => panic!("{other:?}"),
    }
}

/// The certificate in a result: its hex decoded and checked offline.
fn verified(result: &Value) -> Verified {
    assert_eq!(result["format_version"], json!(FORMAT_VERSION));
    let text = result["certificate"].as_str().expect("certificate hex");
    let bytes = hex::decode(text).unwrap();
    let verified = tamga_verify::verify_bytes(&bytes, &dev_genesis().unwrap()).unwrap();
    assert_eq!(result["height"], json!(verified.height));
    verified
}

fn reason(error: &ErrorObjectOwned) -> String {
    let data: Value = serde_json::from_str(error.data().expect("data").get()).unwrap();
    data["reason"].as_str().unwrap_or_default().to_owned()
}

fn anchor(app: &App, signer: &str, cosigners: &[&str], document: Hash32) {
    run(app, signer, cosigners, Payload::AnchorDocument { document });
}

#[test]
fn a_record_certificate_verifies_offline_at_the_tip_and_at_a_height() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let id = registered(&app);
    block(&app);

    let at_tip = verified(&call(&app, record_certificate, json!([id])).unwrap());
    assert_eq!(at_tip.height, 2);
    let Finding::Record(found) = at_tip.finding else {
        panic!("not a record finding")
    };
    assert_eq!(found.id, id);
    assert_eq!(
        found.record.expect("the record").owner,
        dev_subject("alice")
    );

    let at_one = verified(&call(&app, record_certificate, json!([id, 1])).unwrap());
    assert_eq!(at_one.height, 1);
}

#[test]
fn a_record_that_does_not_exist_gets_a_certificate_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    registered(&app);
    let absent = Hash32([7; 32]);
    let result = call(&app, record_certificate, json!([absent])).unwrap();
    let Finding::Record(found) = verified(&result).finding else {
        panic!("not a record finding")
    };
    assert_eq!(found.id, absent);
    assert!(found.record.is_none());
}

#[test]
fn bad_certificate_params_are_invalid_params_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    // Only the genesis: nothing is certifiable yet.
    let genesis = call(&app, record_certificate, json!([Hash32([1; 32])])).unwrap_err();
    assert_eq!(genesis.code(), INVALID_PARAMS);
    assert!(
        genesis.message().contains("genesis"),
        "{}",
        genesis.message()
    );

    let id = registered(&app);
    let later = call(&app, record_certificate, json!([id, 5])).unwrap_err();
    assert_eq!(later.code(), INVALID_PARAMS);
    assert!(
        later.message().contains("at height 1"),
        "{}",
        later.message()
    );
    let zero = call(&app, doc_certificate, json!([id, 0])).unwrap_err();
    assert_eq!(
        (zero.code(), reason(&zero)),
        (INVALID_PARAMS, "params.invalid".into())
    );

    for bad in [
        json!(["not hex"]),
        json!([]),
        json!([id, "one"]),
        json!([42]),
    ] {
        for method in [record_certificate as Method, doc_certificate, doc_get] {
            let error = call(&app, method, bad.clone()).unwrap_err();
            assert_eq!(error.code(), INVALID_PARAMS, "{bad}: {}", error.message());
        }
    }
    let short = call(&app, doc_get, json!(["abcd"])).unwrap_err();
    assert!(
        short.message().starts_with("document hash"),
        "{}",
        short.message()
    );
}

#[test]
fn doc_get_lists_the_anchored_signatures_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let document = Hash32(*blake3::hash(b"lease agreement, 5 Abai Ave.").as_bytes());
    let before = call(&app, doc_get, json!([document])).unwrap();
    assert_eq!(before["hash"], json!(document));
    assert_eq!(before["signatures"], json!([]));

    anchor(&app, "alice", &["bob"], document);
    block(&app);
    anchor(&app, "bank", &[], document);
    let after = call(&app, doc_get, json!([document])).unwrap();
    assert_eq!(after["height"], 3);
    let signatures = after["signatures"].as_array().unwrap();
    let subjects: Vec<&Value> = signatures.iter().map(|s| &s["subject"]).collect();
    let expected = ["alice", "bob", "bank"].map(|n| json!(dev_subject(n)));
    assert_eq!(subjects, expected.iter().collect::<Vec<_>>());
    assert_eq!(signatures[0]["height"], 1);
    assert_eq!(signatures[2]["height"], 3);
    assert_eq!(signatures[0]["tx"], signatures[1]["tx"]);
    let key = tamga_runtime::PublicKey::of(&dev_key("alice"));
    assert_eq!(signatures[0]["key"], json!(key));
    for field in ["certificate", "time_ms"] {
        assert!(!signatures[0][field].is_null(), "{field}");
    }
}

#[test]
fn a_document_certificate_proves_its_signatures_or_their_absence() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let document = Hash32(*blake3::hash(b"minutes of the general meeting").as_bytes());
    block(&app);
    let none = verified(&call(&app, doc_certificate, json!([document])).unwrap());
    let Finding::Document(found) = none.finding else {
        panic!("not a document finding")
    };
    assert!(found.signatures.is_empty());

    anchor(&app, "alice", &["bob"], document);
    let signed = verified(&call(&app, doc_certificate, json!([document])).unwrap());
    let Finding::Document(found) = signed.finding else {
        panic!("not a document finding")
    };
    assert_eq!(found.hash, document);
    let subjects: Vec<_> = found.signatures.iter().map(|s| s.subject).collect();
    assert_eq!(subjects, [dev_subject("alice"), dev_subject("bob")]);
    assert_eq!(found.certificates.len(), 2);

    let earlier = verified(&call(&app, doc_certificate, json!([document, 1])).unwrap());
    let Finding::Document(found) = earlier.finding else {
        panic!("not a document finding")
    };
    assert!(
        found.signatures.is_empty(),
        "nothing was anchored at height 1"
    );
}
