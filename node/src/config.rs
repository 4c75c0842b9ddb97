//! A node home: `config.toml`, `genesis.json`, `validator_key.json`, `keys/`, and
//! `data/` (RocksDB). Defaults bind RPC to loopback only.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tamga_runtime::Genesis;

pub const DEFAULT_RPC_ADDR: &str = "127.0.0.1:26657";
/// Persistent peers one node keeps (each is a connection and a gossip fan-out).
/// Consensus messages are sent straight to each peer, not relayed, so every
/// validator lists every other: room for the largest set and its full nodes.
pub const PEERS_MAX: usize = 128;

/// Every peer of a peer list, as multiaddrs.
pub fn multiaddrs(addrs: &[String]) -> Result<Vec<libp2p::Multiaddr>> {
    addrs.iter().map(|a| multiaddr(a)).collect()
}

/// A peer entry: `host:port`, or `peer-id@host:port` (as CometBFT writes
/// `node-id@host:port`) when the peer's identity is pinned.
fn split_peer(entry: &str) -> Result<(Option<libp2p::PeerId>, SocketAddr)> {
    let (id, addr) = match entry.split_once('@') {
        Some((id, addr)) => {
            let id: libp2p::PeerId = id
                .parse()
                .with_context(|| format!("{id:?} in {entry:?} is not a peer id"))?;
            (Some(id), addr)
        }
        None => (None, entry),
    };
    let socket = addr
        .parse()
        .with_context(|| format!("{addr:?} is not host:port"))?;
    Ok((id, socket))
}

/// A peer entry as the multiaddr libp2p dials (`/ip4/H/tcp/P[/p2p/ID]`).
pub fn multiaddr(entry: &str) -> Result<libp2p::Multiaddr> {
    let (id, socket) = split_peer(entry)?;
    let ip = match socket.ip() {
        std::net::IpAddr::V4(ip) => format!("/ip4/{ip}"),
        std::net::IpAddr::V6(ip) => format!("/ip6/{ip}"),
    };
    let peer = id.map(|id| format!("/p2p/{id}")).unwrap_or_default();
    Ok(format!("{ip}/tcp/{}{peer}", socket.port()).parse()?)
}

/// The peer ids pinned in a peer list (entries without one pin nothing).
pub fn peer_ids(entries: &[String]) -> Result<Vec<libp2p::PeerId>> {
    Ok(entries
        .iter()
        .map(|e| split_peer(e))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter_map(|(id, _)| id)
        .collect())
}

/// The libp2p peer id of a node key (one key for both swarms).
pub fn peer_id_of(key: &ed25519_dalek::SigningKey) -> libp2p::PeerId {
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(key.to_bytes())
        .expect("an ed25519 secret key is 32 bytes");
    keypair.public().to_peer_id()
}

/// What every written `config.toml` starts with: what the node keeps, so an
/// operator knows which heights it can certify.
const CONFIG_HEADER: &str = "\
# Tamga node configuration.
#
# State history: this node keeps every version of the state tree (it never
# prunes), so it can certify any height it has committed (RPC record_certificate
# and doc_certificate, `tamga query record ID --certificate`) for as long as its
# data directory is kept. Blocks and commit certificates are kept as long too.

";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcConfig {
    /// `host:port`; port 0 picks a free port (the node prints the one it got).
    pub listen: String,
    pub max_request_bytes: u32,
    pub max_response_bytes: u32,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockConfig {
    pub block_time_ms: u64,
    /// Transactions in a block this node builds (1..=`BLOCK_TXS_MAX`). Blocks
    /// from other proposers are judged by the protocol's `BLOCK_TXS_MAX`, not by
    /// this setting: validity cannot depend on one node's configuration.
    pub block_txs_max: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolConfig {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// Pending transactions one signer may have at once (one key cannot fill the pool).
    #[serde(default = "default_signer_txs_max")]
    pub signer_txs_max: usize,
}

fn default_signer_txs_max() -> usize {
    2_000
}

/// The node's two libp2p swarms: consensus (Malachite's) and transaction gossip (ours).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// Consensus listen address, `host:port` (port 0 picks one; peers then cannot dial it).
    pub listen: String,
    /// Consensus peers this node keeps connections to, `host:port` or
    /// `peer-id@host:port`.
    pub peers: Vec<String>,
    /// Transaction gossip listen address, `host:port`.
    pub gossip_listen: String,
    /// Transaction gossip peers, `host:port` or `peer-id@host:port`.
    pub gossip_peers: Vec<String>,
    /// Accept connections (consensus and gossip) from peers not listed above.
    /// Unset: no for a node whose key is in the validator set at start, yes for
    /// others. When no, every listed peer must pin its `peer-id@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_unlisted_peers: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusConfig {
    /// How long validators wait for a proposal in round 0 (later rounds wait longer).
    pub propose_timeout_ms: u64,
}

