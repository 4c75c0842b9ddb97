//! The atomic commit of a decided block: block, commit certificate, transaction
//! locations, state writes, tree nodes, indexes and the new tip in one write batch.

use super::ordered::Ordered;
use super::*;
use crate::stages::CommitParts;
use jmt::storage::TreeUpdateBatch;
use rocksdb::perf::{set_perf_stats, PerfContext, PerfMetric, PerfStatsLevel};
use rocksdb::{WriteBatch, WriteOptions};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tamga_runtime::records::{Event, Signer};
use tamga_runtime::state::WriteSet;
use tamga_runtime::types::{Block, Commit};
use tamga_runtime::SubjectId;

/// The most a commit batch reserves up front: a block's batch (block, state,
/// tree nodes, indexes) is about 2.3 KB per transfer, so this covers blocks of
/// about 3,000. A larger one grows by doubling past it, as every batch did
/// before: memory a block asks for before it is needed stays bounded.
const BATCH_RESERVE_MAX_BYTES: usize = 8 << 20;

/// The least a commit batch reserves: an empty block's batch fits.
const BATCH_RESERVE_MIN_BYTES: usize = 64 << 10;

/// What a block's commit batch reserves, from the previous batch's size: a
/// quarter more, rounded up to a power of two (so most blocks ask the
/// allocator for the same size, which it then reuses).
///
/// Why: grown by doubling, RocksDB's batch buffer was copied several times per
/// block, each time into fresh pages the kernel had to zero. A profile of four
/// validators at full load (2026-12-05) had that page zeroing, under the
/// batch's appends, at 4.2 % of the whole machine's samples.
pub(super) fn batch_reserve_bytes(last_bytes: usize) -> usize {
    let wanted = last_bytes.saturating_add(last_bytes / 4);
    wanted
        .clamp(BATCH_RESERVE_MIN_BYTES, BATCH_RESERVE_MAX_BYTES)
        .next_power_of_two()
}

/// RocksDB's perf level that times a write's log and memtable: its
/// `kEnableTimeExceptForMutex` (4). The `rocksdb` crate's enum predates
/// RocksDB's `kEnableWait` (3) and is one behind from there, so this is the
/// crate's `EnableTimeAndCPUTimeExceptForMutex` (its 4); the crate's
/// `EnableTimeExceptForMutex` (its 3) would time waits only, and leaves the
/// log's time at zero (`a_commit_reports_its_write_ahead_log_and_memtable_time`).
const WRITE_TIMERS_LEVEL: PerfStatsLevel = PerfStatsLevel::EnableTimeAndCPUTimeExceptForMutex;

/// Where a committed transaction is, and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct TxLocation {
    pub height: u64,
    pub index: u32,
    pub events: Vec<Event>,
}

/// One line of a record's provenance history: exactly what the runtime folded
/// into the record's provenance digest, so a certificate can carry it.
pub use tamga_runtime::records::ProvenanceEntry as HistoryEntry;

/// Where one transaction's events happened, for the indexes.
struct IndexAt {
    height: u64,
    time_ms: u64,
    tx: Hash32,
    index: u32,
    signers: Vec<Signer>,
}

/// A block executed against the committed state, ready to commit.
pub struct ExecutedBlock {
    pub block: Block,
    pub writes: WriteSet,
    pub tree: TreeUpdateBatch,
    /// Transaction ids in block order, computed once when the transactions were
    /// verified (an id is a hash of the encoding: not worth recomputing).
    pub tx_ids: Vec<Hash32>,
    /// Per transaction, in block order.
    pub events: Vec<Vec<Event>>,
    /// Per transaction: who signed, under which certificate (for provenance).
    pub signers: Vec<Vec<Signer>>,
    /// Contract fuel the block's transactions spent (for metrics; not stored).
    pub fuel_used: u64,
}

/// A 32-byte owner (or subject) followed by a 32-byte id: the pair indexes' key.
pub(super) fn pair_key(first: &[u8; 32], second: &Hash32) -> Vec<u8> {
    [first.as_slice(), second.0.as_slice()].concat()
}

fn owner_key(owner: &SubjectId, record: &Hash32) -> Vec<u8> {
    pair_key(&owner.0, record)
}

pub(super) fn revocation_key(height: u64, certificate: &Hash32) -> Vec<u8> {
    [height.to_be_bytes().as_slice(), certificate.0.as_slice()].concat()
}

fn history_key(record: &Hash32, height: u64, tx_index: u32, event_index: u32) -> Vec<u8> {
    let mut key = record.0.to_vec();
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(&tx_index.to_be_bytes());
    key.extend_from_slice(&event_index.to_be_bytes());
    key
}

