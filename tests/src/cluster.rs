//! A local multi-validator network for black-box tests: `tamga testnet` writes the
//! homes on a free port range, each node runs as its own `tamga start` process,
//! and every process is killed when the cluster is dropped.

use super::{tamga_bin, Node};
use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_runtime::types::{encoding, ObjectCategory, Payload, SignedTx, Transaction};
use tamga_runtime::PublicKey;

/// Ports per node in `tamga testnet` (RPC, consensus, gossip at +0, +1, +2).
const PORTS_PER_NODE: u16 = 10;

pub struct Cluster {
    pub nodes: Vec<Option<Node>>,
    pub homes: Vec<PathBuf>,
    pub block_time_ms: u64,
    /// Environment for every node start, per node (test hooks).
    pub envs: Vec<Vec<(&'static str, String)>>,
    _dir: tempfile::TempDir,
}

/// A base port whose consensus and gossip ports are free for `nodes` nodes. Below
/// the kernel's ephemeral range, so OS-picked RPC ports never collide with it.
fn free_base_port(nodes: usize) -> u16 {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    let span = PORTS_PER_NODE * nodes as u16 + PORTS_PER_NODE;
    for attempt in 0..200u64 {
        let offset = (seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(attempt * 7919))
            % 1000;
        let base = 20_000 + (offset as u16) * 12;
        let all_free = (0..nodes as u16).all(|i| {
            let first = base + i * PORTS_PER_NODE;
            TcpListener::bind(("127.0.0.1", first + 1)).is_ok()
                && TcpListener::bind(("127.0.0.1", first + 2)).is_ok()
        });
        if all_free && base + span < 32_000 {
            return base;
        }
    }
    panic!("no free port range for {nodes} nodes");
}

impl Cluster {
    /// Writes a testnet of `validators` + `full_nodes` homes; starts nothing.
    pub fn create(validators: usize, full_nodes: usize, block_time_ms: u64) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let total = validators + full_nodes;
        let base = free_base_port(total).to_string();
        let status = Command::new(tamga_bin())
            .args(["testnet", "--out"])
            .arg(dir.path())
            .args(["--validators", &validators.to_string()])
            .args(["--full-nodes", &full_nodes.to_string()])
            .args(["--base-port", &base])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("tamga testnet runs");
        assert!(status.success(), "tamga testnet failed");
        let homes = (0..total)
            .map(|i| dir.path().join(format!("node{i}")))
            .collect();
        Cluster {
            nodes: (0..total).map(|_| None).collect(),
            homes,
            block_time_ms,
            envs: vec![vec![]; total],
            _dir: dir,
        }
    }

    /// Creates and starts the validators.
    pub fn start_validators(validators: usize, full_nodes: usize, block_time_ms: u64) -> Cluster {
        let mut cluster = Cluster::create(validators, full_nodes, block_time_ms);
        for i in 0..validators {
            cluster.start(i);
        }
        cluster
    }

    pub fn start(&mut self, i: usize) {
        let node = Node::start_with(&self.homes[i], self.block_time_ms, &self.envs[i])
            .unwrap_or_else(|e| panic!("node{i} starts: {e}"));
        self.nodes[i] = Some(node);
    }

    pub fn kill9(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill9();
        }
    }

    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i]
            .as_ref()
            .unwrap_or_else(|| panic!("node{i} is not running"))
    }

    pub fn running(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().flatten()
    }

    pub fn min_height(&self) -> u64 {
        self.running().map(Node::height).min().unwrap_or(0)
    }

    /// Waits until every running node reaches `height`.
    pub fn wait_height(&self, height: u64, timeout: Duration) -> Result<()> {
        for node in self.running() {
            node.wait_height(height, timeout)?;
        }
        Ok(())
    }

    /// Asserts every running node holds the same block hash and state root at each
    /// height up to `height` (no fork, no divergence).
    pub fn assert_agree_up_to(&self, height: u64) {
        for h in 1..=height {
            let mut seen: Option<(Value, Value)> = None;
            for node in self.running() {
                let block = node.rpc("block_get", json!([h])).expect("block_get");
                let pair = (block["hash"].clone(), block["header"]["state_root"].clone());
                assert!(pair.0.is_string(), "node has no block {h}: {block}");
                match &seen {
                    None => seen = Some(pair),
                    Some(first) => assert_eq!(first, &pair, "nodes disagree at height {h}"),
                }
            }
        }
    }
}

/// Waits until `node` reports `hash` committed, tolerating "not found" while the
/// transaction is still travelling to it.
pub fn wait_committed(node: &Node, hash: &str, timeout: Duration) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(result) = node.rpc("tx_get", json!([hash])) {
            match result["status"].as_str() {
                Some("committed") => return Ok(result),
                Some("rejected") => bail!("tx {hash} rejected: {result}"),
                _ => {}
            }
        }
        if Instant::now() > deadline {
            bail!("tx {hash} not committed in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One signer per node, so each signer's nonces arrive at one node in order.
pub const SIGNERS: [&str; 4] = ["alice", "bob", "bank", "arbiter1"];

/// `signer` registers a digital object it owns (no registrar needed).
pub fn digital(node: &Node, signer: &str, nonce: u64, text: String) -> SignedTx {
    let key = node.key(signer);
    let chain = node.rpc("node_status", json!([])).unwrap()["chain_id"].clone();
    let payload = Payload::Register {
        category: ObjectCategory::Digital,
        description: text,
        owner: PublicKey::of(&key),
        national: false,
        quantity: None,
    };
    let tx = Transaction {
        chain_id: chain.as_str().unwrap().into(),
        signer: PublicKey::of(&key),
        nonce,
        payload,
    };
    tx.sign(&key)
}

pub fn submit(node: &Node, tx: &SignedTx) -> String {
    let result = node.rpc("tx_submit", json!([hex::encode(encoding::encode(tx))]));
    result.expect("tx_submit")["hash"]
        .as_str()
        .unwrap()
        .to_owned()
}
