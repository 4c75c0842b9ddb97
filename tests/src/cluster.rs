//! A local multi-validator network for black-box tests: `tamga testnet` writes the
//! homes on a free port range, each node runs as its own `tamga start` process,
//! and every process is killed when the cluster is dropped. A node given faults
//! runs the test build (`tamga-test`) with a `[test_faults]` section; a proxied
//! cluster routes every node-to-node connection through a [`Link`] the test can
//! cut, delay or make lossy.

use super::proxy::Link;
use super::{tamga_bin, Node};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_client::{LastSigned, NodeStatus, TxInfo, TxStatus};
use tamga_runtime::types::{ObjectCategory, Payload, SignedTx, Transaction};
use tamga_runtime::{Hash32, PublicKey};

/// Ports per node in `tamga testnet` (RPC, consensus, gossip at +0, +1, +2).
const PORTS_PER_NODE: u16 = 10;

pub struct Cluster {
    pub nodes: Vec<Option<Node>>,
    pub homes: Vec<PathBuf>,
    pub block_time_ms: u64,
    /// Per node, the body of a `[test_faults]` section (runs `tamga-test`).
    pub faults: Vec<Option<String>>,
    /// Per node, a file its log goes to (instead of the test's stderr).
    pub logs: Vec<Option<PathBuf>>,
    /// Proxied clusters: the links from node i to node j (consensus, gossip).
    pub links: BTreeMap<(usize, usize), Vec<Link>>,
    _dir: tempfile::TempDir,
}

/// A test that fails prints the end of each node log it kept: what each node
/// did just before (this runs before the nodes are killed and their homes go).
impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprint!("{}", self.log_tails(60));
        }
    }
}

/// Base-port slots: slot k is port 20,000 + 12k. A node i of a cluster uses
/// base + 10i + 1 and + 2, which differ modulo 12 for i < 6, so two clusters of
/// up to six nodes in different slots never share a port.
const PORT_SLOTS: u64 = 1000;

/// The next slot to try, shared by every cluster this process makes: tests
/// running at once get different slots, which a bind probe alone cannot ensure
/// (the other cluster's nodes may not have bound yet). It starts at a slot drawn
/// from the pid and the clock, for test binaries run one after another.
fn next_port_slot() -> u64 {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU64> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let seed = std::process::id() as u64 ^ now.map(|d| d.subsec_nanos() as u64).unwrap_or(0);
        std::sync::atomic::AtomicU64::new(seed.wrapping_mul(6364136223846793005) >> 33)
    });
    next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PORT_SLOTS
}