/// The personal-data vault of a certification authority's node (Art. 41).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// The token that lets an RPC caller store or read clear identifiers and
    /// names (`cert_issue`, `cert_identity`). Unset: the vault methods are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
}

/// The storage's caches, which an operator sizes to the machine and the ledger:
/// RocksDB's block cache and the node's own caches of state values and tree
/// nodes in front of it. A config written before a setting existed gets its
/// default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// RocksDB's block cache, shared by every column family (see
    /// `storage::BLOCK_CACHE_MIB_DEFAULT`): filled as blocks are read, never
    /// reserved up front.
    #[serde(default = "default_block_cache_mib")]
    pub block_cache_mib: u32,
    /// The node's cache of committed state values, in front of RocksDB (see
    /// `storage::STATE_CACHE_MIB_DEFAULT`): filled as values are written and
    /// read, never reserved up front.
    #[serde(default = "default_state_cache_mib")]
    pub state_cache_mib: u32,
    /// The node's cache of state-tree nodes (see `storage::TREE_CACHE_MIB_DEFAULT`).
    #[serde(default = "default_tree_cache_mib")]
    pub tree_cache_mib: u32,
    /// Whether the node reads its state tree and values into its own caches
    /// as it starts, on a thread of its own, up to 7/8 of each budget (see
    /// `storage::warm`); off, a restarted node reads each from disk the first
    /// time a block touches it.
    #[serde(default = "default_warm_caches")]
    pub warm_caches: bool,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            block_cache_mib: default_block_cache_mib(),
            state_cache_mib: default_state_cache_mib(),
            tree_cache_mib: default_tree_cache_mib(),
            warm_caches: default_warm_caches(),
        }
    }
}

impl StorageConfig {
    /// The caches' sizes, as `Storage::open` takes them.
    pub fn cache_budget(&self) -> crate::storage::CacheBudget {
        crate::storage::CacheBudget::of_mib(
            self.block_cache_mib,
            self.state_cache_mib,
            self.tree_cache_mib,
        )
    }

    /// Each cache's size within [`CACHE_MIB_RANGE`].
    fn validate(&self) -> Result<()> {
        let sizes = [
            ("block_cache_mib", self.block_cache_mib),
            ("state_cache_mib", self.state_cache_mib),
            ("tree_cache_mib", self.tree_cache_mib),
        ];
        let range = CACHE_MIB_RANGE;
        for (name, mib) in sizes {
            if !range.contains(&mib) {
                bail!(
                    "storage.{name} must be {}..={} (got {mib})",
                    range.start(),
                    range.end()
                );
            }
        }
        Ok(())
    }
}

fn default_block_cache_mib() -> u32 {
    crate::storage::BLOCK_CACHE_MIB_DEFAULT
}

fn default_state_cache_mib() -> u32 {
    crate::storage::STATE_CACHE_MIB_DEFAULT
}

fn default_tree_cache_mib() -> u32 {
    crate::storage::TREE_CACHE_MIB_DEFAULT
}

fn default_warm_caches() -> bool {
    true
}

/// State snapshots (see `snapshots` and `state_sync`): how often this node
/// freezes a copy of its state to serve, and where a new node restores one
/// from instead of replaying every block since genesis.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSyncConfig {
    /// Heights between the snapshots this node serves; 0 serves none.
    #[serde(default = "default_snapshot_interval_heights")]
    pub snapshot_interval_heights: u64,
    /// A node's RPC URL (`http://HOST:PORT`) to restore the newest snapshot
    /// from when this node's data directory is empty; unset, the node replays
    /// from genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<String>,
}