/// A block's index writes, one buffer per column family, sorted by key before
/// they join the batch (see [`Ordered`]): their keys start with a hash (a
/// transaction's id, an owner, a record, a subject), so arrive in no order.
/// Every write a block's commit makes to these column families goes through
/// here, so writes to one key keep their order (genesis indexes its
/// certificates directly: one batch, no block).
struct IndexWrites {
    txs: Ordered,
    owners: Ordered,
    history: Ordered,
    certs: Ordered,
    revocations: Ordered,
    valsets: Ordered,
}

impl IndexWrites {
    fn with_capacity(txs: usize) -> Self {
        IndexWrites {
            txs: Ordered::with_capacity(txs),
            // A transfer deletes one owner entry and puts another.
            owners: Ordered::with_capacity(2 * txs),
            history: Ordered::with_capacity(txs),
            certs: Ordered::default(),
            revocations: Ordered::default(),
            valsets: Ordered::default(),
        }
    }

    fn write_into(self, storage: &Storage, batch: &mut WriteBatch) {
        self.txs.write_into(batch, storage.cf(CF_TXS));
        self.owners.write_into(batch, storage.cf(CF_IDX_OWNER));
        self.history.write_into(batch, storage.cf(CF_IDX_HISTORY));
        self.certs.write_into(batch, storage.cf(CF_IDX_CERTS));
        self.revocations
            .write_into(batch, storage.cf(CF_IDX_REVOCATIONS));
        self.valsets.write_into(batch, storage.cf(CF_IDX_VALSETS));
    }

    /// Each of a block's transactions: its location and what its events index.
    fn of_block(executed: &ExecutedBlock) -> Self {
        let header = &executed.block.header;
        let count = executed.tx_ids.len();
        let mut indexes = IndexWrites::with_capacity(count);
        assert_eq!(executed.block.txs.len(), count, "one id per tx");
        assert_eq!(executed.events.len(), count, "one event list per tx");
        assert_eq!(executed.signers.len(), count, "one signer list per tx");
        let txs = executed
            .tx_ids
            .iter()
            .zip(&executed.events)
            .zip(&executed.signers);
        for (index, ((id, events), signers)) in txs.enumerate() {
            let index = index as u32;
            let location = TxLocation {
                height: header.height,
                index,
                events: events.clone(),
            };
            indexes.txs.put(id.0.to_vec(), encoding::encode(&location));
            let at = IndexAt {
                height: header.height,
                time_ms: header.time_ms,
                tx: *id,
                index,
                signers: signers.clone(),
            };
            indexes.put_events(&at, events);
        }
        indexes
    }

    /// Owner index, certificates, revocations, validator sets and provenance
    /// history, derived from events. Writes to one key apply in the order made,
    /// so A→B→C within one block leaves only C indexed.
    fn put_events(&mut self, at: &IndexAt, events: &[Event]) {
        let height = at.height;
        for (event_index, event) in events.iter().enumerate() {
            match event {
                Event::Registered { record, owner, .. } | Event::SplitOff { record, owner, .. } => {
                    self.owners.put(owner_key(owner, record), vec![]);
                }
                Event::Transferred {
                    record, from, to, ..
                } => {
                    self.owners.delete(owner_key(from, record));
                    self.owners.put(owner_key(to, record), vec![]);
                }
                Event::CertificateIssued {
                    certificate,
                    subject,
                    ..
                } => self.certs.put(pair_key(&subject.0, certificate), vec![]),
                Event::CertificateRevoked { certificate, .. } => {
                    let key = revocation_key(height, certificate);
                    self.revocations.put(key, vec![]);
                }
                Event::ValidatorSetScheduled { .. } => {
                    self.valsets.put(height.to_be_bytes().to_vec(), vec![]);
                }
                _ => {}
            }
            self.put_history(at, event_index as u32, event);
        }
    }

    /// One history entry per record the event touches.
    fn put_history(&mut self, at: &IndexAt, event_index: u32, event: &Event) {
        let entry = HistoryEntry {
            height: at.height,
            time_ms: at.time_ms,
            tx: at.tx,
            signers: at.signers.clone(),
            event: event.clone(),
        };
        let mut bytes = encoding::encode(&entry);
        let records = event.records();
        for (i, record) in records.iter().enumerate() {
            let key = history_key(record, at.height, at.index, event_index);
            // Copies for all but the last (most events touch one record).
            let value = if i + 1 == records.len() {
                std::mem::take(&mut bytes)
            } else {
                bytes.clone()
            };
            self.history.put(key, value);
        }
    }
}

