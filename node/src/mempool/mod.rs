//! The mempool: admission checks and the queue of transactions waiting for a block.
//!
//! Admission runs every check a block would (chain id, signatures, nonce, the record
//! rules) against committed state plus the transactions already pending, in arrival
//! order. So a refusal is immediate, names its rule, and changes nothing; and a
//! block built from the queue in the same order contains only valid transactions.
//! Everything is bounded: transaction count, bytes, transactions per signer (so
//! one key cannot fill the pool and lock everyone else out), and remembered
//! rejections.

pub mod check;
pub mod parked;
pub mod verified;

use crate::storage::Storage;
use parked::{Parked, ParkedLimits};
use std::collections::{HashMap, HashSet, VecDeque};
use tamga_runtime::contracts::vm::limits::{BLOCK_FUEL_MAX, FUEL_PER_CALL};
use tamga_runtime::contracts::BlockFuel;
use tamga_runtime::execute::next_nonce;
use tamga_runtime::state::{CorruptState, Overlay, PendingWrites, Stacked, WriteSet};
use tamga_runtime::types::SignedTx;
use tamga_runtime::{
    apply_tx_metered, BlockContext, Hash32, HashedTx, PublicKey, TxError, VerifiedTx,
};
use verified::Verified;

/// Pending writes kept per pending transaction before a re-run prunes stale ones
/// (a transaction writes a handful of keys; committed ones leave entries behind).
const STALE_WRITES_PER_TX: usize = 8;
const STALE_WRITES_FLOOR: usize = 4096;
/// Rejections remembered for `tx_get`, oldest forgotten first.
const REJECTED_REMEMBERED_MAX: usize = 10_000;
/// Contract fuel one re-check of the pending queue may burn. It runs on the
/// commit path, before the next height starts, so it is bounded like a few
/// blocks' execution (a pool holding that much contract work is what the next
/// few blocks will take); transactions past it leave the pool unjudged, and
/// their senders resubmit.
pub const RECHECK_FUEL_MAX: u64 = 4 * tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX;

/// Contract fuel one pass of promoting held transactions (after an admission,
/// after a commit) may burn under the lock: a quarter of a block's. Without it,
/// one admission could dry-run a signer's whole quota of contract calls (plain
/// transactions burn none: each is dry-run once, as admission would have).
pub const PROMOTE_FUEL_MAX: u64 = BLOCK_FUEL_MAX / 4;

#[derive(Clone, Copy, Debug)]
pub struct MempoolLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// Pending transactions one signer may have at once.
    pub signer_txs_max: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("transaction {0} is already pending")]
    Duplicate(Hash32),
    #[error("transaction {0} was already committed at height {1}")]
    AlreadyCommitted(Hash32, u64),
    #[error("mempool is full ({txs} transactions, {bytes} bytes); try again later")]
    Full { txs: usize, bytes: usize },
    #[error("signer {signer} already has {max} transactions pending, its quota; try again once some commit")]
    SignerQuota { signer: PublicKey, max: usize },
    #[error("storage: {0}")]
    Storage(String),
    /// This node could not check the transaction; it says nothing about it.
    #[error("{0}; try again")]
    Local(TxError),
}

impl AdmitError {
    pub fn reason(&self) -> &'static str {
        match self {
            AdmitError::Tx(e) => e.reason(),
            AdmitError::Duplicate(_) => "tx.duplicate",
            AdmitError::AlreadyCommitted(..) => "tx.already_committed",
            AdmitError::Full { .. } => "mempool.full",
            AdmitError::SignerQuota { .. } => "mempool.signer_quota",
            AdmitError::Storage(_) => "node.storage",
            AdmitError::Local(e) => e.reason(),
        }
    }
}

/// Where an admitted transaction went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// Into the queue: the next blocks this node builds take it.
    Queued,
    /// Held for a nonce gap (a peer's only): it joins the queue when the gap fills.
    Held,
}

struct Pending {
    vtx: VerifiedTx,
    bytes: usize,
}