impl Default for StateSyncConfig {
    fn default() -> Self {
        StateSyncConfig {
            snapshot_interval_heights: default_snapshot_interval_heights(),
            rpc: None,
        }
    }
}

/// A snapshot every 1,000 heights: at 1 s blocks, one every 17 minutes, each
/// a memtable flush and hard links (see `snapshots`).
fn default_snapshot_interval_heights() -> u64 {
    1000
}

/// The shortest interval between snapshots: each flushes the memtables and
/// opens a checkpoint, which a node should not do at every block or two.
pub const SNAPSHOT_INTERVAL_HEIGHTS_MIN: u64 = 4;

impl StateSyncConfig {
    fn validate(&self) -> Result<()> {
        let interval = self.snapshot_interval_heights;
        if interval != 0 && interval < SNAPSHOT_INTERVAL_HEIGHTS_MIN {
            bail!("state_sync.snapshot_interval_heights must be 0 (no snapshots) or at least {SNAPSHOT_INTERVAL_HEIGHTS_MIN} (got {interval})");
        }
        if let Some(url) = &self.rpc {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("state_sync.rpc {url:?} must be a node's RPC URL, http://HOST:PORT");
            }
        }
        Ok(())
    }
}

/// Every cache's bounds, in MiB: below 8 RocksDB's index and filter blocks
/// alone would churn the block cache, and the node's caches would hold a small
/// state's hot values only; the top (64 GiB each) refuses a size given in KiB
/// or bytes by mistake. Whether the three fit the machine is the operator's
/// call: each fills only as the ledger grows.
pub const CACHE_MIB_RANGE: std::ops::RangeInclusive<u32> = 8..=65_536;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub moniker: String,
    pub rpc: RpcConfig,
    pub block: BlockConfig,
    pub mempool: MempoolConfig,
    pub p2p: P2pConfig,
    pub consensus: ConsensusConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub vault: VaultConfig,
    #[serde(default)]
    pub state_sync: StateSyncConfig,
    /// Test builds only (feature `test-faults`); the release binary refuses it.
    #[cfg(feature = "test-faults")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_faults: Option<crate::consensus::faults::Faults>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            moniker: "tamga-node".into(),
            rpc: RpcConfig {
                listen: DEFAULT_RPC_ADDR.into(),
                max_request_bytes: 1024 * 1024,
                max_response_bytes: 16 * 1024 * 1024,
                max_connections: 128,
            },
            block: BlockConfig {
                block_time_ms: 1000,
                block_txs_max: 5000,
            },
            mempool: MempoolConfig {
                txs_max: 20_000,
                bytes_max: 64 * 1024 * 1024,
                signer_txs_max: default_signer_txs_max(),
            },
            p2p: P2pConfig {
                listen: "127.0.0.1:26656".into(),
                peers: vec![],
                gossip_listen: "127.0.0.1:26655".into(),
                gossip_peers: vec![],
                accept_unlisted_peers: None,
            },
            consensus: ConsensusConfig {
                propose_timeout_ms: 3000,
            },
            storage: StorageConfig::default(),
            vault: VaultConfig::default(),
            state_sync: StateSyncConfig::default(),
            #[cfg(feature = "test-faults")]
            test_faults: None,
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<()> {
        self.state_sync.validate()?;
        self.rpc
            .listen
            .parse::<SocketAddr>()
            .with_context(|| format!("rpc.listen {:?} is not host:port", self.rpc.listen))?;
        if self.block.block_time_ms == 0 || self.block.block_time_ms > 60_000 {
            bail!("block.block_time_ms must be 1..=60000");
        }
        if self.block.block_txs_max == 0
            || self.block.block_txs_max > tamga_runtime::limits::BLOCK_TXS_MAX
        {
            bail!(
                "block.block_txs_max must be 1..={}",
                tamga_runtime::limits::BLOCK_TXS_MAX
            );
        }
        let mempool = &self.mempool;
        if mempool.txs_max == 0 || mempool.bytes_max == 0 || mempool.signer_txs_max == 0 {
            bail!("mempool limits must be positive");
        }
        if mempool.signer_txs_max > mempool.txs_max {
            bail!("mempool.signer_txs_max must not exceed mempool.txs_max");
        }
        if self.rpc.max_request_bytes < 1024 || self.rpc.max_connections == 0 {
            bail!("rpc.max_request_bytes must be >= 1024 and rpc.max_connections > 0");
        }
        let p2p = &self.p2p;
        for (field, addr) in [
            ("p2p.listen", &p2p.listen),
            ("p2p.gossip_listen", &p2p.gossip_listen),
        ] {
            addr.parse::<SocketAddr>()
                .with_context(|| format!("{field} {addr:?} is not host:port"))?;
        }
        for (field, entry) in (p2p.peers.iter().map(|a| ("p2p.peers", a)))
            .chain(p2p.gossip_peers.iter().map(|a| ("p2p.gossip_peers", a)))
        {
            split_peer(entry).with_context(|| format!("in {field}"))?;
        }
        if p2p.peers.len() > PEERS_MAX || p2p.gossip_peers.len() > PEERS_MAX {
            bail!("p2p.peers and p2p.gossip_peers hold at most {PEERS_MAX} entries");
        }
        if let Some(token) = &self.vault.api_token {
            if token.len() < 16 || token.len() > 256 {
                bail!("vault.api_token must be 16..=256 characters");
            }
        }
        self.storage.validate()?;
        let propose = self.consensus.propose_timeout_ms;
        if !(100..=60_000).contains(&propose) {
            bail!("consensus.propose_timeout_ms must be 100..=60000");
        }
        Ok(())
    }
}

