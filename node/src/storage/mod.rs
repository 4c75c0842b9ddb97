//! RocksDB storage: blocks, commits, transaction locations, state, the authenticated
//! state tree, and the indexes (records by owner, history by record, certificates
//! by subject, revocations by height).
//!
//! A block and every change it causes are written in one `WriteBatch` (see
//! [`commit`]), so after a crash the node restarts at the last committed height with
//! exactly that height's state: there is no partial block on disk.

mod cache;
mod commit;
mod ordered;
mod precompiled;
mod proofs;
mod proposals;
mod query;
mod restore;
mod smt;
mod snapshot;
mod top;
mod tree_bytes;
pub mod usage;
mod warm;

pub use commit::{ExecutedBlock, HistoryEntry, TxLocation};
pub use precompiled::DiskModules;
pub use restore::{Anchored, RestoreError};
pub use smt::{prove, state_root_after, value_at};
pub use snapshot::{StatePage, PAGE_BYTES_MAX, PAGE_PAIRS_MAX};
pub use warm::{Pace, WarmUpState, WarmUpStatus, Warmed, Warming};

use rocksdb::{ColumnFamilyDescriptor, Options, DB};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tamga_runtime::state::StateRead;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;

pub(crate) const CF_META: &str = "meta";
pub(crate) const CF_BLOCKS: &str = "blocks";
pub(crate) const CF_COMMITS: &str = "commits";
pub(crate) const CF_TXS: &str = "txs";
pub(crate) const CF_STATE: &str = "state";
pub(crate) const CF_SMT_NODES: &str = "smt_nodes";
pub(crate) const CF_SMT_VALUES: &str = "smt_values";
pub(crate) const CF_IDX_OWNER: &str = "idx_owner";
pub(crate) const CF_IDX_HISTORY: &str = "idx_history";
pub(crate) const CF_PROPOSALS: &str = "proposals";
pub(crate) const CF_OWN_PROPOSALS: &str = "own_proposals";
pub(crate) const CF_EVIDENCE: &str = "evidence";
/// Certificates by subject: subject ‖ certificate id.
pub(crate) const CF_IDX_CERTS: &str = "idx_certs";
/// Revocations in the order they were recorded: height ‖ certificate id.
pub(crate) const CF_IDX_REVOCATIONS: &str = "idx_revocations";
/// Heights whose block scheduled a validator-set change: the links a certificate
/// carries from genesis to the height it certifies.
pub(crate) const CF_IDX_VALSETS: &str = "idx_valsets";
const ALL_CFS: [&str; 15] = [
    CF_META,
    CF_BLOCKS,
    CF_COMMITS,
    CF_TXS,
    CF_STATE,
    CF_SMT_NODES,
    CF_SMT_VALUES,
    CF_IDX_OWNER,
    CF_IDX_HISTORY,
    CF_PROPOSALS,
    CF_OWN_PROPOSALS,
    CF_EVIDENCE,
    CF_IDX_CERTS,
    CF_IDX_REVOCATIONS,
    CF_IDX_VALSETS,
];
const META_TIP: &[u8] = b"tip";
const META_GENESIS: &[u8] = b"genesis_hash";
const META_LAYOUT: &[u8] = b"layout";

/// How this release lays its data out on disk (keys and values of every column
/// family), written with genesis and checked at every start: a data directory
/// of another layout is refused by name rather than misread. Layout 2 keys
/// tree nodes by big-endian version ([`smt::NodeKeyBytes`]); directories
/// written before layouts were marked have none.
pub const STORAGE_LAYOUT: u32 = 2;

/// Where the chain stands: the last committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Tip {
    pub height: u64,
    pub block_hash: Hash32,
    pub state_root: Hash32,
    pub time_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("stored {what} does not decode (corrupt database): {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("this data directory holds chain with genesis {stored}, not {given}")]
    GenesisMismatch { stored: Hash32, given: Hash32 },
    #[error(
        "this data directory's storage layout is {found}, and this release reads \
         layout {STORAGE_LAYOUT} only: it was written by another release; start \
         this release on a new home (`tamga init`, or `tamga dev` without `--keep`), or \
         keep running the release that wrote it"
    )]
    Layout { found: String },
    #[error("state tree error: {0}")]
    Tree(String),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
}

/// Files the node's database keeps open at most.
const OPEN_FILES_MAX: i32 = 512;
/// Files each served snapshot's frozen copy keeps open at most (two are kept).
pub const FROZEN_OPEN_FILES_MAX: i32 = 64;

