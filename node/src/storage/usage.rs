//! What the database holds, per column family, as RocksDB itself counts it: so an
//! operator (`node_storage`) and the benchmark can say where the bytes of a
//! committed transaction go (state, tree nodes, indexes, blocks) instead of
//! guessing from the size of the data directory.
//!
//! `sst_bytes` is RocksDB's `rocksdb.live-sst-files-size` (the SST files of the
//! column family's current version, at every level, on disk; files a compaction
//! made obsolete are not counted); `memtable_bytes` is
//! `rocksdb.size-all-mem-tables` (active, immutable and pinned memtables: memory,
//! not disk, allocated in arena blocks, so it moves in steps). `wal_bytes` is the
//! total size of the write-ahead log files (`*.log` in the database directory),
//! which RocksDB deletes once the memtables they cover are flushed.
//! `compaction_pending` says whether RocksDB has compaction work queued or
//! running, so a measurement can wait for a quiet store. `block_cache` is the
//! block cache's bound beside what it holds (`rocksdb::Cache::get_usage`), so an
//! operator can see whether `[storage] block_cache_mib` is full; `state_cache`
//! and `tree_cache` do the same for the node's own caches in front of it
//! (`state_cache_mib`, `tree_cache_mib`).

use super::*;
use rocksdb::properties;
use std::collections::BTreeMap;

/// One column family's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFamilyUsage {
    /// SST files on disk.
    pub sst_bytes: u64,
    /// Memtables in memory (not yet flushed to SST files).
    pub memtable_bytes: u64,
}

/// The block cache's bound and what it holds now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockCacheUsage {
    /// The bound (`[storage] block_cache_mib`).
    pub capacity_bytes: u64,
    /// Blocks held, pinned ones included.
    pub usage_bytes: u64,
    /// Blocks in use that cannot be evicted now (level 0's index and filter
    /// blocks, and blocks a read holds).
    pub pinned_bytes: u64,
}

/// Every column family's bytes, the write-ahead log's, and the block cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageUsage {
    pub column_families: BTreeMap<String, ColumnFamilyUsage>,
    pub wal_bytes: u64,
    pub compaction_pending: bool,
    pub block_cache: BlockCacheUsage,
    /// The node's cache of committed state values.
    pub state_cache: cache::CacheUsage,
    /// The node's cache of state-tree nodes (below the pinned top levels).
    pub tree_cache: cache::CacheUsage,
}

/// Why the usage could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("database property: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("listing the write-ahead log in {dir}: {source}")]
    Wal { dir: String, source: std::io::Error },
}

impl Storage {
    /// SST and memtable bytes per column family, and the WAL's total size.
    pub fn usage(&self) -> Result<StorageUsage, UsageError> {
        let mut column_families = BTreeMap::new();
        let mut compaction_pending = false;
        for name in ALL_CFS {
            let cf = self.cf(name);
            let int = |property| -> Result<u64, UsageError> {
                Ok(self.db.property_int_value_cf(cf, property)?.unwrap_or(0))
            };
            let usage = ColumnFamilyUsage {
                sst_bytes: int(properties::LIVE_SST_FILES_SIZE)?,
                memtable_bytes: int(properties::SIZE_ALL_MEM_TABLES)?,
            };
            compaction_pending |= int(properties::COMPACTION_PENDING)? > 0
                || int(properties::NUM_RUNNING_COMPACTIONS)? > 0;
            column_families.insert(name.to_owned(), usage);
        }
        let wal_bytes = wal_bytes(self.db.path())?;
        Ok(StorageUsage {
            column_families,
            wal_bytes,
            compaction_pending,
            block_cache: self.block_cache_usage(),
            state_cache: self.values.usage(),
            tree_cache: self.nodes.usage(),
        })
    }

    /// The block cache's bound and what it holds (RocksDB's own accounting).
    pub fn block_cache_usage(&self) -> BlockCacheUsage {
        BlockCacheUsage {
            capacity_bytes: self.block_cache_bytes as u64,
            usage_bytes: self.block_cache.get_usage() as u64,
            pinned_bytes: self.block_cache.get_pinned_usage() as u64,
        }
    }
}

/// Total size of the `*.log` files in `dir` (the WAL lives beside the SST files:
/// `Storage::open` sets no separate WAL directory). A file RocksDB deletes between
/// the listing and its size is simply not counted.
fn wal_bytes(dir: &Path) -> Result<u64, UsageError> {
    let failed = |source| UsageError::Wal {
        dir: dir.display().to_string(),
        source,
    };
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let is_log = entry.path().extension().is_some_and(|e| e == "log");
        if let (true, Ok(meta)) = (is_log, entry.metadata()) {
            total += meta.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_names_every_column_family_and_counts_the_wal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).expect("opens");
        storage
            .db
            .put_cf(storage.cf(CF_META), b"k", vec![0u8; 4096])
            .expect("write");
        let usage = storage.usage().expect("usage");
        assert_eq!(usage.column_families.len(), ALL_CFS.len());
        assert!(usage.column_families[CF_META].memtable_bytes > 0);
        assert!(
            usage.wal_bytes >= 4096,
            "the write is in the WAL: {usage:?}"
        );
        let budget = CacheBudget::DEFAULT;
        assert_eq!(usage.block_cache.capacity_bytes, budget.block_bytes as u64);
        assert_eq!(usage.state_cache.capacity_bytes, budget.state_bytes as u64);
        assert_eq!(usage.tree_cache.capacity_bytes, budget.tree_bytes as u64);
    }

    /// Reading five times the cache's bound from SST files leaves it full and
    /// within its bound: the configured size is the one RocksDB uses.
    #[test]
    fn the_block_cache_stays_within_its_configured_bound() {
        const CAPACITY_BYTES: usize = 1024 * 1024;
        let dir = tempfile::tempdir().expect("temp dir");
        let budget = CacheBudget {
            block_bytes: CAPACITY_BYTES,
            ..CacheBudget::DEFAULT
        };
        let storage = Storage::open(dir.path(), &budget).expect("opens");
        let cf = storage.cf(CF_STATE);
        let key = |i: u32| i.to_be_bytes();
        for i in 0..20_000 {
            storage.db.put_cf(cf, key(i), [7u8; 256]).expect("write");
        }
        storage.db.flush_cf(cf).expect("flush");
        for i in 0..20_000 {
            assert!(storage.db.get_cf(cf, key(i)).expect("read").is_some());
        }
        let cache = storage.block_cache_usage();
        assert_eq!(cache.capacity_bytes, CAPACITY_BYTES as u64);
        assert!(cache.usage_bytes <= cache.capacity_bytes, "{cache:?}");
        assert!(cache.usage_bytes >= cache.capacity_bytes / 2, "{cache:?}");
    }
}
