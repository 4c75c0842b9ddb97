//! The README walkthrough, step by step: once with the `tamga` CLI, once with plain
//! JSON-RPC (signed hex from `tamga tx … --sign-only`, then `tx_submit`).

use serde_json::json;
use tamga_client::TxInfo;
use tamga_runtime::records::Event;
use tamga_tests::{id, reason, Node};

#[test]
fn readme_walkthrough_with_the_cli() {
    let node = Node::dev(200);
    let status = node.cli(&["query", "status"]).ok();
    assert_eq!(status["chain_id"], "tamga-dev");

    // 1. The registrar registers a flat for alice.
    let registered = node
        .cli(&[
            "tx",
            "record",
            "register",
            "--from",
            "registrar",
            "--category",
            "tangible",
            "--description",
            "Flat 12, 5 Abai Ave, Almaty",
            "--owner",
            "alice",
        ])
        .ok();
    let rec = registered["record"].as_str().expect("record id").to_owned();
    assert_eq!(
        node.cli(&["query", "record", &rec]).ok()["owner"],
        json!(node.subject("alice"))
    );

    // 2. alice transfers it to bob.
    node.cli(&[
        "tx", "record", "transfer", &rec, "--to", "bob", "--from", "alice",
    ])
    .ok();
    // 3. bob pledges it to the bank.
    node.cli(&[
        "tx", "record", "encumber", &rec, "--kind", "pledge", "--holder", "bank", "--from", "bob",
    ])
    .ok();
    // 4. bob tries to sell it without the bank's consent: refused, rule named.
    let refused = node.cli(&[
        "tx", "record", "transfer", &rec, "--to", "alice", "--from", "bob",
    ]);
    assert_eq!(refused.refused(), "record.encumbrance_consent_missing");
    assert_eq!(
        node.cli(&["query", "record", &rec]).ok()["owner"],
        json!(node.subject("bob"))
    );
    // 5. The bank releases the pledge; 6. bob transfers to alice.
    node.cli(&[
        "tx",
        "record",
        "release",
        &rec,
        "--encumbrance",
        "1",
        "--from",
        "bank",
    ])
    .ok();
    node.cli(&[
        "tx", "record", "transfer", &rec, "--to", "alice", "--from", "bob",
    ])
    .ok();

    // 7. Full provenance history.
    let history = node.cli(&["query", "history", &rec]).ok();
    let kinds: Vec<String> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "registered",
            "transferred",
            "encumbered",
            "released",
            "transferred"
        ]
    );
    let owned = node.cli(&["query", "owner", "alice"]).ok();
    assert_eq!(owned["records"][0]["id"], json!(rec));
    assert!(node.cli(&["query", "owner", "bob"]).ok()["records"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Signs with the CLI, submits the signed bytes and reads over JSON-RPC.
fn rpc_step(node: &Node, args: &[&str]) -> Result<TxInfo, tamga_client::Error> {
    let mut full = vec!["tx", "record"];
    full.extend_from_slice(args);
    full.push("--sign-only");
    let signed = node.cli(&full).ok();
    let bytes = hex::decode(signed["tx"].as_str().unwrap()).unwrap();
    node.client().tx_submit_encoded(&bytes)?;
    Ok(node.wait_tx(id(signed["hash"].as_str().unwrap())))
}

#[test]
fn readme_walkthrough_with_json_rpc() {
    let node = Node::dev(200);
    let done = rpc_step(
        &node,
        &[
            "register",
            "--from",
            "registrar",
            "--category",
            "tangible",
            "--description",
            "Warehouse 3, Kostanay",
            "--owner",
            "alice",
        ],
    )
    .unwrap();
    let [Event::Registered { record, .. }, ..] = done.events() else {
        panic!("not registered: {done:?}")
    };
    let rec = record.to_hex();
    rpc_step(&node, &["transfer", &rec, "--to", "bob", "--from", "alice"]).unwrap();
    rpc_step(
        &node,
        &[
            "encumber", &rec, "--kind", "pledge", "--holder", "bank", "--from", "bob",
        ],
    )
    .unwrap();
    let refused =
        rpc_step(&node, &["transfer", &rec, "--to", "alice", "--from", "bob"]).unwrap_err();
    assert_eq!(refused.code(), Some(-32001));
    assert_eq!(reason(&refused), "record.encumbrance_consent_missing");
    assert!(refused.rpc().unwrap().message.contains("Art. 21 p.5"));
    rpc_step(
        &node,
        &["release", &rec, "--encumbrance", "1", "--from", "bank"],
    )
    .unwrap();
    let last = rpc_step(&node, &["transfer", &rec, "--to", "alice", "--from", "bob"]).unwrap();

    let record = node.client().record_get(id(&rec)).unwrap();
    assert_eq!(record.owner, node.subject("alice"));
    assert!(record.encumbrances.is_empty());
    let history = node.client().record_history(id(&rec), None, None).unwrap();
    assert_eq!(history.entries.len(), 5);
    // The block that carried the last transfer, with its commit certificate.
    let block = node.client().block_get(last.height).unwrap();
    assert_eq!(block.txs[0].id, last.hash);
    let commit = block.commit.unwrap();
    assert_eq!(commit.block_hash, block.hash);
    assert_eq!(commit.signatures.len(), 1);
}