impl Storage {
    /// Writes genesis state as tree version 0, with this release's
    /// [`STORAGE_LAYOUT`]. Refuses a data directory that holds a different chain.
    pub fn init_genesis(
        &self,
        genesis_hash: Hash32,
        writes: &WriteSet,
        time_ms: u64,
    ) -> Result<Tip, StorageError> {
        self.check_not_restoring()?;
        if let Some(stored) = self.genesis_hash()? {
            if stored != genesis_hash {
                return Err(StorageError::GenesisMismatch {
                    stored,
                    given: genesis_hash,
                });
            }
            return self.tip()?.ok_or(StorageError::Corrupt {
                what: "tip",
                reason: "missing".into(),
            });
        }
        let (state_root, tree) = state_root_after(self, 0, writes)?;
        let tip = Tip {
            height: 0,
            block_hash: genesis_hash,
            state_root,
            time_ms,
        };
        let mut batch = WriteBatch::default();
        self.put_state(&mut batch, writes, &tree);
        self.put_genesis_certificates(&mut batch, writes);
        batch.put_cf(
            self.cf(CF_META),
            META_GENESIS,
            encoding::encode(&genesis_hash),
        );
        let layout = encoding::encode(&STORAGE_LAYOUT);
        batch.put_cf(self.cf(CF_META), META_LAYOUT, layout);
        batch.put_cf(self.cf(CF_META), META_TIP, encoding::encode(&tip));
        self.write(batch)?;
        self.cache_committed(writes, &tree);
        Ok(tip)
    }

    /// After a commit's write: what it wrote replaces what the caches held, the
    /// tree nodes it made stale leave, and its new ones (the ones the next
    /// block's paths start from) go in.
    pub(super) fn cache_committed(&self, writes: &WriteSet, tree: &TreeUpdateBatch) {
        self.cache_committed_values(writes);
        self.cache_committed_nodes(tree);
    }