pub struct Storage {
    db: DB,
    /// RocksDB's block cache (every column family's), kept to report its use.
    block_cache: rocksdb::Cache,
    block_cache_bytes: usize,
    /// Committed state values, in front of `CF_STATE`. Absent keys are not
    /// cached: any RPC caller can ask for ids that do not exist.
    values: cache::Cache<Vec<u8>, Vec<u8>>,
    /// State-tree nodes, in front of `CF_SMT_NODES` (immutable once written).
    nodes: cache::Cache<smt::NodeKeyBytes, jmt::storage::Node>,
    /// The state tree's top levels, pinned (see [`top`]).
    top: top::TopNodes,
    /// Proposals below this height are pruned (0 at start: the first commit
    /// looks from the lowest height).
    proposals_pruned_below: std::sync::atomic::AtomicU64,
    /// The last block's commit batch, in bytes: the next one is reserved from
    /// it (see [`commit::batch_reserve_bytes`]).
    commit_batch_bytes: std::sync::atomic::AtomicUsize,
}

impl Storage {
    /// Opens (or creates) the database at `path`, its caches bounded by `budget`
    /// (`[storage]`).
    pub fn open(path: &Path, budget: &CacheBudget) -> Result<Self, StorageError> {
        Storage::open_as(path, budget, None)
    }

    /// Opens a state snapshot's frozen copy of a database read-only, with
    /// small caches and at most [`FROZEN_OPEN_FILES_MAX`] open files: it is
    /// read once, in key order, by each joiner, and nothing in it changes.
    pub fn open_frozen(path: &Path) -> Result<Self, StorageError> {
        Storage::open_as(
            path,
            &CacheBudget::of_mib(8, 8, 8),
            Some(FROZEN_OPEN_FILES_MAX),
        )
    }

    /// Read-write, or read-only with at most `frozen_files` open files.
    fn open_as(
        path: &Path,
        budget: &CacheBudget,
        frozen_files: Option<i32>,
    ) -> Result<Self, StorageError> {
        let mut options = Options::default();
        options.create_if_missing(frozen_files.is_none());
        options.create_missing_column_families(frozen_files.is_none());
        // Bounded background work and open files: the node shares a small machine.
        options.set_max_background_jobs(2);
        options.set_max_open_files(frozen_files.unwrap_or(OPEN_FILES_MAX));
        let block_cache = rocksdb::Cache::new_lru_cache(budget.block_bytes);
        let cfs = ALL_CFS
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, &block_cache)));
        let db = match frozen_files {
            None => DB::open_cf_descriptors(&options, path, cfs)?,
            Some(_) => DB::open_cf_descriptors_read_only(&options, path, cfs, false)?,
        };
        let storage = Storage {
            db,
            block_cache,
            block_cache_bytes: budget.block_bytes,
            values: cache::Cache::new(budget.state_bytes, cache::weigh_state),
            nodes: cache::Cache::new(budget.tree_bytes, smt::weigh_node),
            top: Default::default(),
            proposals_pruned_below: Default::default(),
            commit_batch_bytes: Default::default(),
        };
        storage.check_layout()?;
        Ok(storage)
    }

    /// Refuses a data directory that holds a chain in another layout than
    /// [`STORAGE_LAYOUT`] (a new one gets it with genesis).
    fn check_layout(&self) -> Result<(), StorageError> {
        if self.genesis_hash()?.is_none() {
            return Ok(());
        }
        let found: Option<u32> = self.get_decoded(CF_META, META_LAYOUT, "storage layout")?;
        match found {
            Some(STORAGE_LAYOUT) => Ok(()),
            Some(other) => Err(StorageError::Layout {
                found: other.to_string(),
            }),
            None => Err(StorageError::Layout {
                found: "unmarked (a release before layouts were marked)".into(),
            }),
        }
    }

    pub(crate) fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(name)
            .expect("every column family is created at open")
    }

    pub(crate) fn get_raw(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.db.get_cf(self.cf(cf), key)?)
    }

    pub(crate) fn get_decoded<T: encoding::Decode<()>>(
        &self,
        cf: &str,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, StorageError> {
        self.get_raw(cf, key)?
            .map(|bytes| decode_stored(&bytes, what))
            .transpose()
    }

    pub fn tip(&self) -> Result<Option<Tip>, StorageError> {
        self.get_decoded(CF_META, META_TIP, "tip")
    }

    /// Tests: overwrites a state value with raw bytes, as disk corruption would.
    #[cfg(test)]
    pub(crate) fn corrupt_state(&self, key: &[u8], bytes: &[u8]) {
        self.db
            .put_cf(self.cf(CF_STATE), key, bytes)
            .expect("test write");
        self.values.forget(&key.to_vec());
    }

    pub fn genesis_hash(&self) -> Result<Option<Hash32>, StorageError> {
        self.get_decoded(CF_META, META_GENESIS, "genesis hash")
    }
}

