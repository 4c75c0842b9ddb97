//! Where a node's time goes, stage by stage along a transaction's path: the
//! signature checks, admission's dry run, block execution, the state root, the
//! block's write, and the mempool's upkeep after a commit. Each stage keeps the
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
    /// The mempool's upkeep after a commit (forgetting, and any re-check).
    pub recheck: Stage,
}

impl Stages {
    pub fn report(&self) -> Value {
        json!({
            "verify": self.verify.report(),
            "dry_run": self.dry_run.report(),
            "execute": self.execute.report(),
            "state_root": self.state_root.report(),
            "commit": self.commit.report(),
            "recheck": self.recheck.report(),
        })
    }
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
}
