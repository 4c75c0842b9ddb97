//! One faulty validator of four, run from the test build (`tamga-test`): it spams
//! signed proposals, equivocates, falls silent, or forgets its locks (Malachite's
//! Byzantine proxy and amnesia tracker). The three honest validators keep
//! committing, never disagree, and keep the equivocation as evidence.

use std::time::Duration;
use tamga_runtime::types::{Equivocation, Evidence};
use tamga_runtime::PublicKey;
use tamga_tests::chain::assert_chains_identical;
use tamga_tests::cluster::{
    digital, round_zero_proposer, submit, wait_committed, Cluster, SIGNERS,
};
use tamga_tests::Node;

const WAIT: Duration = Duration::from_secs(120);

/// Starts four validators, node0 with `faults`, and waits for `heights` more
/// heights on the honest three while they take transactions.
fn run_with_faulty_node0(faults: &str, heights: u64) -> Cluster {
    start_with_faulty_node0(Cluster::create(4, 0, 200), faults, heights)
}

fn start_with_faulty_node0(mut cluster: Cluster, faults: &str, heights: u64) -> Cluster {
    cluster.faults[0] = Some(faults.to_owned());
    for i in 0..4 {
        cluster.start(i);
    }
    let honest = [1usize, 2, 3];
    for (k, &i) in honest.iter().enumerate() {
        let node = cluster.node(i);
        let tx = digital(node, SIGNERS[i], 0, format!("object {k}"));
        let hash = submit(node, &tx);
        wait_committed(node, hash, WAIT).expect("honest validators commit");
    }
    let start = honest
        .iter()
        .map(|&i| cluster.node(i).height())
        .max()
        .unwrap();
    for &i in &honest {
        cluster
            .node(i)
            .wait_height(start + heights, WAIT)
            .unwrap_or_else(|e| panic!("node{i} stalled with a faulty node0 ({faults}): {e}"));
    }
    cluster
}

fn honest(cluster: &Cluster) -> Vec<&Node> {
    (1..4).map(|i| cluster.node(i)).collect()
}

fn executed(node: &Node) -> u64 {
    let status = node.client().node_status().unwrap();
    status.consensus.parts_executed
}

/// A validator that signs 64 distinct valid blocks for round 0 of every height:
/// where it is not the round's proposer its parts are dropped before their
/// transactions are decoded; where it is, at most 2 distinct parts of the round
/// are ever executed. So node1 executes no block at its own heights (its own is
/// not received), one at another honest validator's, and at most three at the
/// spammer's (two spam parts fill the round, the next round's proposal
/// follows). Without the proposer check it executes two spam blocks at every
/// height; without the per-round cap, 64 at the spammer's. Heights an honest
/// validator proposes decide in their first round.
#[test]
fn a_validator_spamming_signed_proposals_does_not_stop_the_others() {
    let cluster = run_with_faulty_node0("spam_proposals = 64", 4);
    let node1 = cluster.node(1);
    let (from, executed_before) = (node1.height(), executed(node1));
    node1.wait_height(from + 24, WAIT).unwrap();
    let (to, executed_after) = (node1.height(), executed(node1));
    let keys: Vec<PublicKey> = (0..4)
        .map(|i| PublicKey::of(&cluster.node(i).validator_key()))
        .collect();
    let expected: u64 = (from + 1..=to)
        .map(|h| match round_zero_proposer(&keys, h) {
            k if k == keys[1] => 0,
            k if k == keys[0] => 3,
            _ => 1,
        })
        .sum();
    let executed = executed_after - executed_before;
    assert!(
        executed <= expected + 3,
        "node1 executed {executed} blocks over heights {from}..{to}, at most {expected} expected: spam got past the intake"
    );
    let nodes = honest(&cluster);
    let top = nodes.iter().map(|n| n.height()).min().unwrap();
    assert_chains_identical(&nodes, top);
    let status = node1.client().node_status().unwrap();
    assert!(
        status.consensus.parts_dropped >= 64,
        "the spam reached node1 and was dropped: {status:?}"
    );
    let honest_heights: Vec<u64> = (from..=to)
        .filter(|&h| round_zero_proposer(&keys, h) != keys[0])
        .collect();
    let later_rounds: Vec<u64> = honest_heights
        .iter()
        .copied()
        .filter(|h| {
            let block = node1.client().block_get(Some(*h)).unwrap();
            block.commit.map(|c| c.round) != Some(0)
        })
        .collect();
    assert!(
        later_rounds.len() * 10 <= honest_heights.len(),
        "{} of {} honestly proposed heights needed more than one round: {later_rounds:?}",
        later_rounds.len(),
        honest_heights.len()
    );
}