/// Stored bytes decoded; bytes that do not decode are a corrupt database.
pub(crate) fn decode_stored<T: encoding::Decode<()>>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StorageError> {
    encoding::decode(bytes).map_err(|e| StorageError::Corrupt {
        what,
        reason: e.to_string(),
    })
}

/// [`decode_stored`] for the state tree's nodes, which only speak serde.
pub(crate) fn decode_stored_serde<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StorageError> {
    encoding::decode_serde(bytes).map_err(|e| StorageError::Corrupt {
        what,
        reason: e.to_string(),
    })
}

/// RocksDB's block cache by default (`[storage] block_cache_mib`), shared by
/// every column family: uncompressed data blocks (this build has no compression
/// libraries) plus index and filter blocks. Nothing is reserved up front: blocks
/// enter as they are read (by queries, execution, the state root) and each new
/// SST file's index and filter blocks as flushes and compactions open it, so a
/// small ledger uses little of it. At 1,000,000 records the `state` column family
/// alone is about 191 MiB, so 128 MiB held at most two thirds of its blocks and a
/// third or more of random `record_get`s read theirs from the files
/// (`scripts/bench.sh` measures the rate). Larger states want a larger cache.
pub const BLOCK_CACHE_MIB_DEFAULT: u32 = 512;

/// The node's own cache of committed state values by default (`[storage]
/// state_cache_mib`; see [`cache`]): what admission's dry runs, blocks and
/// `record_get` read first. At 1,000,000 records the values and their keys
/// weigh about 245 MiB as the cache counts them, so this holds all of them
/// in one of its two generations; a smaller state uses only what it has.
/// (The fixed 96 MiB before held at most about two fifths of them.)
pub const STATE_CACHE_MIB_DEFAULT: u32 = 768;

/// The node's cache of state-tree nodes below the pinned top levels by
/// default (`[storage] tree_cache_mib`): every block's state root reads the
/// path of each key it writes. It holds live nodes (a commit takes out the
/// nodes it made stale; the warm-up at start may put back some that commits
/// made stale while it ran, see [`warm`]): at 1,000,000 records about a
/// million leaves of ~200 bytes and a quarter of a million internal nodes of
/// ~1 KiB, as the cache weighs them.
pub const TREE_CACHE_MIB_DEFAULT: u32 = 768;

/// How much memory each of a node's caches may hold. Each fills as it is
/// used, up to what the ledger's state (or, for the block cache, its files)
/// holds: a small ledger uses little of any of them. The node caches' real
/// memory is somewhat above their weights (hash tables' slack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheBudget {
    /// RocksDB's block cache (`[storage] block_cache_mib`).
    pub block_bytes: usize,
    /// Committed state values (`[storage] state_cache_mib`).
    pub state_bytes: usize,
    /// State-tree nodes (`[storage] tree_cache_mib`).
    pub tree_bytes: usize,
}

impl CacheBudget {
    /// The defaults, for callers without a config (tests, tools).
    pub const DEFAULT: CacheBudget = CacheBudget::of_mib(
        BLOCK_CACHE_MIB_DEFAULT,
        STATE_CACHE_MIB_DEFAULT,
        TREE_CACHE_MIB_DEFAULT,
    );

    /// The budget of caches sized in MiB, as `[storage]` sizes them.
    pub const fn of_mib(block_mib: u32, state_mib: u32, tree_mib: u32) -> CacheBudget {
        const MIB: usize = 1024 * 1024;
        CacheBudget {
            block_bytes: block_mib as usize * MIB,
            state_bytes: state_mib as usize * MIB,
            tree_bytes: tree_mib as usize * MIB,
        }
    }
}

/// Column families whose keys a block writes at random places (a state key's
/// kind and then a record's or account's id; a state key's hash; a
/// transaction's id; an owner's, or a record's, id first), so each insert
/// searches its memtable's skip list from far off. The tree's nodes, blocks,
/// commits and proposals (keyed by height first) go in at the end of theirs.
const RANDOM_KEY_CFS: [&str; 5] = [
    CF_STATE,
    CF_SMT_VALUES,
    CF_TXS,
    CF_IDX_OWNER,
    CF_IDX_HISTORY,
];

