//! Partitions and pauses on a proxied 4-validator cluster (every node-to-node
//! connection through a userspace proxy, so no privileges are needed): a 2|2
//! split makes no progress and no fork and heals; an isolated validator rejoins
//! and catches up; a validator paused with SIGSTOP for 15 s resumes; and every
//! link at 100 ms ± 50 ms with 2 % loss still commits. After each scenario every
//! node's whole chain is compared byte for byte, every commit certificate is
//! verified on its own, and every acknowledged transaction is on every node.

use std::time::{Duration, Instant};
use tamga_runtime::Hash32;
use tamga_tests::chain::{assert_chains_identical, assert_committed_everywhere};
use tamga_tests::cluster::{digital, submit, wait_committed, Cluster, SIGNERS};
use tamga_tests::Node;

const WAIT: Duration = Duration::from_secs(120);

/// Submits one transaction per signer through `via` and waits for each to
/// commit there; returns (hash, height) of each.
fn load(cluster: &Cluster, via: &[usize], round: u64) -> Vec<(Hash32, u64)> {
    let mut acknowledged = vec![];
    for &i in via {
        let node = cluster.node(i);
        let nonce = node.next_nonce(&node.public(SIGNERS[i]));
        let tx = digital(node, SIGNERS[i], nonce, format!("round {round} via {i}"));
        let hash = submit(node, &tx);
        let done = wait_committed(node, hash, WAIT).unwrap();
        acknowledged.push((hash, done.height.unwrap()));
    }
    acknowledged
}

fn check_all(cluster: &Cluster, acknowledged: &[(Hash32, u64)]) {
    let top = cluster.running().map(Node::height).max().unwrap();
    cluster.wait_height(top, WAIT).unwrap();
    let nodes: Vec<&Node> = cluster.running().collect();
    assert_chains_identical(&nodes, top);
    assert_committed_everywhere(&nodes, acknowledged);
}

#[test]
fn partitions_pauses_and_bad_links_never_fork_and_always_heal() {
    let mut cluster = Cluster::create_proxied(4, 0, 200);
    for i in 0..4 {
        cluster.start(i);
    }
    cluster.wait_height(2, WAIT).unwrap();
    let mut acknowledged = load(&cluster, &[0, 1, 2, 3], 0);

    // 2|2: neither side holds more than 2/3, so nothing commits; no fork.
    cluster.cut(&[0, 1], &[2, 3]);
    let stalled = cluster.assert_stalled(Duration::from_secs(5));
    cluster.heal_all();
    cluster
        .wait_height(stalled + 3, WAIT)
        .expect("progress after the heal");
    acknowledged.extend(load(&cluster, &[0, 3], 1));
    check_all(&cluster, &acknowledged);

    // node3 alone: the other three go on; back, it catches up.
    cluster.cut(&[3], &[0, 1, 2]);
    let before = cluster.node(0).height();
    for i in 0..3 {
        cluster
            .node(i)
            .wait_height(before + 5, WAIT)
            .expect("three of four go on");
    }
    acknowledged.extend(load(&cluster, &[0, 1], 2));
    cluster.heal_all();
    let top = cluster.node(0).height();
    cluster
        .node(3)
        .wait_height(top, WAIT)
        .expect("node3 catches up");
    check_all(&cluster, &acknowledged);

    // node2 frozen for 15 s (SIGSTOP), then resumed.
    cluster.pause(2);
    let paused_at = Instant::now();
    let before = cluster.node(0).height();
    cluster
        .node(0)
        .wait_height(before + 3, WAIT)
        .expect("three of four go on");
    std::thread::sleep(Duration::from_secs(15).saturating_sub(paused_at.elapsed()));
    cluster.resume(2);
    let top = cluster.node(0).height();
    cluster
        .node(2)
        .wait_height(top, WAIT)
        .expect("node2 catches up");
    acknowledged.extend(load(&cluster, &[2], 3));
    check_all(&cluster, &acknowledged);

    // Every link slow and lossy: 100 ms ± 50 ms, 2 % of chunks retransmitted.
    cluster.shape_all(100, 50, 20);
    let before = cluster.node(0).height();
    acknowledged.extend(load(&cluster, &[0, 1, 2, 3], 4));
    cluster
        .wait_height(before + 5, WAIT)
        .expect("progress over bad links");
    cluster.shape_all(0, 0, 0);
    check_all(&cluster, &acknowledged);
}