    /// A commit's values replace what the value cache held. Only after its
    /// write: RPC reads see the cache, and must not see a block not yet durable.
    fn cache_committed_values(&self, writes: &WriteSet) {
        self.values.update(
            writes
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
    }

    /// A commit's tree nodes: its shallow ones pinned, its deeper ones cached,
    /// the ones it made stale out. May run beside the commit's write (see
    /// [`Storage::commit_block`]).
    fn cache_committed_nodes(&self, tree: &TreeUpdateBatch) {
        let nodes = tree.node_batch.nodes();
        // A commit's shallow nodes are the newest at their paths: pinned, not
        // cached twice.
        self.top.offer(nodes.iter());
        // A stale node is read again only by a proof at an older height: out,
        // so the cache holds the tree's live nodes, not every version of a path
        // (stale first: a node both stale and new, if jmt ever made one, stays).
        // Stale pinned-level nodes too: a read from disk after a restart caches
        // the one it reads.
        let stale = (tree.stale_node_index_batch.iter())
            .map(|stale| smt::NodeKeyBytes::of(&stale.node_key));
        // A new node's key carries this block's version, which no earlier
        // commit wrote: no older copy to look for.
        let fresh = (nodes.iter())
            .filter(|(key, _)| !super::top::is_pinned(key))
            .map(|(key, node)| (smt::NodeKeyBytes::of(key), node.clone()));
        self.nodes.update_new(stale, fresh);
    }

    /// Commits a decided block and everything it changed, atomically and durably.
    pub fn commit_block(
        &self,
        executed: &ExecutedBlock,
        commit: &Commit,
    ) -> Result<(Tip, CommitParts), StorageError> {
        let started = Instant::now();
        let (batch, tip) = self.commit_batch(executed, commit)?;
        let mut parts = CommitParts {
            batch: started.elapsed(),
            ..CommitParts::default()
        };
        // The tree-node caches take the block's nodes on another thread while
        // RocksDB writes the batch: at a million records that update was about
        // a quarter of the commit's time (2026-12-06 profile), on the one
        // thread every block waits for. The values still wait for the write
        // (RPC reads and admission see them), and go in as soon as it is done.
        //
        // Why early nodes are safe: tree nodes never change once written, so
        // a reader served from the cache before this thread joins the other (a
        // certificate taking its height from RocksDB's tip as soon as the
        // write applies) gets what the disk holds; a stale node taken out
        // early is read from disk, where it stays. A failed write stops
        // consensus and the process (`host::decided`); the one restart within
        // a process, after a refused signature, keeps the caches, and can
        // commit at this height only the block certified here (with fewer
        // than a third of the validators faulty), whose nodes these are. (A
        // restore writes a whole tree at one version, but only into an empty
        // directory, caches empty.) A panic on either thread stops the node as
        // one did before; the block may be durable by then, and a restart
        // finds it. A thread that cannot be started leaves the update to this
        // one.
        let written = std::thread::scope(|scope| {
            let beside = std::thread::Builder::new()
                .name("tamga-cache".into())
                .spawn_scoped(scope, || self.cache_committed_nodes(&executed.tree));
            let written = self.write_timed(batch, &mut parts);
            let caching = Instant::now();
            if written.is_ok() {
                self.cache_committed_values(&executed.writes);
            }
            if beside.is_err() {
                self.cache_committed_nodes(&executed.tree);
            }
            (written, caching)
        });
        let (written, caching) = written;
        written?;
        parts.caches = caching.elapsed();
        self.proposals_pruned(tip.height);
        Ok((tip, parts))
    }

    /// Everything a decided block changes, as one write batch (not yet
    /// written), and the tip it makes. Within each column family the batch's
    /// keys do not decrease (see [`Ordered`]).
    pub(crate) fn commit_batch(
        &self,
        executed: &ExecutedBlock,
        commit: &Commit,
    ) -> Result<(WriteBatch, Tip), StorageError> {
        let header = &executed.block.header;
        assert_eq!(
            commit.height, header.height,
            "commit is for this block's height"
        );
        let last_bytes = self.commit_batch_bytes.load(Ordering::Relaxed);
        let mut batch = WriteBatch::with_capacity_bytes(batch_reserve_bytes(last_bytes));
        let height_key = header.height.to_be_bytes();
        batch.put_cf(
            self.cf(CF_BLOCKS),
            height_key,
            encoding::encode(&executed.block),
        );
        batch.put_cf(self.cf(CF_COMMITS), height_key, encoding::encode(commit));
        self.put_state(&mut batch, &executed.writes, &executed.tree);
        IndexWrites::of_block(executed).write_into(self, &mut batch);
        let tip = Tip {
            height: header.height,
            block_hash: commit.block_hash,
            state_root: header.state_root,
            time_ms: header.time_ms,
        };
        batch.put_cf(self.cf(CF_META), META_TIP, encoding::encode(&tip));
        self.prune_proposals(&mut batch, header.height)?;
        (self.commit_batch_bytes).store(batch.size_in_bytes(), Ordering::Relaxed);
        Ok((batch, tip))
    }

    /// State, tree nodes and tree values. Each arrives in key order, unlike
    /// the indexes: the state and jmt's nodes and values are sorted maps, a
    /// batch holds one tree version, and the encoding of a node key keeps the
    /// map's order within a version (`a_batch_of_tree_nodes_and_values_is_in_key_order`).
    pub(super) fn put_state(
        &self,
        batch: &mut WriteBatch,
        writes: &WriteSet,
        tree: &TreeUpdateBatch,
    ) {
        for (key, value) in writes {
            match value {
                Some(value) => batch.put_cf(self.cf(CF_STATE), key, value),
                None => batch.delete_cf(self.cf(CF_STATE), key),
            }
        }
        let nodes = tree.node_batch.nodes();
        let version = nodes.keys().next().map(|key| key.version());
        // One buffer for the nodes, reused for every node: the batch copies
        // what it is given (a key's bytes are inline).
        let mut node_bytes = Vec::with_capacity(tree_bytes::NODE_BYTES_MAX);
        for (node_key, node) in nodes {
            // Only the insert's speed depends on it: checked in tests, not
            // worth stopping a node over.
            debug_assert_eq!(
                Some(node_key.version()),
                version,
                "one tree version per batch"
            );
            node_bytes.clear();
            tree_bytes::encode_node(node, &mut node_bytes);
            let key = smt::NodeKeyBytes::of(node_key);
            batch.put_cf(self.cf(CF_SMT_NODES), key.as_bytes(), &node_bytes);
        }
        for ((version, key_hash), value) in tree.node_batch.values() {
            let key = smt::value_key(key_hash, *version);
            batch.put_cf(self.cf(CF_SMT_VALUES), key, encoding::encode(value));
        }
    }

    /// Indexes the certificates genesis writes (no event announces them).
    fn put_genesis_certificates(&self, batch: &mut WriteBatch, writes: &WriteSet) {
        let prefix = tamga_runtime::state::keys::certificate(&Hash32::default());
        let prefix = &prefix[..prefix.len() - 32];
        for (key, value) in writes {
            let Some(value) = value.as_ref().filter(|_| key.starts_with(prefix)) else {
                continue;
            };
            if let Ok(cert) = encoding::decode::<tamga_runtime::pki::Certificate>(value) {
                let key = pair_key(&cert.subject.0, &cert.id);
                batch.put_cf(self.cf(CF_IDX_CERTS), key, []);
            }
        }
    }

    /// [`Self::write`] with RocksDB's perf timers on for this thread, its
    /// time split into `parts`' write-ahead log, memtable and the rest.
    ///
    /// The timers cost a few clock reads per write, one write per block. The
    /// thread goes back to RocksDB's default level (counts, no times), so
    /// reads on it stay as cheap as before.
    fn write_timed(&self, batch: WriteBatch, parts: &mut CommitParts) -> Result<(), StorageError> {
        set_perf_stats(WRITE_TIMERS_LEVEL);
        let mut context = PerfContext::default();
        context.reset();
        let started = Instant::now();
        let written = self.write(batch);
        let spent = started.elapsed();
        let nanos = |metric| Duration::from_nanos(context.metric(metric));
        parts.wal = nanos(PerfMetric::WriteWalTime);
        parts.memtable = nanos(PerfMetric::WriteMemtableTime);
        parts.write_rest = spent.saturating_sub(parts.wal + parts.memtable);
        set_perf_stats(PerfStatsLevel::EnableCount);
        written
    }

    pub(super) fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut options = WriteOptions::default();
        // Durable before the node reports the block committed.
        options.set_sync(true);
        Ok(self.db.write_opt(batch, &options)?)
    }
}

