//! kill -9 under a stream of transactions, then restart: the node comes back at the
//! last committed height with the same blocks and state, and every transaction it
//! had reported committed is still there.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tamga_runtime::PublicKey;
use tamga_tests::{registration, Node};

#[test]
fn kill_9_under_load_then_restart_loses_nothing_committed() {
    let mut node = Node::dev(50);
    let registrar = node.key("registrar");
    let owner = node.subject("alice");
    let mut nonce = node.next_nonce(&PublicKey::of(&registrar));
    let mut submitted = Vec::new();
    let mut committed: BTreeMap<String, (u64, Value)> = BTreeMap::new();
    let started = Instant::now();
    // Stream registrations for a while, recording what the node reports committed.
    while started.elapsed() < Duration::from_secs(3) {
        let tx = registration(
            &registrar,
            owner,
            nonce,
            format!("crate of apples #{nonce}"),
        );
        node.submit(&tx).expect("admitted");
        nonce += 1;
        submitted.push(tx.id().to_hex());
        for hash in submitted.iter().rev().take(20) {
            let result = node.rpc("tx_get", json!([hash])).unwrap();
            if result["status"] == "committed" && !committed.contains_key(hash) {
                let height = result["height"].as_u64().unwrap();
                committed.insert(hash.clone(), (height, result));
            }
        }
    }
    let top = committed
        .values()
        .map(|(h, _)| *h)
        .max()
        .expect("some transactions committed");
    let block_before = node.rpc("block_get", json!([top])).unwrap();
    node.kill9();

    let mut restarted = Node::start(&node.home, 50).expect("restart");
    assert!(
        restarted.start_height >= top,
        "restarted at {} below committed {top}",
        restarted.start_height
    );
    for (hash, (height, before)) in &committed {
        let after = restarted.rpc("tx_get", json!([hash])).unwrap();
        assert_eq!(after["status"], "committed", "{hash} lost");
        assert_eq!(after["height"].as_u64(), Some(*height));
        assert_eq!(&after, before);
        let record = after["events"][0]["registered"]["record"].clone();
        assert_eq!(
            restarted.rpc("record_get", json!([record])).unwrap()["owner"],
            json!(owner)
        );
    }
    let block_after = restarted.rpc("block_get", json!([top])).unwrap();
    assert_eq!(
        block_after, block_before,
        "block {top} changed across the crash"
    );
    // The chain goes on from where it was, and a clean stop exits 0.
    restarted
        .wait_height(restarted.start_height + 3, Duration::from_secs(20))
        .unwrap();
    let next = restarted
        .rpc("block_get", json!([restarted.start_height + 1]))
        .unwrap();
    let at_start = restarted
        .rpc("block_get", json!([restarted.start_height]))
        .unwrap();
    assert_eq!(next["header"]["prev_hash"], at_start["hash"]);
    assert!(restarted.stop(), "SIGTERM exits cleanly");
    assert!(!restarted.is_running());
}
