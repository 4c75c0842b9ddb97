//! *Commit a decided block*, in two parts. On the block's own thread, the
//! decision: its certificate written durably, its state made the one the next
//! height executes on, its transactions kept out of the next block. On a
//! thread of its own, the apply: the block's atomic commit batch (state,
//! tree, indexes, tip), then the applied tip RPC answers from, the mempool's
//! upkeep, the vault's erasures and the block's notice. An apply that fails
//! stops the process there and then, as a failed commit always did: the
//! certificate is durable, and the next start applies the block.
//!
//! Why two: at a million records the batch took 21-28 µs per transfer
//! (2026-12-07) on the thread every height waits for; written beside the next
//! height's execution and state root, which read the block from
//! `storage/pending.rs` until it is applied, it leaves that thread. At most
//! one block applies at a time: the next decision waits for the one before.
//! A crash between the two parts leaves the certificate and the block (in the
//! proposal store), and [`App::apply_decided_after_tip`] applies it at start.

use super::{App, BlockError, BlockNotice};
use crate::storage::{ExecutedBlock, Tip};
use std::sync::Arc;
use tamga_runtime::types::{encoding, Block, Commit};
use tamga_runtime::{Hash32, TxError};

/// The apply running beside the next height: joined before the next decision.
/// With the block's transaction count, for the wait's stage.
pub(super) type Applying = (std::thread::JoinHandle<()>, usize);

fn tip_of(executed: &ExecutedBlock, commit: &Commit) -> Tip {
    let header = &executed.block.header;
    Tip {
        height: header.height,
        block_hash: commit.block_hash,
        state_root: header.state_root,
        time_ms: header.time_ms,
    }
}

/// A decided block's transactions its proposer dropped, with why: the
/// mempool forgets them once the block is applied.
type Dropped = Vec<(Hash32, TxError)>;

impl App {
    /// Decides a block and applies it on a thread of its own (see the module
    /// doc); returns the decided tip once the next height may begin.
    pub fn decide(
        self: &Arc<Self>,
        executed: ExecutedBlock,
        commit: Commit,
        dropped: Dropped,
    ) -> Result<Tip, BlockError> {
        let executed = self.record_decision(executed, &commit, &dropped, true)?;
        let tip = tip_of(&executed, &commit);
        let (app, block, certificate) = (self.clone(), executed.clone(), commit.clone());
        let spawned = std::thread::Builder::new()
            .name("tamga-apply".into())
            .spawn(move || {
                if let Err(error) = app.apply_then_snapshot(&block, &certificate, dropped) {
                    let height = block.block.header.height;
                    tracing::error!(height, %error, "applying a decided block failed: stopping; the next start applies it");
                    std::process::abort();
                }
            });
        // No thread to be had: this node stops, and its next start applies
        // the block (its decision is durable; nothing may be decided after it).
        let handle = spawned.map_err(|error| BlockError::ApplyThread(error.to_string()))?;
        let applying = (handle, executed.tx_ids.len());
        *self.applying.lock().unwrap_or_else(|e| e.into_inner()) = Some(applying);
        Ok(tip)
    }

    fn apply_then_snapshot(
        self: &Arc<Self>,
        executed: &ExecutedBlock,
        commit: &Commit,
        dropped: Dropped,
    ) -> Result<(), BlockError> {
        #[cfg(feature = "test-faults")]
        self.kill_before_apply();
        self.apply(executed, commit, dropped)?;
        crate::snapshots::after_commit(self, executed.block.header.height);
        Ok(())
    }

