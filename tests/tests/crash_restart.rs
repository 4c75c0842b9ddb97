//! kill -9 under a stream of transactions, then restart: the node comes back at the
//! last committed height with the same blocks and state, and every transaction it
//! had reported committed is still there; its caches are warmed with that state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tamga_client::{TxInfo, TxStatus, WarmUpState};
use tamga_runtime::records::Event;
use tamga_runtime::{Hash32, PublicKey};
use tamga_tests::{registration, Node};

#[test]
fn kill_9_under_load_then_restart_loses_nothing_committed() {
    let mut node = Node::dev(50);
    let registrar = node.key("registrar");
    let owner = node.subject("alice");
    let mut nonce = node.next_nonce(&PublicKey::of(&registrar));
    let mut submitted = Vec::new();
    let mut committed: BTreeMap<Hash32, (u64, TxInfo)> = BTreeMap::new();
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
        submitted.push(tx.id());
        for hash in submitted.iter().rev().take(20) {
            let result = node.client().tx_get(*hash).unwrap();
            if result.is_committed() && !committed.contains_key(hash) {
                let height = result.height.unwrap();
                committed.insert(*hash, (height, result));
            }
        }
    }
    let top = committed
        .values()
        .map(|(h, _)| *h)
        .max()
        .expect("some transactions committed");
    let block_before = node.client().block_get(Some(top)).unwrap();
    node.kill9();

    let mut restarted = Node::start(&node.home, 50).expect("restart");
    assert!(
        restarted.start_height >= top,
        "restarted at {} below committed {top}",
        restarted.start_height
    );
    for (hash, (height, before)) in &committed {
        let after = restarted.client().tx_get(*hash).unwrap();
        assert_eq!(after.status, TxStatus::Committed, "{hash} lost");
        assert_eq!(after.height, Some(*height));
        assert_eq!(&after, before);
        let [Event::Registered { record, .. }, ..] = after.events() else {
            panic!("{hash}: not one registration: {after:?}")
        };
        assert_eq!(restarted.client().record_get(*record).unwrap().owner, owner);
    }
    // The restarted node warmed its caches with the state it had: at least a
    // value per committed registration (new blocks alone touch a few keys).
    let warmed = Instant::now();
    let cached = loop {
        let usage = restarted.client().node_storage().unwrap();
        if usage.state_cache.entries >= committed.len() as u64
            || warmed.elapsed() > Duration::from_secs(20)
        {
            break usage.state_cache.entries;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        cached >= committed.len() as u64,
        "{cached} values cached after the restart, {} registrations committed",
        committed.len()
    );
    // And `node_storage` says so once the warm-up has ended.
    let asked = Instant::now();
    let warm_up = loop {
        let warm_up = restarted.client().node_storage().unwrap().warm_up;
        if warm_up.state != WarmUpState::Running || asked.elapsed() > Duration::from_secs(20) {
            break warm_up;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(warm_up.state, WarmUpState::Done, "{warm_up:?}");
    assert!(
        warm_up.complete
            && warm_up.state_values >= committed.len() as u64
            && warm_up.tree_nodes > 0,
        "{warm_up:?}"
    );
    let block_after = restarted.client().block_get(Some(top)).unwrap();
    assert_eq!(
        block_after, block_before,
        "block {top} changed across the crash"
    );
    // The chain goes on from where it was, and a clean stop exits 0.
    restarted
        .wait_height(restarted.start_height + 3, Duration::from_secs(20))
        .unwrap();
    let next = restarted
        .client()
        .block_get(Some(restarted.start_height + 1))
        .unwrap();
    let at_start = restarted
        .client()
        .block_get(Some(restarted.start_height))
        .unwrap();
    assert_eq!(next.header.prev_hash, at_start.hash);
    assert!(restarted.stop(), "SIGTERM exits cleanly");
    assert!(!restarted.is_running());
}
