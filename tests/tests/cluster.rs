//! Four validators as four `tamga` processes on loopback: they agree on every
//! block, carry each other's transactions (and a full node's, admitted before
//! any peer joined), survive one crash, stop (without diverging) at two, resume
//! on restart, and refuse a proposal whose state root is wrong.

use std::time::Duration;
use tamga_runtime::PublicKey;
use tamga_tests::cluster::{digital, submit, wait_committed, Cluster, SIGNERS};

const WAIT: Duration = Duration::from_secs(90);
/// One round's timeouts in a `tamga testnet` home (propose 3 s, prevote and
/// precommit 1 s each).
const ROUND_TIMEOUTS: Duration = Duration::from_secs(5);
#[test]
fn four_validators_commit_every_transaction_and_agree_at_every_height() {
    let cluster = Cluster::start_validators(4, 0, 200);
    cluster.wait_height(2, WAIT).unwrap();
    let mut hashes = vec![];
    for k in 0..40u64 {
        let index = (k % 4) as usize;
        let node = cluster.node(index);
        let tx = digital(node, SIGNERS[index], k / 4, format!("object {k}"));
        hashes.push((index, submit(node, &tx)));
    }
    let mut relayed = 0;
    for (index, hash) in &hashes {
        // Committed as seen from another node.
        let other = cluster.node((index + 1) % 4);
        let result = wait_committed(other, *hash, WAIT).unwrap();
        let block = other.client().block_get(result.height).unwrap();
        let submitted_to = PublicKey::of(&cluster.node(*index).validator_key());
        if block.header.proposer != submitted_to {
            relayed += 1;
        }
    }
    // Some were proposed by a node they were not sent to: gossip carried them.
    assert!(
        relayed > 0,
        "every transaction was proposed by its own node"
    );
    let (_, last) = hashes.last().unwrap();
    let results: Vec<_> = cluster
        .running()
        .map(|n| wait_committed(n, *last, WAIT).unwrap())
        .collect();
    assert!(
        results.windows(2).all(|w| w[0] == w[1]),
        "same result on every node"
    );
    let height = cluster.min_height();
    cluster.assert_agree_up_to(height);
}

/// A node keeps the transactions it admits before any peer has joined its
/// gossip (a node just started, or cut off) and publishes them once one joins:
/// gossipsub drops a message no peer can take, and a full node never proposes,
/// so what it admitted alone would otherwise commit nowhere.
#[test]
fn a_transaction_admitted_before_any_peer_joined_is_gossiped_once_one_does() {
    let mut cluster = Cluster::create(4, 1, 200);
    cluster.start(4);
    let full = cluster.node(4);
    let tx = digital(full, SIGNERS[0], 0, "admitted alone".to_owned());
    let hash = submit(full, &tx);
    for i in 0..4 {
        cluster.start(i);
    }
    wait_committed(cluster.node(0), hash, WAIT).unwrap();
    wait_committed(cluster.node(4), hash, WAIT).expect("the full node follows");
}

#[test]
fn one_crash_is_tolerated_two_halt_without_diverging_and_restarts_resume() {
    let mut cluster = Cluster::start_validators(4, 0, 200);
    cluster.wait_height(3, WAIT).unwrap();
    cluster.kill9(3);
    let before = cluster.min_height();
    cluster
        .wait_height(before + 4, WAIT)
        .expect("3 of 4 keep committing");
    cluster.kill9(2);
    // 2 of 4: both survivors prevote, and neither can precommit or commit.
    let after = cluster.assert_stalled(ROUND_TIMEOUTS);
    cluster.start(2);
    cluster.start(3);
    cluster
        .wait_height(after + 3, WAIT)
        .expect("commits resume once 3 of 4 are back");
    cluster.assert_agree_up_to(cluster.min_height());
}

#[test]
fn a_proposal_with_a_wrong_state_root_is_refused_and_the_round_moves_on() {
    let mut cluster = Cluster::create(4, 0, 200);
    cluster.faults[0] = Some("wrong_state_root = true".into());
    for i in 0..4 {
        cluster.start(i);
    }
    cluster.wait_height(10, WAIT).unwrap();
    let faulty = PublicKey::of(&cluster.node(0).validator_key());
    let mut later_rounds = 0;
    for h in 1..=10u64 {
        let block = cluster.node(1).client().block_get(Some(h)).unwrap();
        assert_ne!(
            block.header.proposer, faulty,
            "height {h}: a bad block was committed"
        );
        if block.commit.unwrap().round > 0 {
            later_rounds += 1;
        }
    }
    assert!(
        later_rounds > 0,
        "the faulty proposer's rounds must move on to round 1"
    );
    cluster.assert_agree_up_to(10);
}
