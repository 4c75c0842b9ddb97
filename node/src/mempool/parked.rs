//! Transactions from peers whose nonce runs ahead of this node's view, held until
//! the gap before them fills.
//!
//! Why: gossip is best effort, and admission is ordered per signer by nonce. One
//! transaction lost or overtaken on its way here used to make every later one
//! from the same signer a nonce gap at this node, and since gossip runs ahead of
//! the blocks, that lasted as long as the load did. Each was refused after its
//! signature check, checked again when a block brought it, and left out of this
//! node's proposals. In one four-validator run of `tamga-bench-cluster` (16,000
//! transfers at full load, then two half loads) one node refused 25,972 of the
//! 56,000 transactions gossiped to it this way and checked 26,746 signatures
//! twice. Held here, they join the queue once the transaction before them is
//! admitted here or committed in a block, in passes within a fuel budget (see
//! `Mempool::promote`).
//!
//! Only peers' transactions are held, and only for a signer with a transaction
//! committed or pending here: a client sending a gap over RPC is told so.
//! Everything is bounded (a quarter of the pool's count and bytes, a share of
//! its bytes per signer, the signer's quota, how far ahead a nonce may be, and
//! [`PARKED_HEIGHTS_MAX`] heights), and a transaction that cannot be held is
//! refused as before: holding only spares work, it never admits what admission
//! would refuse (a held one joins the queue through admission's own checks).

use super::verified::signed_alike;
use super::Pending;
use std::collections::{BTreeMap, HashMap};
use tamga_runtime::types::SignedTx;
use tamga_runtime::{Hash32, PublicKey};

/// Heights a held transaction waits for its gap to fill. The transaction
/// before it is usually in the next block or two (it is in flight, or in a
/// proposal this node has not committed yet); past this it is dropped, and its
/// own block brings it if it is valid (the node it came from still holds it).
pub const PARKED_HEIGHTS_MAX: u64 = 8;

/// How much may be held, from the pool's own limits.
#[derive(Clone, Copy, Debug)]
pub struct ParkedLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// Held transactions per signer, and how far past the next nonce one may be.
    pub signer_txs_max: usize,
    /// Held bytes per signer: one key cannot take all the room.
    pub signer_bytes_max: usize,
}

struct Held {
    pending: Pending,
    since_height: u64,
}

/// The held transactions, by signer and nonce.
pub(super) struct Parked {
    limits: ParkedLimits,
    by_signer: HashMap<PublicKey, BTreeMap<u64, Held>>,
    /// Where each held transaction is, by id.
    ids: HashMap<Hash32, (PublicKey, u64)>,
    bytes: usize,
    /// Held bytes per signer (present while it holds any).
    signer_bytes: HashMap<PublicKey, usize>,
}