/// The write buffer (one memtable) of each of [`RANDOM_KEY_CFS`], a quarter of
/// RocksDB's default 64 MiB. Why: a skip-list insert costs a cache miss per
/// level, and a fuller memtable has more levels to miss in. At 1,000,000
/// records the commit's memtable inserts cost 12.3-15.0 µs per transfer in
/// four runs with 64 MiB, and 6.8-8.9 in the same nodes' windows once warmed
/// after a restart (whose recovery flushes the memtables); with 16 MiB,
/// 7.1-8.5 in three runs interleaved with three of those four (6.1 in one
/// with 8 MiB, whose memtables flushed in every window). 2026-12-07,
/// `stages`' `commit_memtable`; see "The commit before and after a restart"
/// in docs/performance-notes.md. The
/// cost: more, smaller flushes, and about 4 % more on disk right after the
/// bench's growth (3,663-3,678 MiB against 3,532-3,536 at 1,000,000 records).
/// Not measured: what it costs compaction over a long run (level 0 is
/// compacted at four files, and with these keys each level-0 file overlaps
/// the whole next level, so that level is rewritten about four times as
/// often per byte written), and whether `record_history` pages, whose family
/// has no bloom filter and now more level-0 files, are slower (6,328-13,380
/// queries/s in three runs against 4,298-14,029 in four).
const RANDOM_KEY_WRITE_BUFFER_BYTES: usize = 16 << 20;

/// Column families read by exact key on the hot path (state values, tree nodes,
/// transaction locations for admission's "already committed?") get a bloom filter,
/// so a key that is not in an SST file costs no data-block read: at a million
/// records most look-ups of a new transaction id or record id are such misses.
fn cf_options(name: &str, block_cache: &rocksdb::Cache) -> Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(block_cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let point_reads = [CF_STATE, CF_SMT_NODES, CF_TXS, CF_META].contains(&name);
    if point_reads {
        table.set_bloom_filter(10.0, false);
    }
    let mut options = Options::default();
    options.set_block_based_table_factory(&table);
    if RANDOM_KEY_CFS.contains(&name) {
        options.set_write_buffer_size(RANDOM_KEY_WRITE_BUFFER_BYTES);
    }
    if point_reads {
        // A bloom filter over the memtable's keys too (2 % of the write buffer): a
        // random read of a large state misses the memtable, and this skips its
        // skip-list search.
        options.set_memtable_whole_key_filtering(true);
        options.set_memtable_prefix_bloom_ratio(0.02);
    }
    options
}

impl Storage {
    /// A committed state value, through the value cache. Only `fill` readers
    /// (execution, admission) add what they read from disk to it: a reader for
    /// RPC would let any caller evict the values blocks need. A disk error is the
    /// caller's to report (RPC reads answer `node.storage`, never panic).
    pub(crate) fn state_raw(
        &self,
        key: &[u8],
        fill: bool,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let key = key.to_vec();
        let epoch = match self.values.get(&key) {
            Ok(value) => return Ok(Some(value)),
            Err(epoch) => epoch,
        };
        let value = self.get_raw(CF_STATE, &key)?;
        if let (Some(value), true) = (&value, fill) {
            self.values.fill(key, value.clone(), epoch);
        }
        Ok(value)
    }
}

/// Committed state, as the runtime reads it. A failing disk read cannot be turned
/// into "no value" without forking from other nodes, so it stops the node.
impl StateRead for Storage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.state_raw(key, true) {
            Ok(value) => value,
            Err(e) => panic!("state read failed; stopping rather than diverging: {e}"),
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod read_tests;

#[cfg(test)]
mod options_tests {
    use super::*;

    /// The write buffer of each column family, as RocksDB recorded it in the
    /// database's newest `OPTIONS-*` file.
    fn write_buffers(dir: &Path) -> Vec<(String, usize)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.retain(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("OPTIONS-")
        });
        files.sort();
        let text = std::fs::read_to_string(files.last().expect("an OPTIONS file")).unwrap();
        let mut found = vec![];
        let mut family = None;
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix("[CFOptions \"") {
                family = Some(name.trim_end_matches("\"]").to_string());
            } else if let (Some(name), Some(bytes)) =
                (&family, line.strip_prefix("write_buffer_size="))
            {
                found.push((name.clone(), bytes.parse().unwrap()));
            }
        }
        found
    }

    #[test]
    fn random_key_families_get_the_smaller_write_buffer() {
        let dir = tempfile::tempdir().unwrap();
        drop(Storage::open(dir.path(), &CacheBudget::of_mib(8, 8, 8)).unwrap());
        let buffers = write_buffers(dir.path());
        assert_eq!(
            buffers.len(),
            ALL_CFS.len() + 1,
            "every family and default: {buffers:?}"
        );
        for (name, bytes) in buffers {
            let expected = match RANDOM_KEY_CFS.contains(&name.as_str()) {
                true => RANDOM_KEY_WRITE_BUFFER_BYTES,
                false => 64 << 20,
            };
            assert_eq!(bytes, expected, "{name}");
        }
    }
}