#[cfg(test)]
mod batch_reserve_tests {
    use super::*;

    #[test]
    fn a_commit_batch_reserves_more_than_the_last_within_bounds() {
        assert_eq!(batch_reserve_bytes(0), BATCH_RESERVE_MIN_BYTES);
        // 2,300,000 bytes (1,000 transfers) + a quarter, rounded up: 4 MiB.
        assert_eq!(batch_reserve_bytes(2_300_000), 4 << 20);
        for last_bytes in [1, 70_000, 1 << 20, 3_000_000, 6_000_000] {
            let reserved = batch_reserve_bytes(last_bytes);
            assert!(reserved.is_power_of_two() && reserved > last_bytes);
        }
        assert_eq!(batch_reserve_bytes(30_000_000), BATCH_RESERVE_MAX_BYTES);
        assert_eq!(batch_reserve_bytes(usize::MAX), BATCH_RESERVE_MAX_BYTES);
    }
}

#[cfg(test)]
mod cache_tests {
    use crate::app::tests::{decide_signed, open_app, produce_one};
    use crate::keyring::dev_key;
    use jmt::storage::NodeKey;
    use std::time::Duration;
    use tamga_runtime::state::keys;

    /// When a commit returns, its block's tree root is pinned (its nodes'
    /// update ran beside the write, and was waited for) and its values are
    /// cached: the next block's root and reads start from them.
    #[test]
    fn a_committed_block_leaves_its_root_pinned_and_its_values_cached() {
        let dir = tempfile::tempdir().unwrap();
        let app = open_app(dir.path());
        let storage = &app.storage;
        let root_path = super::tree_bytes::test_path(0, vec![]);
        for _ in 0..3 {
            let tip = produce_one(&app, &dev_key("validator")).unwrap();
            let root = NodeKey::new(tip.height, root_path.clone());
            assert!(storage.top.get(&root).is_some(), "height {}", tip.height);
            let stored = storage.get_raw(super::CF_STATE, &keys::tip()).unwrap();
            assert_eq!(storage.values.get(&keys::tip()).ok(), stored);
        }
    }

    /// A commit says where its time went: a synced write-ahead log and
    /// memtable inserts take time in every commit, so RocksDB's timers must
    /// have run.
    #[test]
    fn a_commit_reports_its_write_ahead_log_and_memtable_time() {
        let dir = tempfile::tempdir().unwrap();
        let app = open_app(dir.path());
        let (executed, commit, _) = decide_signed(&app, &[dev_key("validator")]).unwrap();
        let (tip, parts) = app.storage.commit_block(&executed, &commit).unwrap();
        assert_eq!(tip.height, executed.block.header.height);
        assert!(parts.batch > Duration::ZERO, "{parts:?}");
        assert!(parts.wal > Duration::ZERO, "{parts:?}");
        assert!(parts.memtable > Duration::ZERO, "{parts:?}");
        assert!(parts.caches > Duration::ZERO, "{parts:?}");
    }
}