    /// Test builds: `kill_before_apply`'s SIGKILL, at its decision.
    #[cfg(feature = "test-faults")]
    fn kill_before_apply(&self) {
        use std::sync::atomic::Ordering;
        let nth = self.kill_before_apply.load(Ordering::Relaxed);
        if nth == 0 || self.applies.fetch_add(1, Ordering::Relaxed) + 1 != nth {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        tracing::warn!("fault switch: killed before a decided block's commit batch");
        // SAFETY: raise takes no pointer; the process ends here.
        unsafe { libc::raise(libc::SIGKILL) };
    }

    /// Decides and applies a block before returning (tests, and a block
    /// applied again at start).
    pub fn commit_block(
        &self,
        executed: ExecutedBlock,
        commit: Commit,
        dropped: Dropped,
    ) -> Result<Tip, BlockError> {
        let executed = self.record_decision(executed, &commit, &dropped, false)?;
        self.apply(&executed, &commit, dropped)?;
        Ok(tip_of(&executed, &commit))
    }

    /// Waits for the block being applied, if any; its failure is this one's
    /// (a node that cannot write its state stops).
    pub fn finish_applying(&self) -> Result<(), BlockError> {
        let applying = self
            .applying
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((handle, count)) = applying else {
            return Ok(());
        };
        let waited = std::time::Instant::now();
        let joined = handle.join();
        self.stages.apply_wait.add(count, waited.elapsed());
        joined.map_err(|_| BlockError::ApplyPanicked)
    }

    /// The decision's part: the block before applied, the certificate durable,
    /// the block's state the one the next height reads (through the storage's
    /// pending block when `pipelined`), the decided tip moved, and the
    /// block's transactions kept out of the next one.
    pub(super) fn record_decision(
        &self,
        executed: ExecutedBlock,
        commit: &Commit,
        dropped: &Dropped,
        pipelined: bool,
    ) -> Result<Arc<ExecutedBlock>, BlockError> {
        self.finish_applying()?;
        // Never past a block decided and not applied (its apply panicked):
        // its certificate, the one a restart applies, would be overwritten.
        let (applied, decided) = (self.tip().height, self.decided_tip().height);
        if applied != decided {
            return Err(BlockError::NotApplied { applied, decided });
        }
        let tip = tip_of(&executed, commit);
        assert_eq!(tip.height, decided + 1, "decisions come in order");
        let count = executed.tx_ids.len();
        (self.stages.decided).time(count, || self.storage.record_decided(commit))?;
        let executed = Arc::new(executed);
        if pipelined {
            self.storage.set_pending(executed.clone());
        }
        *self.decided.write().unwrap_or_else(|e| e.into_inner()) = tip;
        let dropped_ids = dropped.iter().map(|(id, _)| *id);
        (self.mempool()).on_decided(executed.tx_ids.iter().copied().chain(dropped_ids));
        Ok(executed)
    }

    /// The apply's part: the commit batch, then what RPC, the mempool and
    /// subscribers see.
    pub(super) fn apply(
        &self,
        executed: &ExecutedBlock,
        commit: &Commit,
        dropped: Dropped,
    ) -> Result<(), BlockError> {
        let count = executed.tx_ids.len();
        let parent = self.tip();
        let parent_time_ms = (parent.height > 0).then_some(parent.time_ms);
        let (new_tip, parts) =
            (self.stages.commit).time(count, || self.storage.commit_block(executed, commit))?;
        // Only once written: after a failed write the next height still reads
        // the block from the overlay until the next decision stops the node.
        self.storage.clear_pending();
        self.stages.commit_parts(count, &parts);
        *self.tip.write().unwrap_or_else(|e| e.into_inner()) = new_tip.clone();
        let next = self.next_context(new_tip.time_ms + 1);
        let mut mempool = self.mempool();
        (self.stages.recheck).time(count, || {
            let txs = &executed.block.txs;
            mempool.on_commit(&self.storage, &next, &executed.tx_ids, dropped, txs);
        });
        self.metrics.set_mempool(mempool.len(), mempool.bytes());
        drop(mempool);
        self.erase_requested(&executed.events)?;
        let interval_ms = parent_time_ms.map(|parent| new_tip.time_ms.saturating_sub(parent));
        (self.metrics).committed(new_tip.height, interval_ms, count, executed.fuel_used);
        let notice = BlockNotice {
            height: new_tip.height,
            hash: new_tip.block_hash,
            time_ms: new_tip.time_ms,
            state_root: new_tip.state_root,
            txs: executed.tx_ids.clone(),
        };
        // No subscribers is fine: the block is committed either way.
        let _ = self.notices.send(notice);
        tracing::info!(height = new_tip.height, hash = %new_tip.block_hash, "committed");
        Ok(())
    }
    /// At start: a block decided before a crash but not applied is applied
    /// now, executed again from the proposal store and checked against the
    /// root its header carries. Returns its tip.
    pub fn apply_decided_after_tip(&self) -> Result<Option<Tip>, BlockError> {
        let Some((commit, bytes)) = self.storage.decided_after_tip()? else {
            return Ok(None);
        };
        let block: Block = encoding::decode(&bytes).map_err(|e| {
            BlockError::Storage(crate::storage::StorageError::Corrupt {
                what: "decided block",
                reason: e.to_string(),
            })
        })?;
        let executed = self.execute_block(block)?;
        let tip = self.commit_block(executed, commit, vec![])?;
        tracing::info!(height = tip.height, hash = %tip.block_hash, "applied a block decided before the last stop");
        Ok(Some(tip))
    }
}