/// A base port whose consensus and gossip ports are free for `nodes` nodes. Below
/// the kernel's ephemeral range, so OS-picked RPC ports never collide with it.
fn free_base_port(nodes: usize) -> u16 {
    assert!(nodes <= 6, "port slots hold clusters of up to six nodes");
    let span = PORTS_PER_NODE * nodes as u16 + PORTS_PER_NODE;
    for _ in 0..PORT_SLOTS {
        let base = 20_000 + (next_port_slot() as u16) * 12;
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
            faults: vec![None; total],
            logs: vec![None; total],
            links: BTreeMap::new(),
            _dir: dir,
        }
    }

    /// Like [`Cluster::create`], with every peer connection through a proxy link.
    pub fn create_proxied(validators: usize, full_nodes: usize, block_time_ms: u64) -> Cluster {
        let mut cluster = Cluster::create(validators, full_nodes, block_time_ms);
        cluster.links = proxy_links(&cluster.homes);
        cluster
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
        let faulty = self.faults[i].is_some();
        if let Some(body) = &self.faults[i] {
            set_faults(&self.homes[i], body);
        }
        let log = self.logs[i].as_deref();
        let node = Node::start_logged(&self.homes[i], self.block_time_ms, faulty, log)
            .unwrap_or_else(|e| panic!("node{i} starts: {e}"));
        self.nodes[i] = Some(node);
    }

    /// Edits every home's `config.toml` (before its node starts).
    pub fn configure(&self, edit: impl Fn(&mut toml::Table)) {
        for i in 0..self.homes.len() {
            self.configure_node(i, &edit);
        }
    }

    /// Edits node `i`'s `config.toml` (before it starts).
    pub fn configure_node(&self, i: usize, edit: impl Fn(&mut toml::Table)) {
        let path = self.homes[i].join("config.toml");
        let text = std::fs::read_to_string(&path).expect("config.toml");
        let mut config: toml::Table = toml::from_str(&text).expect("TOML");
        edit(&mut config);
        std::fs::write(&path, toml::to_string(&config).expect("TOML")).expect("config written");
    }

    /// SIGSTOP: the process stays, frozen (a paused VM, a long GC).
    pub fn pause(&self, i: usize) {
        self.node(i).signal("STOP");
    }

    /// SIGCONT after [`Cluster::pause`].
    pub fn resume(&self, i: usize) {
        self.node(i).signal("CONT");
    }

    /// Cuts every link between the `a` side and the `b` side, both ways.
    pub fn cut(&self, a: &[usize], b: &[usize]) {
        self.each_link_between(a, b, Link::cut);
    }

    pub fn heal_all(&self) {
        self.links.values().flatten().for_each(Link::heal);
    }

    /// Every link: `delay_ms ± jitter_ms`, `loss_per_mille` chunks lost.
    pub fn shape_all(&self, delay_ms: u64, jitter_ms: u64, loss_per_mille: u64) {
        for link in self.links.values().flatten() {
            link.shape(delay_ms, jitter_ms, loss_per_mille);
        }
    }

    fn each_link_between(&self, a: &[usize], b: &[usize], act: impl Fn(&Link)) {
        assert!(!self.links.is_empty(), "only a proxied cluster has links");
        for (&(from, to), links) in &self.links {
            let across =
                (a.contains(&from) && b.contains(&to)) || (b.contains(&from) && a.contains(&to));
            if across {
                links.iter().for_each(&act);
            }
        }
    }

    pub fn kill9(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill9();
        }
    }

    /// The last `lines` lines of each node's log file (the nodes given one).
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for (i, path) in self.logs.iter().enumerate() {
            let Some(path) = path else { continue };
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!(
                "--- node{i}: last {} lines of {} ---\n",
                tail.len(),
                path.display()
            ));
            for line in tail {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
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

    /// Asserts that the running nodes cannot commit, and returns their highest
    /// height. The wait starts at an event, not after a guessed sleep: every
    /// running node has signed a vote at the height after its tip — all it can
    /// do without votes from the missing power. Then, for two rounds' worth of
    /// timeouts, no node may commit or sign anything new.
    pub fn assert_stalled(&self, round_timeouts: Duration) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(120);
        // Votes already in flight when the others went down (a polka of three)
        // may still move a node from its prevote to a precommit: settled means
        // voted, and unchanged for a second.
        let mut last: Option<(Vec<NodeStatus>, Instant)> = None;
        let settled = loop {
            let statuses: Vec<NodeStatus> = self
                .running()
                .map(|n| n.client().node_status().unwrap())
                .collect();
            let voted = statuses.iter().all(|s| {
                let signed = s.consensus.last_signed.as_ref();
                signed.is_some_and(|signed| {
                    signed.height == s.height + 1 && signed.step != "proposal"
                })
            });
            let position = |all: &[NodeStatus]| -> Vec<(u64, Option<LastSigned>)> {
                all.iter()
                    .map(|s| (s.height, s.consensus.last_signed.clone()))
                    .collect()
            };
            let same = last
                .as_ref()
                .is_some_and(|(before, _)| position(before) == position(&statuses));
            if !voted || !same {
                last = Some((statuses.clone(), Instant::now()));
            }
            let stable_for = last.as_ref().map(|(_, since)| since.elapsed());
            if voted && same && stable_for >= Some(Duration::from_secs(1)) {
                break statuses;
            }
            assert!(
                Instant::now() < deadline,
                "the nodes never voted at their next height: {statuses:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let window = Instant::now() + 2 * round_timeouts;
        while Instant::now() < window {
            for (node, before) in self.running().zip(&settled) {
                let status = node.client().node_status().unwrap();
                assert_eq!(
                    status.height, before.height,
                    "committed without enough power: {status:?}"
                );
                assert_eq!(
                    status.consensus.last_signed, before.consensus.last_signed,
                    "voted on without a quorum: {status:?}"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        settled.iter().map(|s| s.height).max().unwrap()
    }

    /// Asserts every running node holds the same block hash and state root at each
    /// height up to `height` (no fork, no divergence).
    pub fn assert_agree_up_to(&self, height: u64) {
        for h in 1..=height {
            let mut seen: Option<(Hash32, Hash32)> = None;
            for node in self.running() {
                let block = node.client().block_get(Some(h));
                let block = block.unwrap_or_else(|e| panic!("node has no block {h}: {e}"));
                let pair = (block.hash, block.header.state_root);
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
pub fn wait_committed(node: &Node, hash: Hash32, timeout: Duration) -> Result<TxInfo> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(result) = node.client().tx_get(hash) {
            match result.status {
                TxStatus::Committed => return Ok(result),
                TxStatus::Rejected => bail!("tx {hash} rejected: {result:?}"),
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
    let chain = node.client().node_status().unwrap().chain_id;
    let payload = Payload::Register {
        category: ObjectCategory::Digital,
        description: text,
        owner: node.subject_of_key(&PublicKey::of(&key)),
        national: false,
        quantity: None,
    };
    let tx = Transaction {
        chain_id: chain,
        signer: PublicKey::of(&key),
        nonce,
        payload,
    };
    tx.sign(&key)
}

pub fn submit(node: &Node, tx: &SignedTx) -> Hash32 {
    node.submit(tx).expect("tx_submit")
}

/// Appends the `[test_faults]` section to a home's config (once).
fn set_faults(home: &std::path::Path, body: &str) {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).expect("config.toml");
    if !text.contains("[test_faults]") {
        std::fs::write(&path, format!("{text}\n[test_faults]\n{body}\n")).expect("config written");
    }
}

/// Rewrites every node's peer lists to go through a proxy link per (from, to,
/// swarm), and returns the links.
fn proxy_links(homes: &[PathBuf]) -> BTreeMap<(usize, usize), Vec<Link>> {
    let configs: Vec<toml::Table> = homes
        .iter()
        .map(|h| toml::from_str(&std::fs::read_to_string(h.join("config.toml")).unwrap()).unwrap())
        .collect();
    let port_of = |config: &toml::Table, field: &str| -> u16 {
        let addr = config["p2p"][field].as_str().unwrap();
        addr.rsplit(':').next().unwrap().parse().unwrap()
    };
    // Which node listens on a port, for each swarm.
    let owner: BTreeMap<u16, usize> = configs
        .iter()
        .enumerate()
        .flat_map(|(i, c)| [(port_of(c, "listen"), i), (port_of(c, "gossip_listen"), i)])
        .collect();
    let mut links: BTreeMap<(usize, usize), Vec<Link>> = BTreeMap::new();
    for (from, (home, mut config)) in homes.iter().zip(configs).enumerate() {
        for field in ["peers", "gossip_peers"] {
            let entries = config["p2p"][field].as_array().unwrap().clone();
            let rewritten: Vec<toml::Value> = entries
                .iter()
                .map(|entry| {
                    let entry = entry.as_str().unwrap();
                    let (id, addr) = entry.split_once('@').unwrap();
                    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
                    let link = Link::start(port);
                    let to = owner[&port];
                    let proxied = format!("{id}@127.0.0.1:{}", link.port);
                    links.entry((from, to)).or_default().push(link);
                    toml::Value::String(proxied)
                })
                .collect();
            config["p2p"].as_table_mut().unwrap()[field] = toml::Value::Array(rewritten);
        }
        std::fs::write(home.join("config.toml"), toml::to_string(&config).unwrap()).unwrap();
    }
    links
}

/// The proposer of (`height`, round 0) among equal-power validators, computed as
/// every node does: round 0 takes the first place of the height's order, which a
/// hash of the height and place 0 picks in the set ordered by address (the
/// README's "drawn by voting power").
pub fn round_zero_proposer(keys: &[PublicKey], height: u64) -> PublicKey {
    let mut sorted = keys.to_vec();
    sorted.sort();
    let hash = tamga_runtime::types::hashing::hash(
        "tamga 2026 proposer draw v1",
        &[&height.to_le_bytes(), &0u32.to_le_bytes()],
    );
    let draw = u128::from_le_bytes(hash.0[..16].try_into().expect("16 bytes"));
    sorted[(draw % sorted.len() as u128) as usize]
}

/// CPU time (user + system, all threads) a running node's process has used so
/// far, read from `/proc/<pid>/stat` at the usual 100 ticks per second; `None`
/// when it is not running or the file cannot be read (not Linux).
pub fn cpu_time(node: &Node) -> Option<Duration> {
    let pid = node.child.as_ref()?.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15; the first after ')' is field 3.
    let total = ticks(11)? + ticks(12)?;
    Some(Duration::from_millis(total * 10))
}

/// The set grows from four validators to five (node4 joins), signed by 3 of 4.
pub fn add_fifth_validator(cluster: &Cluster) -> u64 {
    let keys: Vec<_> = (0..5).map(|i| cluster.node(i).validator_key()).collect();
    let validators = keys
        .iter()
        .map(|k| tamga_runtime::validators::Validator {
            public_key: PublicKey::of(k),
            power: 1,
        })
        .collect();
    let node0 = cluster.node(0);
    let tx = node0.sign_with(&keys[0], Payload::SetValidators { validators }, &keys[1..3]);
    let hash = node0.submit(&tx).unwrap();
    let result = wait_committed(node0, hash, Duration::from_secs(90)).unwrap();
    match result.events() {
        [tamga_runtime::records::Event::ValidatorSetScheduled {
            effective_height, ..
        }, ..] => *effective_height,
        other => panic!("no validator set scheduled: {other:?}"),
    }
}
