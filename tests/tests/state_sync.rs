//! Snapshot state sync, end to end: on four validators whose set grew to five, a
//! new node restores node0's newest snapshot (its anchor checked from genesis
//! through the set change, its state against the anchor's root), follows the
//! chain from there, answers for the state it restored, says it holds no
//! history below its snapshot, issues a certificate that verifies offline
//! through the set change it never replayed, and serves snapshots of its own;
//! a restarted node serves snapshots again.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;
use tamga_tests::cluster::{add_fifth_validator, Cluster};
use tamga_tests::{tamga_bin, Node};
use tamga_verify::StateAnchor;

const WAIT: Duration = Duration::from_secs(90);
/// Heights between snapshots on every node of the test.
const INTERVAL: u64 = 8;

/// The newest snapshot `node` serves once it is above `height`.
fn snapshot_above(node: &Node, height: u64) -> tamga_client::SnapshotInfo {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(info) = node.client().snapshot_info() {
            if info.height > height {
                return info;
            }
        }
        assert!(Instant::now() < deadline, "no snapshot above {height}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn genesis(node: &Node) -> tamga_runtime::Genesis {
    let text = std::fs::read(node.home.join("genesis.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

#[test]
fn a_node_joins_from_a_verified_snapshot_and_follows_the_chain() {
    let mut cluster = Cluster::create(4, 2, 200);
    cluster.configure(|config| {
        let mut section = toml::Table::new();
        section.insert("snapshot_interval_heights".into(), (INTERVAL as i64).into());
        config.insert("state_sync".into(), section.into());
    });
    for i in 0..5 {
        cluster.start(i);
    }
    cluster.wait_height(2, WAIT).unwrap();
    let old = cluster
        .node(0)
        .register("digital", "alice", "before the snapshot");
    let effective = add_fifth_validator(&cluster);
    cluster.wait_height(effective + 1, WAIT).unwrap();
    let snapshot = snapshot_above(cluster.node(0), effective);
    let anchor: StateAnchor = encoding::decode_serde(&snapshot.anchor.0).unwrap();
    assert_eq!(
        anchor.set_changes.len(),
        1,
        "the anchor carries the set change"
    );

    let url = cluster.node(0).rpc_url.clone();
    cluster.configure_node(5, |config| {
        let section = config["state_sync"].as_table_mut().unwrap();
        section.insert("rpc".into(), url.clone().into());
    });
    cluster.start(5);
    let joined = cluster.node(5);
    let from = joined.start_height;
    assert!(
        from >= snapshot.height,
        "started at {from}, below the snapshot"
    );
    joined.wait_height(cluster.node(0).height(), WAIT).unwrap();

    // The state it restored, as the replaying nodes hold it.
    let id = Hash32::from_hex(&old).unwrap();
    let record = joined.client().record_get(id).unwrap();
    assert_eq!(record, cluster.node(0).client().record_get(id).unwrap());
    // No history below the snapshot, said plainly.
    assert_eq!(joined.client().node_status().unwrap().history_from, from);
    assert_eq!(
        cluster.node(0).client().node_status().unwrap().history_from,
        0
    );
    let refused = joined.client().block_get(Some(1)).unwrap_err();
    assert_eq!(
        refused.reason(),
        Some("not_found.before_history"),
        "{refused}"
    );
    let refused = joined.client().record_history(id, None, None).unwrap_err();
    assert_eq!(
        refused.reason(),
        Some("not_found.before_history"),
        "{refused}"
    );

    // A record registered after it joined: its certificate, from the joined
    // node, verifies offline through the set change it never replayed.
    let new = cluster
        .node(0)
        .register("digital", "bob", "after the snapshot");
    joined.wait_height(cluster.node(0).height(), WAIT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.tamga");
    joined
        .cli(&[
            "query",
            "record",
            &new,
            "--certificate",
            cert.to_str().unwrap(),
        ])
        .ok();
    let verified = Command::new(tamga_bin())
        .arg("verify")
        .arg(&cert)
        .arg("--genesis")
        .arg(joined.home.join("genesis.json"))
        .env("TAMGA_HOME", "/nonexistent/tamga-home")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{report}");
    assert!(report.contains("through 1 change(s)"), "{report}");

    // And it serves snapshots of its own, whose anchors verify from genesis.
    let own = snapshot_above(joined, from);
    let own_anchor: StateAnchor = encoding::decode_serde(&own.anchor.0).unwrap();
    tamga_verify::verify_anchor(&own_anchor, &genesis(joined)).unwrap();

    // A restarted node (its old snapshots removed at start) serves one again.
    // (That it takes it at its first commit rather than an interval later is
    // `snapshots::tests`'s to show: at 8 heights the two are too close here.)
    cluster.kill9(0);
    cluster.start(0);
    let restarted = cluster.node(0);
    snapshot_above(restarted, restarted.start_height);
}
