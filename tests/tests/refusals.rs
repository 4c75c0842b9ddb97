//! Every refusal over JSON-RPC carries its reason and changes nothing: the record
//! and the signer's nonce are exactly as before.

use tamga_runtime::records::Event;
use tamga_runtime::types::{EncumbranceKind, ObjectCategory, Payload};
use tamga_runtime::Hash32;
use tamga_tests::{reason, Node};

fn register(node: &Node, owner: &str, national: bool) -> Hash32 {
    let payload = Payload::Register {
        category: ObjectCategory::Tangible,
        description: "Land plot 01-234-567".into(),
        owner: node.subject(owner),
        national,
        quantity: None,
    };
    let tx = node.sign("registrar", payload, &[]);
    let done = node.wait_tx(node.submit(&tx).unwrap());
    match done.events() {
        [Event::Registered { record, .. }, ..] => *record,
        other => panic!("not registered: {other:?}"),
    }
}

/// Submits, expects refusal with `expected` reason, and checks nothing changed.
fn assert_refused(
    node: &Node,
    tx: &tamga_runtime::types::SignedTx,
    record: &Hash32,
    expected: &str,
) {
    let before = node.client().record_get(*record).unwrap();
    let nonce_before = node.next_nonce(&tx.tx.signer);
    let error = node.submit(tx).unwrap_err();
    assert_eq!(error.code(), Some(-32001), "{error}");
    assert_eq!(reason(&error), expected, "{error}");
    assert!(!error.rpc().unwrap().message.is_empty());
    node.wait_height(node.height() + 2, std::time::Duration::from_secs(20))
        .unwrap();
    assert_eq!(
        node.client().record_get(*record).unwrap(),
        before,
        "state changed"
    );
    assert_eq!(
        node.next_nonce(&tx.tx.signer),
        nonce_before,
        "nonce changed"
    );
}

#[test]
fn refusals_name_the_rule_and_change_nothing() {
    let node = Node::dev(100);
    let rec = register(&node, "alice", false);
    let to_bob = Payload::Transfer {
        record: rec,
        to: node.subject("bob"),
        amount: None,
    };

    // Transfer by a non-owner.
    let tx = node.sign("bob", to_bob.clone(), &[]);
    assert_refused(&node, &tx, &rec, "record.not_owner");

    // Pledged: transfer without the pledgee's consent.
    let pledge = Payload::Encumber {
        record: rec,
        kind: EncumbranceKind::Pledge,
        holder: node.subject("bank"),
        document: None,
    };
    let tx = node.sign("alice", pledge, &[]);
    node.wait_tx(node.submit(&tx).unwrap());
    let tx = node.sign("alice", to_bob.clone(), &[]);
    assert_refused(&node, &tx, &rec, "record.encumbrance_consent_missing");

    // Pledging a national object (held by a state body, Art. 34 p.1).
    let national = register(&node, "ministry", true);
    let pledge = Payload::Encumber {
        record: national,
        kind: EncumbranceKind::Pledge,
        holder: node.subject("bank"),
        document: None,
    };
    let tx = node.sign("ministry", pledge, &[]);
    assert_refused(&node, &tx, &national, "record.national_object");

    // With consent the transfer goes through; replaying it is refused.
    let tx = node.sign("alice", to_bob, &["bank"]);
    node.wait_tx(node.submit(&tx).unwrap());
    assert_refused(&node, &tx, &rec, "tx.already_committed");
    // Same nonce, different transaction: a replayed nonce.
    let mut same_nonce = tx.tx.clone();
    same_nonce.payload = Payload::Terminate { record: national };
    assert_refused(
        &node,
        &same_nonce.sign(&node.key("alice")),
        &rec,
        "tx.nonce_replayed",
    );

    // Wrong chain id.
    let mut other_chain = node.sign("bob", Payload::Terminate { record: rec }, &[]).tx;
    other_chain.chain_id = "other-chain".into();
    assert_refused(
        &node,
        &other_chain.sign(&node.key("bob")),
        &rec,
        "tx.wrong_chain",
    );

    // Bad signature: bytes that are not bob's signature of this transaction.
    let mut forged = node.sign("bob", Payload::Terminate { record: rec }, &[]);
    forged.signature = tamga_runtime::Signature([7; 64]);
    assert_refused(&node, &forged, &rec, "tx.bad_signature");
}

/// One signer cannot fill the mempool: past its quota (here lowered to 5) its
/// next transaction is refused with `mempool.signer_quota`, while another
/// signer's goes in.
#[test]
fn one_signer_cannot_fill_the_mempool() {
    // A long block interval keeps everything pending while the test submits.
    let node = Node::dev_with(60_000, &["--mempool-signer-txs-max", "5"]);
    let submit_digital = |signer: &str, nonce: u64, k: u64| {
        let payload = Payload::Register {
            category: ObjectCategory::Digital,
            description: format!("object {k}"),
            owner: node.subject(signer),
            national: false,
            quantity: None,
        };
        let tx = tamga_runtime::types::Transaction {
            chain_id: "tamga-dev".into(),
            signer: node.public(signer),
            nonce,
            payload,
        }
        .sign(&node.key(signer));
        node.submit(&tx)
    };
    let first = node.next_nonce(&node.public("alice"));
    for k in 0..5 {
        submit_digital("alice", first + k, k).expect("within the quota");
    }
    let refused = submit_digital("alice", first + 5, 5).unwrap_err();
    assert_eq!(reason(&refused), "mempool.signer_quota", "{refused}");
    let bob = node.next_nonce(&node.public("bob"));
    submit_digital("bob", bob, 6).expect("another signer is not held back");
}
