//! Where a node's time goes, stage by stage along a transaction's path: the
//! signature checks, admission's dry run, block execution, the state root, the
//! block's write (and its parts), and the mempool's upkeep after a commit. Each stage keeps the
//! nanoseconds spent in it and the transactions it handled since the node
//! started; `node_status` reports them, and the benchmark turns two readings into
//! a cost per transaction, so "where the time goes" is measured in every run
//! rather than estimated once.
//!
//! Timings are taken per batch or per block (two clock reads), never per
//! transaction, so measuring costs nothing the figures would show.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Time spent in one stage and the transactions it covered.
#[derive(Default)]
pub struct Stage {
    nanos: AtomicU64,
    txs: AtomicU64,
}

impl Stage {
    /// Runs `work` over `txs` transactions and counts its time here.
    pub fn time<R>(&self, txs: usize, work: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let result = work();
        self.add(txs, started.elapsed());
        result
    }

    /// Counts `spent` on `txs` transactions (work timed elsewhere: a thread each).
    pub fn add(&self, txs: usize, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.txs.fetch_add(txs as u64, Ordering::Relaxed);
    }

    pub(crate) fn report(&self) -> Value {
        json!({
            "us": self.nanos.load(Ordering::Relaxed) / 1_000,
            "txs": self.txs.load(Ordering::Relaxed),
        })
    }
}

/// Every stage, in the order a transaction meets them.
#[derive(Default)]
pub struct Stages {
    /// Decoding and ed25519 checks (admission from RPC and gossip, and a proposed
    /// block's transactions the mempool did not hold), summed over threads.
    pub verify: Stage,
    /// Admission's dry run against committed state plus the pending queue.
    pub dry_run: Stage,
    /// Applying a block's transactions (building one, or executing a proposal).
    pub execute: Stage,
    /// The state tree's new root and nodes for a block's writes.
    pub state_root: Stage,
    /// The block's atomic, synced write with its state, tree and indexes.
    pub commit: Stage,
    /// The commit's parts (see [`CommitParts`]): together the commit's time,
    /// less starting the tree-node caches' thread before the write and the
    /// proposal store's in-memory pruning after it.
    pub commit_batch: Stage,
    pub commit_wal: Stage,
    pub commit_memtable: Stage,
    pub commit_write_rest: Stage,
    pub commit_caches: Stage,
    /// The mempool's upkeep after a commit (forgetting, and any re-check).
    pub recheck: Stage,
}

impl Stages {
    /// Counts one block's commit parts over its `txs` transactions.
    pub fn commit_parts(&self, txs: usize, parts: &CommitParts) {
        self.commit_batch.add(txs, parts.batch);
        self.commit_wal.add(txs, parts.wal);
        self.commit_memtable.add(txs, parts.memtable);
        self.commit_write_rest.add(txs, parts.write_rest);
        self.commit_caches.add(txs, parts.caches);
    }

    pub fn report(&self) -> Value {
        json!({
            "verify": self.verify.report(),
            "dry_run": self.dry_run.report(),
            "execute": self.execute.report(),
            "state_root": self.state_root.report(),
            "commit": self.commit.report(),
            "commit_batch": self.commit_batch.report(),
            "commit_wal": self.commit_wal.report(),
            "commit_memtable": self.commit_memtable.report(),
            "commit_write_rest": self.commit_write_rest.report(),
            "commit_caches": self.commit_caches.report(),
            "recheck": self.recheck.report(),
        })
    }
}

/// Where one block's commit went. Why it is split: at a million records the
/// same node's commit cost 26-34 µs per transfer before a restart and 14-20
/// after it (2026-12-07), and the whole commit's time could not say whether
/// the disk, RocksDB's memtables or the node's own work made the difference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitParts {
    /// Building the write batch (block, state, tree nodes, indexes, tip).
    pub batch: Duration,
    /// RocksDB's write-ahead log: appending the batch and its fsync
    /// (RocksDB's own perf timer, `write_wal_time`).
    pub wal: Duration,
    /// Inserting the batch into the memtables (`write_memtable_time`).
    pub memtable: Duration,
    /// The rest of the write's wall time: waiting to lead a write group,
    /// write stalls, scheduling flushes, RocksDB's pre- and post-processing.
    pub write_rest: Duration,
    /// After the write: the value caches' update, and any wait for the
    /// tree-node caches' thread that ran beside the write.
    pub caches: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_adds_up_time_and_transactions() {
        let stage = Stage::default();
        stage.add(3, Duration::from_micros(1500));
        let value = stage.time(2, || {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(value, 7);
        let report = stage.report();
        assert_eq!(report["txs"], 5);
        assert!(report["us"].as_u64().unwrap() >= 3500, "{report}");
    }

    #[test]
    fn a_commit_s_parts_land_in_their_own_stages() {
        let stages = Stages::default();
        let parts = CommitParts {
            batch: Duration::from_micros(1),
            wal: Duration::from_micros(20),
            memtable: Duration::from_micros(300),
            write_rest: Duration::from_micros(4_000),
            caches: Duration::from_micros(50_000),
        };
        stages.commit_parts(10, &parts);
        let report = stages.report();
        let us = |name: &str| (report[name]["us"].as_u64(), report[name]["txs"].as_u64());
        assert_eq!(us("commit_batch"), (Some(1), Some(10)));
        assert_eq!(us("commit_wal"), (Some(20), Some(10)));
        assert_eq!(us("commit_memtable"), (Some(300), Some(10)));
        assert_eq!(us("commit_write_rest"), (Some(4_000), Some(10)));
        assert_eq!(us("commit_caches"), (Some(50_000), Some(10)));
    }
}
