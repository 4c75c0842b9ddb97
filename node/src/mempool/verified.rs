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

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tamga_runtime::limits::BLOCK_TXS_MAX;
use tamga_runtime::types::{Cosignature, SignedTx};
use tamga_runtime::{Hash32, HashedTx, PublicKey, Signature, VerifiedTx};

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

    /// Who this check found approving `tx`, if `tx` carries exactly the
    /// signatures and cosignatures it verified, in the same order (the id, which
    /// the caller looked this check up by, fixes everything else). A copy with
    /// one cosignature forged, dropped, added or moved is not the same check.
    pub fn approvals(&self, tx: &SignedTx) -> Option<&[PublicKey]> {
        let same = signed_alike(&self.signature, &self.cosignatures, tx);
        same.then_some(self.approvals.as_slice())
    }
}

/// Whether `tx` carries exactly this signature and these cosignatures, in this
/// order: the condition for reusing a check of a transaction with its id.
pub(super) fn signed_alike(
    signature: &Signature,
    cosignatures: &[Cosignature],
    tx: &SignedTx,
) -> bool {
    *signature == tx.signature && cosignatures == tx.cosignatures.as_slice()
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
    /// Remembers these checks (a block's batch, under one lock). Each must have
    /// passed this chain's whole check: the size limit and every signature
    /// verified for this node's chain id (reuse trusts it).
    pub(crate) fn remember<'a>(&self, checked: impl IntoIterator<Item = &'a VerifiedTx>) {
        let mut recent = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        // The first check of an id stays until forgotten, and a later one with
        // other valid signatures neither replaces it nor renews its place (the
        // order and the map stay one entry per id). Either way only speed is at
        // stake: a copy whose signatures differ is checked afresh.
        for vtx in checked {
            if let Entry::Vacant(entry) = recent.by_id.entry(vtx.id) {
                entry.insert(Verified::of(vtx));
                recent.order.push_back(vtx.id);
            }
        }
        while recent.order.len() > RECENT_CHECKS_MAX {
            let oldest = recent.order.pop_front().expect("longer than the limit");
            recent.by_id.remove(&oldest);
        }
        assert_eq!(recent.by_id.len(), recent.order.len(), "one id per entry");
    }

    /// Who a remembered check found approving `tx`, if one verified its very
    /// signatures. Only the keys are copied under the lock.
    pub fn approvals(&self, tx: &HashedTx) -> Option<Vec<PublicKey>> {
        let recent = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        let approvals = recent.by_id.get(&tx.id())?.approvals(tx.tx())?.to_vec();
        drop(recent);
        self.reused.fetch_add(1, Ordering::Relaxed);
        Some(approvals)
    }

    /// How many transactions' signatures a remembered check spared (the
    /// mempool's own copies, a proposal's transactions pending here, are not
    /// counted: this is the memory's worth alone).
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

    /// A cosigner's signature (made up: the memory trusts its caller's check).
    fn cosignature(byte: u8) -> Cosignature {
        Cosignature {
            signer: PublicKey([byte; 32]),
            signature: Signature([byte; 64]),
        }
    }

    /// A transaction with two cosignatures, as a check would have passed it (no
    /// real signature is needed: the memory trusts its caller's check).
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
            cosignatures: vec![cosignature(4), cosignature(5)],
        };
        let approvals = vec![signer, PublicKey([4; 32]), PublicKey([5; 32])];
        VerifiedTx {
            id: tx.id(),
            tx,
            approvals,
        }
    }

    fn lookup(recent: &RecentChecks, tx: &SignedTx) -> Option<Vec<PublicKey>> {
        recent.approvals(&HashedTx::new(tx.clone()))
    }

    /// A change made to a copy of a checked transaction.
    type Change = fn(&mut SignedTx);

    /// A copy needs the very signatures checked: the same id with its signature
    /// or a cosignature forged, a cosignature dropped, added or moved, is not a
    /// copy (each would approve, or be refused, differently on another node).
    #[test]
    fn a_copy_needs_the_same_signatures() {
        let recent = RecentChecks::default();
        let vtx = checked(0);
        recent.remember([&vtx]);
        assert_eq!(lookup(&recent, &vtx.tx), Some(vtx.approvals.clone()));
        let changes: [(&str, Change); 5] = [
            ("signature forged", |tx| tx.signature.0[0] ^= 1),
            ("cosignature forged", |tx| {
                tx.cosignatures[1].signature.0[0] ^= 1
            }),
            ("cosignature dropped", |tx| tx.cosignatures.truncate(1)),
            ("cosignature added", |tx| {
                tx.cosignatures.push(cosignature(6))
            }),
            ("cosignatures moved", |tx| tx.cosignatures.swap(0, 1)),
        ];
        for (change, apply) in changes {
            let mut copy = vtx.tx.clone();
            apply(&mut copy);
            assert_eq!(copy.id(), vtx.id, "{change}: same id");
            assert_eq!(lookup(&recent, &copy), None, "{change}: not a copy");
        }
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
        assert!(lookup(&recent, &first.tx).is_none(), "oldest forgotten");
        let last = batch.last().expect("a batch");
        assert!(lookup(&recent, &last.tx).is_some(), "newest kept");
    }
}