pub struct Mempool {
    limits: MempoolLimits,
    queue: VecDeque<Pending>,
    /// What admission verified of each pending transaction: a block carrying
    /// the very same signatures needs no second check.
    ids: HashMap<Hash32, Verified>,
    bytes: usize,
    /// Pending transactions per signer, for the quota.
    per_signer: HashMap<PublicKey, usize>,
    /// Writes of every pending transaction, applied in queue order on committed state.
    pending_writes: PendingWrites,
    rejected: HashMap<Hash32, Left>,
    rejected_order: VecDeque<Hash32>,
    /// Peers' transactions waiting for the nonce before theirs (see [`parked`]).
    parked: Parked,
}

/// What the mempool knows of a transaction that is not committed.
pub enum TxStatus {
    Pending,
    Rejected(TxError),
    /// Left the pool without a verdict (this node could not re-check it); the
    /// sender resubmits. The text says why.
    Dropped(&'static str),
}

/// Why a transaction left the pool without being committed.
#[derive(Clone)]
enum Left {
    Rejected(TxError),
    Dropped(&'static str),
}

const DROPPED_RECHECK_BUDGET: &str =
    "left the mempool unjudged: the re-check after a block ran out of its fuel budget; resubmit it";
const DROPPED_POOL_FULL: &str =
    "left the mempool unjudged: the pool was full when its nonce gap filled; resubmit it";
const DROPPED_LOCAL_FAILURE: &str =
    "left the mempool unjudged: this node could not re-check it; resubmit it";

impl Mempool {
    pub fn new(limits: MempoolLimits) -> Self {
        assert!(
            limits.txs_max > 0 && limits.bytes_max > 0 && limits.signer_txs_max > 0,
            "mempool limits must be positive"
        );
        Mempool {
            limits,
            queue: VecDeque::new(),
            ids: HashMap::new(),
            bytes: 0,
            per_signer: HashMap::new(),
            pending_writes: PendingWrites::new(),
            rejected: HashMap::new(),
            rejected_order: VecDeque::new(),
            parked: Parked::new(ParkedLimits {
                txs_max: limits.txs_max.div_ceil(4),
                bytes_max: limits.bytes_max.div_ceil(4),
                signer_txs_max: limits.signer_txs_max,
                signer_bytes_max: limits.bytes_max.div_ceil(16),
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Encoded bytes of the pending transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Peers' transactions held for a nonce gap.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Admits a verified transaction if it is new, fits, and would execute now;
    /// then the signer's held transactions that follow it, in nonce order,
    /// within [`PROMOTE_FUEL_MAX`].
    pub fn admit(
        &mut self,
        storage: &Storage,
        block: &BlockContext,
        vtx: VerifiedTx,
        bytes: usize,
    ) -> Result<(), AdmitError> {
        let (signer, nonce) = (vtx.tx.tx.signer, vtx.tx.tx.nonce);
        self.admit_one(storage, block, vtx, bytes, &BlockFuel::block())?;
        if self.parked.len() > 0 {
            let fuel = BlockFuel::new(PROMOTE_FUEL_MAX);
            self.promote(storage, block, &signer, nonce + 1, &fuel);
        }
        Ok(())
    }

    /// [`Mempool::admit`] for a transaction a peer gossiped: one whose nonce is
    /// ahead of the signer's next here (after promoting any of the signer's
    /// held ones whose gap filled) is held until the gap fills (see
    /// [`parked`]), or refused as a gap if it cannot be held.
    pub fn admit_from_peer(
        &mut self,
        storage: &Storage,
        block: &BlockContext,
        vtx: VerifiedTx,
        bytes: usize,
    ) -> Result<Admitted, AdmitError> {
        if self.parked.contains(&vtx.id) {
            return Err(AdmitError::Duplicate(vtx.id));
        }
        let (signer, got) = (vtx.tx.tx.signer, vtx.tx.tx.nonce);
        let read = |pool: &Self| pool.next_nonce(storage, &signer);
        let mut expected = read(self).map_err(|e| AdmitError::Local(TxError::from(e)))?;
        if got > expected && self.parked.holds(&signer) {
            // Its gap may have filled in a pass that ran out of budget.
            let fuel = BlockFuel::new(PROMOTE_FUEL_MAX);
            self.promote(storage, block, &signer, expected, &fuel);
            expected = read(self).map_err(|e| AdmitError::Local(TxError::from(e)))?;
        }
        if got <= expected {
            self.admit(storage, block, vtx, bytes)?;
            return Ok(Admitted::Queued);
        }
        let gap = TxError::NonceGap {
            signer,
            expected,
            got,
        };
        // Only a signer with a transaction committed or pending here is held
        // for: a stranger's fresh keys cannot take the room.
        let pending = Pending { vtx, bytes };
        match expected > 0 && self.parked.hold(pending, expected, block.height) {
            true => Ok(Admitted::Held),
            false => Err(AdmitError::Tx(gap)),
        }
    }

    /// Moves `signer`'s held transactions into the queue, from nonce `next` on,
    /// while each follows the one before and `fuel` holds a whole call's worth
    /// (the rest wait for the next pass). One that no longer applies is
    /// refused (remembered for `tx_get`), and the rest wait.
    fn promote(
        &mut self,
        storage: &Storage,
        block: &BlockContext,
        signer: &PublicKey,
        next: u64,
        fuel: &BlockFuel,
    ) {
        let mut next = next;
        while fuel.left() >= FUEL_PER_CALL {
            let Some(pending) = self.parked.take(signer, next) else {
                break;
            };
            let id = pending.vtx.id;
            let left = match self.admit_one(storage, block, pending.vtx, pending.bytes, fuel) {
                // (A duplicate cannot be: a queued id's nonce is below `next`.)
                Ok(()) | Err(AdmitError::Duplicate(_)) => {
                    next += 1;
                    continue;
                }
                Err(AdmitError::AlreadyCommitted(..)) => break,
                Err(AdmitError::Tx(error)) if error.is_block_full() => {
                    Left::Dropped(DROPPED_RECHECK_BUDGET)
                }
                Err(AdmitError::Tx(error)) => Left::Rejected(error),
                Err(AdmitError::Full { .. } | AdmitError::SignerQuota { .. }) => {
                    Left::Dropped(DROPPED_POOL_FULL)
                }
                Err(AdmitError::Storage(_) | AdmitError::Local(_)) => {
                    Left::Dropped(DROPPED_LOCAL_FAILURE)
                }
            };
            self.remember(id, left);
            break;
        }
    }

    /// After a block: held transactions past their wait leave (unremembered:
    /// a peer's, which its own node still holds), and the held ones of the
    /// block's `signers` join the queue where the block filled their gap (only
    /// a commit of its signer's transaction fills a gap; a re-check only opens
    /// them), within [`PROMOTE_FUEL_MAX`] for all.
    fn promote_parked(
        &mut self,
        storage: &Storage,
        next_block: &BlockContext,
        signers: &[PublicKey],
    ) {
        self.parked.expire(next_block.height);
        let held: HashSet<PublicKey> = (signers.iter())
            .filter(|signer| self.parked.holds(signer))
            .copied()
            .collect();
        let fuel = BlockFuel::new(PROMOTE_FUEL_MAX);
        for signer in held {
            match self.next_nonce(storage, &signer) {
                Ok(next) => self.promote(storage, next_block, &signer, next, &fuel),
                Err(error) => {
                    tracing::warn!(%signer, %error, "mempool: could not read a held transaction's nonce");
                }
            }
        }
    }

    /// Admits one transaction, as [`Mempool::admit`] says, and nothing held.
    fn admit_one(
        &mut self,
        storage: &Storage,
        block: &BlockContext,
        vtx: VerifiedTx,
        bytes: usize,
        fuel: &BlockFuel,
    ) -> Result<(), AdmitError> {
        if self.ids.contains_key(&vtx.id) || self.parked.contains(&vtx.id) {
            return Err(AdmitError::Duplicate(vtx.id));
        }
        match storage.tx_location(&vtx.id) {
            Ok(Some(location)) => {
                return Err(AdmitError::AlreadyCommitted(vtx.id, location.height))
            }
            Ok(None) => {}
            Err(e) => return Err(AdmitError::Storage(e.to_string())),
        }
        if self.queue.len() >= self.limits.txs_max || self.bytes + bytes > self.limits.bytes_max {
            return Err(AdmitError::Full {
                txs: self.queue.len(),
                bytes: self.bytes,
            });
        }
        let signer = vtx.tx.tx.signer;
        if self.per_signer.get(&signer).copied().unwrap_or(0) >= self.limits.signer_txs_max {
            return Err(AdmitError::SignerQuota {
                signer,
                max: self.limits.signer_txs_max,
            });
        }
        let writes = self.dry_run(storage, block, &vtx, fuel).map_err(|e| {
            if e.is_local() {
                AdmitError::Local(e)
            } else {
                e.into()
            }
        })?;
        self.pending_writes.extend(writes);
        let id = vtx.id;
        self.push(Pending { vtx, bytes });
        // Admitted again (a resubmission after it left unjudged, or once its
        // refusal no longer holds): what was remembered of it no longer applies,
        // and the next re-check must not skip it.
        self.rejected.remove(&id);
        Ok(())
    }

    fn push(&mut self, pending: Pending) {
        self.ids.insert(pending.vtx.id, Verified::of(&pending.vtx));
        self.bytes += pending.bytes;
        *self.per_signer.entry(pending.vtx.tx.tx.signer).or_default() += 1;
        self.queue.push_back(pending);
    }

    /// Forgets one signer's pending transaction in the per-signer counts.
    fn uncount(per_signer: &mut HashMap<PublicKey, usize>, signer: &PublicKey) {
        if let Some(count) = per_signer.get_mut(signer) {
            *count -= 1;
            if *count == 0 {
                per_signer.remove(signer);
            }
        }
    }

    fn dry_run(
        &self,
        storage: &Storage,
        block: &BlockContext,
        vtx: &VerifiedTx,
        fuel: &BlockFuel,
    ) -> Result<WriteSet, TxError> {
        let stacked = Stacked {
            base: storage,
            top: &self.pending_writes,
        };
        let mut overlay = Overlay::new(&stacked);
        apply_tx_metered(&mut overlay, block, vtx, fuel)?;
        Ok(overlay.into_writes())
    }

    /// The nonce `who` should use next, counting pending transactions.
    pub fn next_nonce(&self, storage: &Storage, who: &PublicKey) -> Result<u64, CorruptState> {
        next_nonce(
            &Stacked {
                base: storage,
                top: &self.pending_writes,
            },
            who,
        )
    }

    /// The oldest pending transactions that fit in one block: at most `max` of
    /// them and, with the header's room to spare, at most `BLOCK_BYTES_MAX` bytes.
    pub fn candidates(&self, max: usize) -> Vec<VerifiedTx> {
        let budget = tamga_runtime::limits::BLOCK_BYTES_MAX - 64 * 1024;
        let mut used = 0;
        self.queue
            .iter()
            .take(max)
            .take_while(|p| {
                used += p.bytes + 16;
                used <= budget
            })
            .map(|p| p.vtx.clone())
            .collect()
    }

    /// Who admission found approving a block's transaction, if it is pending here
    /// and carries exactly the signatures admission checked (the id fixes
    /// everything else). Only the keys are copied under the lock.
    pub fn approvals(&self, tx: &HashedTx) -> Option<Vec<PublicKey>> {
        match self.ids.get(&tx.id()) {
            Some(verified) => verified.approvals(tx.tx()).map(<[_]>::to_vec),
            None => self.parked.approvals(&tx.id(), tx.tx()),
        }
    }

    pub fn status(&self, id: &Hash32) -> Option<TxStatus> {
        if self.ids.contains_key(id) || self.parked.contains(id) {
            return Some(TxStatus::Pending);
        }
        self.rejected.get(id).map(|left| match left {
            Left::Rejected(error) => TxStatus::Rejected(error.clone()),
            Left::Dropped(why) => TxStatus::Dropped(why),
        })
    }

    /// After a block commits: forget its transactions and the ones it dropped.
    ///
    /// When every transaction of the block was pending here (the usual case: gossip
    /// delivers them before the block) the pending writes still describe
    /// "committed state + the rest of the queue" — the block applied the same
    /// transactions, and each signer's nonces fix their relative order — so nothing
    /// is re-run. Otherwise, or once stale entries pile up past
    /// [`STALE_WRITES_PER_TX`], the rest is re-run on the new state and any
    /// transaction that no longer applies is rejected. (Admission is a forecast:
    /// every block is executed in full before anyone votes for it.) Then held
    /// transactions whose gap the block filled join the queue, within
    /// [`PROMOTE_FUEL_MAX`].
    pub fn on_commit(
        &mut self,
        storage: &Storage,
        next_block: &BlockContext,
        committed: &[Hash32],
        dropped: Vec<(Hash32, TxError)>,
        block_txs: &[SignedTx],
    ) {
        self.settle(storage, next_block, committed, dropped);
        if self.parked.len() > 0 {
            let signers: Vec<PublicKey> = block_txs.iter().map(|tx| tx.tx.signer).collect();
            self.promote_parked(storage, next_block, &signers);
        }
    }

    /// The block's transactions leave the queue; the rest is re-run if needed.
    fn settle(
        &mut self,
        storage: &Storage,
        next_block: &BlockContext,
        committed: &[Hash32],
        dropped: Vec<(Hash32, TxError)>,
    ) {
        let all_pending =
            dropped.is_empty() && committed.iter().all(|id| self.ids.contains_key(id));
        if all_pending {
            for id in committed {
                self.ids.remove(id);
            }
            let (ids, per_signer, mut freed) = (&self.ids, &mut self.per_signer, 0);
            self.queue.retain(|pending| {
                let keep = ids.contains_key(&pending.vtx.id);
                if !keep {
                    freed += pending.bytes;
                    Self::uncount(per_signer, &pending.vtx.tx.tx.signer);
                }
                keep
            });
            self.bytes -= freed;
            if self.queue.is_empty() {
                self.pending_writes.clear();
            }
            if self.pending_writes.len()
                <= STALE_WRITES_PER_TX * self.queue.len() + STALE_WRITES_FLOOR
            {
                return;
            }
        }
        for (id, error) in dropped {
            self.remember(id, Left::Rejected(error));
        }
        self.rerun(storage, next_block, &committed.iter().copied().collect());
    }

    /// Re-checks the queue on the new state, within [`RECHECK_FUEL_MAX`]: a
    /// transaction the budget cannot cover leaves the pool unjudged (so do the
    /// signer's later ones, whose nonces follow it), the rest are re-checked.
    fn rerun(&mut self, storage: &Storage, next_block: &BlockContext, settled: &HashSet<Hash32>) {
        let queue = std::mem::take(&mut self.queue);
        self.pending_writes.clear();
        self.ids.clear();
        self.per_signer.clear();
        self.bytes = 0;
        let fuel = BlockFuel::new(RECHECK_FUEL_MAX);
        let mut unjudged: HashSet<PublicKey> = HashSet::new();
        for pending in queue {
            let (id, signer) = (pending.vtx.id, pending.vtx.tx.tx.signer);
            if settled.contains(&id) || self.rejected.contains_key(&id) {
                continue;
            }
            if unjudged.contains(&signer) {
                self.remember(id, Left::Dropped(DROPPED_RECHECK_BUDGET));
                continue;
            }
            match self.dry_run(storage, next_block, &pending.vtx, &fuel) {
                Ok(writes) => {
                    self.pending_writes.extend(writes);
                    self.push(pending);
                }
                Err(error) if error.is_block_full() => {
                    unjudged.insert(signer);
                    self.remember(id, Left::Dropped(DROPPED_RECHECK_BUDGET));
                }
                Err(error) if error.is_local() => {
                    tracing::warn!(tx = %id, %error, "mempool: could not re-check a pending transaction");
                    unjudged.insert(signer);
                    self.remember(id, Left::Dropped(DROPPED_LOCAL_FAILURE));
                }
                Err(error) => self.remember(id, Left::Rejected(error)),
            }
        }
        if !unjudged.is_empty() {
            tracing::warn!(
                signers = unjudged.len(),
                fuel = RECHECK_FUEL_MAX,
                "mempool: re-check budget spent; some transactions left the pool unjudged"
            );
        }
    }

    fn remember(&mut self, id: Hash32, left: Left) {
        if self.rejected.insert(id, left).is_none() {
            self.rejected_order.push_back(id);
        }
        while self.rejected_order.len() > REJECTED_REMEMBERED_MAX {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests;
