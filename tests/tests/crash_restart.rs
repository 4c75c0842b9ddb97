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

/// A crash after consensus moved on from a decided block whose commit batch
/// was not written yet (the test build's `kill_before_apply` kills the node
/// there, 200 ms into the next height): the restarted node applies that very
/// block (the hash it logged as decided) from its proposal store before
/// anything else, keeps what was committed before, and goes on. Without
/// that, this lone validator, whose signing mark is already past that
/// height, could never decide it again.
#[test]
fn a_crash_before_a_decided_block_is_applied_loses_nothing() {
    let mut node = Node::dev(50);
    let registrar = node.key("registrar");
    let nonce = node.next_nonce(&PublicKey::of(&registrar));
    let tx = registration(&registrar, node.subject("alice"), nonce, "pears".into());
    let committed = node.wait_tx(node.submit(&tx).expect("admitted"));
    assert!(node.stop(), "SIGTERM exits cleanly");
    let config = node.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let faults = format!("{text}\n[test_faults]\nkill_before_apply = 3\n");
    std::fs::write(&config, faults).unwrap();
    let faulty_log = node.home.join("faulty.log");
    let mut faulty = Node::start_logged(&node.home, 50, true, Some(&faulty_log)).unwrap();
    let started = Instant::now();
    while faulty.is_running() {
        assert!(started.elapsed() < Duration::from_secs(30), "not killed");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(&config, text).unwrap();
    let decided = faulty.start_height + 3;
    let logged = decided_hash(&faulty_log, decided);
    let log = node.home.join("restart.log");
    let restarted = Node::start_logged(&node.home, 50, false, Some(&log)).expect("restart");
    assert_eq!(
        restarted.start_height, decided,
        "the third decision applied at start"
    );
    let restart_log = std::fs::read_to_string(&log).unwrap();
    assert!(restart_log.contains("applied a block decided before the last stop"));
    let client = restarted.client();
    assert_eq!(
        client.block_get(Some(decided)).unwrap().hash.to_string(),
        logged
    );
    restarted
        .wait_height(decided + 3, Duration::from_secs(20))
        .expect("the chain goes on");
    assert_eq!(client.tx_get(committed.hash).unwrap(), committed);
}

/// The block hash a node logged as decided at `height` (its log, ANSI colours
/// taken out).
fn decided_hash(log: &std::path::Path, height: u64) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => while chars.next().is_some_and(|c| c != 'm') {},
            c => plain.push(c),
        }
    }
    let wanted = format!("height={height} ");
    let line = plain
        .lines()
        .find(|l| l.contains("consensus::host: decided") && l.contains(&wanted))
        .unwrap_or_else(|| panic!("no decided line for height {height}"));
    let hash = line.split("hash=").nth(1).expect("a hash field");
    hash.split_whitespace().next().unwrap().to_string()
}