/// Evidence node1 holds, once it holds a double vote and a double proposal.
fn both_kinds_of_evidence(node: &Node) -> Vec<Evidence> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let listed = node
            .client()
            .evidence_list(Some(1), Some(u64::MAX), Some(1000))
            .unwrap();
        let evidence: Vec<Evidence> = listed.evidence.clone();
        let kinds = |proposal: bool| {
            evidence
                .iter()
                .any(|e| matches!(e.equivocation, Equivocation::DoubleProposal { .. }) == proposal)
        };
        if kinds(true) && kinds(false) {
            return evidence;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "evidence so far: {listed:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Malachite's proxy makes node0 sign a second, conflicting vote for every vote
/// and a second proposal for every proposal: the others stay safe and live, and
/// keep both signed messages of each as evidence that verifies offline.
#[test]
fn an_equivocating_validator_is_caught_and_the_others_stay_safe() {
    let faults = "[test_faults.byzantine]\nequivocate_votes = { mode = \"always\" }\nequivocate_proposals = { mode = \"always\" }\nseed = 7";
    let cluster = run_with_faulty_node0(faults, 10);
    let faulty = tamga_runtime::PublicKey::of(&cluster.node(0).validator_key());
    let node1 = cluster.node(1);
    let evidence = both_kinds_of_evidence(node1);
    let nodes = honest(&cluster);
    assert_chains_identical(&nodes, nodes.iter().map(|n| n.height()).min().unwrap());
    let chain = node1.client().node_status().unwrap().chain_id;
    for item in &evidence {
        assert_eq!(item.validator, faulty, "only node0 equivocated");
        assert!(item.verify(&chain), "evidence verifies offline: {item:?}");
    }
    let seen_at = evidence[0].seen_at;
    let block = node1.client().block_get(Some(seen_at)).unwrap();
    assert!(
        !block.evidence.is_empty(),
        "the block where it was seen shows it: {block:?}"
    );
}

/// A validator whose votes and proposals never leave it: three of four still
/// decide every height.
#[test]
fn a_silent_validator_does_not_stop_the_others() {
    let faults = "[test_faults.byzantine]\ndrop_votes = { mode = \"always\" }\ndrop_proposals = { mode = \"always\" }";
    let cluster = run_with_faulty_node0(faults, 10);
    let nodes = honest(&cluster);
    assert_chains_identical(&nodes, nodes.iter().map(|n| n.height()).min().unwrap());
}

/// A validator that ignores its locks: it never sees a signed proposal (its
/// inbound proposals are dropped) and times out in 100 ms, so it would prevote
/// nil, and amnesia turns each such nil into a prevote for the latest block it
/// heard of. With three honest validators nothing conflicting is ever decided.
#[test]
fn an_amnesic_validator_does_not_break_safety() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("node0.log");
    let faults = "[test_faults.byzantine]\nignore_locks = { mode = \"always\" }\ndrop_inbound_proposals = { mode = \"always\" }\nseed = 3";
    let mut cluster = Cluster::create(4, 0, 200);
    cluster.logs[0] = Some(log.clone());
    // node0 times out (and would prevote nil) long before the others decide.
    cluster.configure_node(0, |config| {
        config["consensus"]["propose_timeout_ms"] = toml::Value::Integer(100);
    });
    let cluster = start_with_faulty_node0(cluster, faults, 10);
    // Amnesia fires when node0 executed a part before its short timeout made it
    // prevote nil: a matter of timing on a loaded machine, so the chain runs on
    // until it has fired (or the wait ends), and only then is it checked.
    let deadline = std::time::Instant::now() + WAIT;
    let fired = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Overriding nil prevote") {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(fired, "amnesia never fired, so the test showed nothing");
    let mut nodes = honest(&cluster);
    nodes.push(cluster.node(0));
    assert_chains_identical(&nodes, nodes.iter().map(|n| n.height()).min().unwrap());
}
