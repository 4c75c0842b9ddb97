//! What a signature check established about a transaction, kept so the same
//! signatures are not checked twice.
//!
//! Two places check signatures: admission (RPC, gossip) and a proposed block's
//! transactions that were not pending here. At full load a proposal often
//! arrives before gossip has delivered its transactions; their gossip copies come
//! later and, without a memory of the block's checks, would be verified again
//! only to be refused as committed. [`RecentChecks`] is that memory, bounded.
//!
//! Reuse is sound because a transaction's id is the hash of everything it holds
//! but its signatures (chain id included), and a copy is only made when the
//! signatures are the very ones checked: the same bytes under the same rules
//! verify the same way.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tamga_runtime::limits::BLOCK_TXS_MAX;
use tamga_runtime::types::{Cosignature, SignedTx};
use tamga_runtime::{Hash32, PublicKey, Signature, VerifiedTx};

/// What a check verified: a transaction's signatures and who they approve.
pub struct Verified {
    signature: Signature,
    cosignatures: Vec<Cosignature>,
    approvals: Vec<PublicKey>,
}

impl Verified {
    pub fn of(vtx: &VerifiedTx) -> Self {
        Verified {
            signature: vtx.tx.signature,
            cosignatures: vtx.tx.cosignatures.clone(),
            approvals: vtx.approvals.clone(),
        }
    }

    /// `tx` (whose id is `id`) as verified, if it carries exactly the signatures
    /// this check verified (the id already fixes everything else).
    pub fn copy(&self, tx: &SignedTx, id: Hash32) -> Option<VerifiedTx> {
        let same = self.signature == tx.signature && self.cosignatures == tx.cosignatures;
        same.then(|| VerifiedTx {
            id,
            tx: tx.clone(),
            approvals: self.approvals.clone(),
        })
    }
}

/// Checks remembered: two blocks' worth, which covers the gossip lag behind a
/// proposal (a block's transactions reach peers within a height or two). An
/// entry is at most about 1.1 KiB (a signature, `COSIGNATURES_MAX` = 8
/// cosignatures and nine approving keys), so the memory stays under about
/// 11 MiB whatever validators propose; the oldest is forgotten first.
pub const RECENT_CHECKS_MAX: usize = 2 * BLOCK_TXS_MAX;

/// The signature checks made for proposed blocks, most recent kept.
#[derive(Default)]
pub struct RecentChecks {
    checks: Mutex<Recent>,
    /// Transactions whose signatures a remembered check spared, for status.
    reused: AtomicU64,
}

#[derive(Default)]
struct Recent {
    by_id: HashMap<Hash32, Verified>,
    /// Ids in the order remembered, for forgetting the oldest.
    order: VecDeque<Hash32>,
}

impl RecentChecks {
    /// Remembers these checks (a block's batch, under one lock).
    pub fn remember<'a>(&self, checked: impl IntoIterator<Item = &'a VerifiedTx>) {
        let mut recent = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        for vtx in checked {
            if recent.by_id.insert(vtx.id, Verified::of(vtx)).is_none() {
                recent.order.push_back(vtx.id);
            }
        }
        while recent.order.len() > RECENT_CHECKS_MAX {
            let oldest = recent.order.pop_front().expect("longer than the limit");
            recent.by_id.remove(&oldest);
        }
        assert_eq!(recent.by_id.len(), recent.order.len(), "one id per entry");
    }

    /// `tx` as a remembered check verified it, if one did with its signatures.
    pub fn copy(&self, tx: &SignedTx, id: Hash32) -> Option<VerifiedTx> {
        let recent = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        let vtx = recent.by_id.get(&id)?.copy(tx, id)?;
        self.reused.fetch_add(1, Ordering::Relaxed);
        Some(vtx)
    }

    /// How many transactions' signatures a remembered check spared.
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tamga_runtime::types::{Payload, Transaction};

    /// A transaction as a check would have passed it (the memory trusts its
    /// caller's check, so no real signature is needed here).
    fn checked(nonce: u64) -> VerifiedTx {
        let signer = PublicKey([1; 32]);
        let tx = SignedTx {
            tx: Transaction {
                chain_id: "test-chain".into(),
                signer,
                nonce,
                payload: Payload::AnchorDocument {
                    document: Hash32([2; 32]),
                },
            },
            signature: Signature([3; 64]),
            cosignatures: vec![],
        };
        VerifiedTx {
            id: tx.id(),
            tx,
            approvals: vec![signer],
        }
    }

    /// A copy needs the very signatures checked: the same id re-signed (or
    /// stripped of a cosignature) is not a copy.
    #[test]
    fn a_copy_needs_the_same_signatures() {
        let recent = RecentChecks::default();
        let vtx = checked(0);
        recent.remember([&vtx]);
        let copy = recent.copy(&vtx.tx, vtx.id).expect("remembered");
        assert_eq!((copy.id, &copy.approvals), (vtx.id, &vtx.approvals));
        let mut forged = vtx.tx.clone();
        forged.signature.0[0] ^= 1;
        assert!(recent.copy(&forged, vtx.id).is_none());
        assert_eq!(recent.reused(), 1, "only the real copy counts");
    }

    /// The memory holds at most its limit, forgetting the oldest first.
    #[test]
    fn the_oldest_checks_are_forgotten_past_the_limit() {
        let recent = RecentChecks::default();
        let first = checked(0);
        recent.remember([&first]);
        let batch: Vec<VerifiedTx> = (1..=RECENT_CHECKS_MAX as u64).map(checked).collect();
        recent.remember(&batch);
        assert_eq!(recent.remembered(), RECENT_CHECKS_MAX);
        assert!(
            recent.copy(&first.tx, first.id).is_none(),
            "oldest forgotten"
        );
        let last = batch.last().expect("a batch");
        assert!(recent.copy(&last.tx, last.id).is_some(), "newest kept");
    }
}