/// Paths inside a node home.
pub struct Home(pub PathBuf);

impl Home {
    pub fn config(&self) -> PathBuf {
        self.0.join("config.toml")
    }
    pub fn genesis(&self) -> PathBuf {
        self.0.join("genesis.json")
    }
    pub fn validator_key(&self) -> PathBuf {
        self.0.join("validator_key.json")
    }
    /// The signing high-water mark, beside the key (not in `data/`: restoring
    /// the data from a copy must not restore an older mark with it).
    pub fn signing_state(&self) -> PathBuf {
        self.0.join("signing_state.json")
    }
    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }

    pub fn load_config(&self) -> Result<Config> {
        let path = self.config();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (run `tamga init` first)", path.display()))?;
        let config: Config =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        config
            .validate()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(config)
    }

    pub fn save_config(&self, config: &Config) -> Result<()> {
        let text = CONFIG_HEADER.to_owned() + &toml::to_string_pretty(config)?;
        std::fs::write(self.config(), text)?;
        Ok(())
    }

    pub fn load_genesis(&self) -> Result<Genesis> {
        load_genesis(&self.genesis())
    }
}

pub fn load_genesis(path: &Path) -> Result<Genesis> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let genesis: Genesis =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))?;
    genesis
        .validate()
        .with_context(|| format!("in {}", path.display()))?;
    Ok(genesis)
}

/// `--home`, else `TAMGA_HOME` (clap reads both), else `~/.tamga`.
pub fn default_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".tamga")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config written before the node's cache sizes existed loads with their
    /// defaults; one that sets them keeps its values.
    #[test]
    fn a_config_without_the_cache_sizes_gets_their_defaults() {
        let text = toml::to_string_pretty(&Config::default()).unwrap();
        let older: String = text
            .lines()
            .filter(|line| {
                !line.starts_with("state_cache_mib") && !line.starts_with("tree_cache_mib")
            })
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(older, text, "the config writes both sizes");
        let config: Config = toml::from_str(&older).unwrap();
        assert_eq!(
            config.storage.cache_budget(),
            crate::storage::CacheBudget::DEFAULT
        );
        config.validate().unwrap();
        let set = text.replace("tree_cache_mib = 768", "tree_cache_mib = 64");
        let config: Config = toml::from_str(&set).unwrap();
        assert_eq!(config.storage.tree_cache_mib, 64);
    }
}
