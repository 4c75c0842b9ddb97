//! The snapshot-join row of issue 13's benchmark: a new node restores the grown
//! ledger's newest state snapshot from the benchmark's node (its anchor checked
//! from genesis, the state paged over JSON-RPC, the tree rebuilt and its root
//! checked), which is how long a registry of that size takes to add a node
//! without replaying its history.

use super::{dir_bytes, mib};
use crate::Node;
use std::time::{Duration, Instant};

/// How long the benchmark waits for the serving node's next snapshot (it takes
/// one every 1,000 heights by default), and for the joiner to be ready.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(600);

/// The newest snapshot `node` serves at or above `height`.
fn snapshot_from(node: &Node, height: u64) -> tamga_client::SnapshotInfo {
    let deadline = Instant::now() + SNAPSHOT_WAIT;
    loop {
        if let Ok(info) = node.client().snapshot_info() {
            if info.height >= height {
                return info;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot at or above {height}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A home for a node that joins `node`'s chain from its snapshots: the same
/// genesis, the same config but its own ports and no peers (it only restores
/// here), and a key of its own.
fn joiner_home(node: &Node, home: &std::path::Path) {
    std::fs::create_dir_all(home).expect("joiner home");
    std::fs::copy(node.home.join("genesis.json"), home.join("genesis.json")).expect("genesis");
    let text = std::fs::read_to_string(node.home.join("config.toml")).expect("config");
    let mut config: toml::Table = toml::from_str(&text).expect("config parses");
    let p2p = config["p2p"].as_table_mut().expect("[p2p]");
    for listen in ["listen", "gossip_listen"] {
        p2p.insert(listen.into(), "127.0.0.1:0".into());
    }
    for peers in ["peers", "gossip_peers"] {
        p2p.insert(peers.into(), toml::Value::Array(vec![]));
    }
    let mut sync = toml::Table::new();
    sync.insert("rpc".into(), node.rpc_url.clone().into());
    sync.insert("snapshot_interval_heights".into(), 0.into());
    config.insert("state_sync".into(), sync.into());
    std::fs::write(home.join("config.toml"), toml::to_string(&config).unwrap()).unwrap();
    let seed = *blake3::hash(home.to_string_lossy().as_bytes()).as_bytes();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let file = serde_json::json!({
        "name": "validator",
        "public_key": tamga_runtime::PublicKey::of(&key),
        "secret_key": hex::encode(seed),
    });
    std::fs::write(home.join("validator_key.json"), file.to_string()).unwrap();
}

/// Waits for a snapshot of the state as it is now, then times a new node's
/// restore of it, from its start to its RPC answering at the snapshot's height
/// with the same state root the serving node's block has there.
pub fn snapshot_join(node: &Node, records: usize) {
    let snapshot = snapshot_from(node, node.height());
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("joiner");
    joiner_home(node, &home);
    let started = Instant::now();
    let mut joiner = Node::start_within(&home, &[], SNAPSHOT_WAIT).expect("the joiner restores");
    let secs = started.elapsed().as_secs_f64();
    let status = joiner.client().node_status().expect("node_status");
    let block = node
        .client()
        .block_get(Some(status.height))
        .expect("block_get");
    assert_eq!(status.height, snapshot.height, "restored another snapshot");
    assert_eq!(status.state_root, block.header.state_root, "another state");
    let state_mib = mib(dir_bytes(&home.join("data")));
    println!(
        "snapshot join at {records} records: height {} restored in {secs:.1} s from start to RPC \
         (anchor verified from genesis, state paged over JSON-RPC, tree rebuilt; joiner's data/ {state_mib:.0} MiB)",
        snapshot.height
    );
    joiner.stop();
}
