//! A decided block while its commit batch is still being written: the block's
//! commit certificate, kept durably first, and its state writes and tree nodes,
//! which the next block's execution, state root, validator set and the mempool
//! read before RocksDB has them (see `App::decide`).
//!
//! Why: at a million records the commit's batch, memtable inserts and synced
//! log took 21-28 µs per transfer on the one thread every block waits for
//! (2026-12-07). With the decision durable on its own (one small synced
//! write), the rest can be written beside the next block's execution: a crash
//! in between leaves the certificate and the proposal store's block, and the
//! node applies that block again as it starts ([`Storage::decided_after_tip`]).
//!
//! RPC's reads of records, indexes, proofs, certificates and contract queries
//! do not read this overlay ([`Applied`]): they see the block once its batch
//! is written, with its indexes. (The next nonce a client is told to sign
//! with does read it, as it reads the mempool's pending transactions.)

use super::*;
use jmt::storage::{Node, NodeKey};
use std::sync::Arc;
use tamga_runtime::types::Commit;

/// `CF_META` key of the last decided block's commit certificate.
const META_DECIDED: &[u8] = b"decided";

impl Storage {
    /// Keeps `commit` (a decided block's certificate) durably, before anything
    /// at the next height is built or signed. Its block is in the proposal
    /// store already (every path to a decision saves it, synced, first) and
    /// leaves it only in the batch that commits it.
    pub fn record_decided(&self, commit: &Commit) -> Result<(), StorageError> {
        let mut batch = rocksdb::WriteBatch::default();
        batch.put_cf(self.cf(CF_META), META_DECIDED, encoding::encode(commit));
        self.write(batch)
    }

    /// A decided block above the committed tip, if a crash came between its
    /// certificate's write and its commit batch's: its certificate and its
    /// bytes from the proposal store. At most one: a block is decided only
    /// once the one before it was applied (`App::decide` refuses otherwise).
    pub fn decided_after_tip(&self) -> Result<Option<(Commit, Vec<u8>)>, StorageError> {
        let tip = self.tip()?.map_or(0, |tip| tip.height);
        let decided: Option<Commit> = self.get_decoded(CF_META, META_DECIDED, "decided commit")?;
        let Some(commit) = decided.filter(|commit| commit.height > tip) else {
            return Ok(None);
        };
        if commit.height != tip + 1 {
            return Err(StorageError::Corrupt {
                what: "decided commit",
                reason: format!("height {} above the tip {tip} + 1", commit.height),
            });
        }
        let Some(block) = self.proposal(commit.height, &commit.block_hash)? else {
            return Err(StorageError::Corrupt {
                what: "decided block",
                reason: format!(
                    "block {} of height {} is not in the proposal store",
                    commit.block_hash, commit.height
                ),
            });
        };
        Ok(Some((commit, block)))
    }

    /// From now until [`Self::clear_pending`], execution reads `executed`'s
    /// writes and tree nodes before the caches and the disk.
    pub(crate) fn set_pending(&self, executed: Arc<ExecutedBlock>) {
        let mut pending = self.pending.write().unwrap_or_else(|e| e.into_inner());
        assert!(pending.is_none(), "one block applies at a time");
        *pending = Some(executed);
    }

    /// After the pending block's batch is written and the caches hold it.
    pub(crate) fn clear_pending(&self) {
        *self.pending.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The pending block's write to `key`: `Some(None)` if it deletes it,
    /// `None` if it does not write it (or no block is pending).
    pub(super) fn pending_value(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let pending = self.pending.read().unwrap_or_else(|e| e.into_inner());
        pending.as_ref()?.writes.get(key).cloned()
    }

    /// A tree node the pending block made.
    pub(super) fn pending_node(&self, key: &NodeKey) -> Option<Node> {
        let pending = self.pending.read().unwrap_or_else(|e| e.into_inner());
        pending.as_ref()?.tree.node_batch.nodes().get(key).cloned()
    }
}

/// Applied state only, for RPC: what [`Storage`]'s own reads give without the
/// pending block, and without adding what it reads from disk to the value
/// cache (a caller's reads must not evict the values blocks need).
pub struct Applied<'a>(pub &'a Storage);

impl StateRead for Applied<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.0.state_raw(key, false) {
            Ok(value) => value,
            Err(e) => panic!("state read failed; stopping rather than diverging: {e}"),
        }
    }
}