impl Parked {
    pub(super) fn new(limits: ParkedLimits) -> Self {
        assert!(limits.txs_max > 0 && limits.bytes_max > 0 && limits.signer_txs_max > 0);
        Parked {
            limits,
            by_signer: HashMap::new(),
            ids: HashMap::new(),
            bytes: 0,
            signer_bytes: HashMap::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn contains(&self, id: &Hash32) -> bool {
        self.ids.contains_key(id)
    }

    /// Whether `signer` has transactions held.
    pub(super) fn holds(&self, signer: &PublicKey) -> bool {
        self.by_signer.contains_key(signer)
    }

    /// The held transaction with this id, if any (checked to be the one the id
    /// names, so a drift of the index could never lend one's check to another).
    fn get(&self, id: &Hash32) -> Option<&Pending> {
        let (signer, nonce) = self.ids.get(id)?;
        let held = &self.by_signer.get(signer)?.get(nonce)?.pending;
        (held.vtx.id == *id).then_some(held)
    }

    /// Holds `pending`, whose signer's next nonce here is `expected` (below its
    /// own), unless that would pass a bound or its nonce is already held: then
    /// it is not held (false), and the caller refuses it as a gap.
    pub(super) fn hold(&mut self, pending: Pending, expected: u64, height: u64) -> bool {
        let tx = &pending.vtx.tx.tx;
        let (signer, nonce) = (tx.signer, tx.nonce);
        assert!(nonce > expected, "only a gap is held");
        let held = self.by_signer.get(&signer).map_or(0, BTreeMap::len);
        let signer_bytes = self.signer_bytes.get(&signer).copied().unwrap_or(0);
        let too_far = nonce - expected > self.limits.signer_txs_max as u64;
        let full = self.ids.len() >= self.limits.txs_max
            || self.bytes + pending.bytes > self.limits.bytes_max
            || held >= self.limits.signer_txs_max
            || signer_bytes + pending.bytes > self.limits.signer_bytes_max;
        let taken = (self.by_signer.get(&signer)).is_some_and(|held| held.contains_key(&nonce));
        if too_far || full || taken {
            return false;
        }
        self.bytes += pending.bytes;
        *self.signer_bytes.entry(signer).or_default() += pending.bytes;
        self.ids.insert(pending.vtx.id, (signer, nonce));
        let held = Held {
            pending,
            since_height: height,
        };
        self.by_signer
            .entry(signer)
            .or_default()
            .insert(nonce, held);
        true
    }

    /// Takes `signer`'s held transaction with nonce `next`, if any, dropping
    /// any it holds below `next` (their nonces are spent: each was committed or
    /// replaced by another transaction with its nonce).
    pub(super) fn take(&mut self, signer: &PublicKey, next: u64) -> Option<Pending> {
        let held = self.by_signer.get_mut(signer)?;
        let below: Vec<u64> = held.range(..next).map(|(nonce, _)| *nonce).collect();
        let mut out: Vec<Held> = below.iter().filter_map(|n| held.remove(n)).collect();
        let taken = held.remove(&next);
        if held.is_empty() {
            self.by_signer.remove(signer);
        }
        out.extend(taken);
        for gone in &out {
            self.forget(signer, &gone.pending.vtx.id, gone.pending.bytes);
        }
        let last = out.pop()?;
        (last.pending.vtx.tx.tx.nonce == next).then_some(last.pending)
    }

    /// Drops what has waited [`PARKED_HEIGHTS_MAX`] heights by `height`.
    pub(super) fn expire(&mut self, height: u64) {
        let mut expired = vec![];
        self.by_signer.retain(|signer, held| {
            held.retain(|_, h| {
                let keep = h.since_height + PARKED_HEIGHTS_MAX > height;
                if !keep {
                    expired.push((*signer, h.pending.vtx.id, h.pending.bytes));
                }
                keep
            });
            !held.is_empty()
        });
        for (signer, id, bytes) in expired {
            self.forget(&signer, &id, bytes);
        }
    }

    /// Uncounts a transaction taken out of `by_signer`.
    fn forget(&mut self, signer: &PublicKey, id: &Hash32, bytes: usize) {
        assert!(self.ids.remove(id).is_some(), "counted when held");
        self.bytes -= bytes;
        let signer_bytes = self
            .signer_bytes
            .get_mut(signer)
            .expect("counted when held");
        *signer_bytes -= bytes;
        if *signer_bytes == 0 {
            self.signer_bytes.remove(signer);
        }
    }

    /// The held copy of `tx`, if it carries the very signatures checked.
    pub(super) fn approvals(&self, id: &Hash32, tx: &SignedTx) -> Option<Vec<PublicKey>> {
        let vtx = &self.get(id)?.vtx;
        let same = signed_alike(&vtx.tx.signature, &vtx.tx.cosignatures, tx);
        same.then(|| vtx.approvals.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::{open_app, registration};

    /// Held transactions of the registrar, each claiming `bytes` encoded bytes.
    fn pending(nonces: &[u64], bytes: usize) -> Vec<Pending> {
        let dir = tempfile::tempdir().unwrap();
        let app = open_app(dir.path());
        let verified = |nonce| tamga_runtime::verify_tx(registration(&app, nonce), &app.chain_id);
        let vtx = |nonce| verified(nonce).unwrap();
        nonces
            .iter()
            .map(|&n| Pending { vtx: vtx(n), bytes })
            .collect()
    }

    fn parked(bytes_max: usize, signer_bytes_max: usize) -> Parked {
        Parked::new(ParkedLimits {
            txs_max: 100,
            bytes_max,
            signer_txs_max: 50,
            signer_bytes_max,
        })
    }

    /// Nothing held is left counted: bytes, per-signer bytes and ids go back to
    /// zero through `take` (the one asked for and any below it) and `expire`.
    fn assert_empty(parked: &Parked) {
        assert_eq!((parked.len(), parked.bytes), (0, 0));
        assert!(parked.signer_bytes.is_empty() && parked.by_signer.is_empty());
    }

    /// Whether two 300-byte transactions of one signer are each held.
    fn hold_two(held: &mut Parked) -> Vec<bool> {
        let two = pending(&[1, 2], 300);
        two.into_iter().map(|p| held.hold(p, 0, 1)).collect()
    }

    #[test]
    fn held_bytes_are_bounded_per_signer_and_in_all() {
        assert_eq!(
            hold_two(&mut parked(10_000, 400)),
            [true, false],
            "per signer"
        );
        assert_eq!(hold_two(&mut parked(500, 10_000)), [true, false], "in all");
        assert_eq!(hold_two(&mut parked(600, 600)), [true, true], "both fit");
    }

    #[test]
    fn taken_and_expired_transactions_are_uncounted() {
        let signer = pending(&[0], 1)[0].vtx.tx.tx.signer;
        let mut held = parked(10_000, 10_000);
        for p in pending(&[2, 3, 4], 100) {
            assert!(held.hold(p, 0, 1));
        }
        let taken = held.take(&signer, 4).expect("nonce 4 is held");
        assert_eq!(taken.vtx.tx.tx.nonce, 4);
        assert_empty(&held);
        for p in pending(&[5, 6], 100) {
            assert!(held.hold(p, 1, 10));
        }
        held.expire(10 + PARKED_HEIGHTS_MAX - 1);
        assert_eq!((held.len(), held.bytes), (2, 200), "not yet");
        held.expire(10 + PARKED_HEIGHTS_MAX);
        assert_empty(&held);
    }
}
