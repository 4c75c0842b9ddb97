//! Admission into this node's mempool: a client's transactions (refused
//! with the rule they break, then gossiped) and batches gossiped by peers
//! (checked on every core, admitted in order, a nonce gap held).

use super::App;
use crate::mempool::check::{check_all, check_bytes, check_parallel_parts, Checked};
use crate::mempool::{AdmitError, Admitted, Mempool};
use tamga_runtime::{BlockContext, Hash32, VerifiedTx};

/// What became of one gossiped batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GossipAdmission {
    pub admitted: usize,
    /// Well-formed and signed, held here for a nonce gap: not admitted, so a
    /// batch of nothing else is not passed on (the node that admitted them
    /// published them to its own peers).
    pub held: usize,
    /// Well-formed and signed, but refused here (a duplicate, a spent nonce, a
    /// rule): an honest relay may pass these on.
    pub refused: usize,
    /// Malformed, wrongly signed or for another chain: proof the sender is not
    /// an honest relay.
    pub forged: usize,
}

impl App {
    /// Admits a client's verified transaction into the mempool and gossips it.
    /// A full gossip queue only delays it: this node's own proposals include it
    /// anyway. A nonce gap is refused, so the client hears of it.
    pub fn admit(&self, vtx: VerifiedTx, bytes: Vec<u8>) -> Result<Hash32, AdmitError> {
        let id = vtx.id;
        self.admit_with(|mempool, ctx| mempool.admit(&self.storage, ctx, vtx, bytes.len()))?;
        if let Some(gossip) = self.gossip.get() {
            let _ = gossip.try_send(bytes);
        }
        Ok(id)
    }

    /// Admits a peer's verified transaction; one whose nonce is ahead is held
    /// until the gap fills (see [`crate::mempool::parked`]).
    fn admit_from_peer(&self, vtx: VerifiedTx, bytes: usize) -> Result<Admitted, AdmitError> {
        self.admit_with(|mempool, ctx| mempool.admit_from_peer(&self.storage, ctx, vtx, bytes))
    }

    /// Runs one admission under the mempool's lock, timed as a dry run, for the
    /// block this node would build next.
    fn admit_with<T>(
        &self,
        admission: impl FnOnce(&mut Mempool, &BlockContext) -> Result<T, AdmitError>,
    ) -> Result<T, AdmitError> {
        let ctx = self.next_context(crate::clock::now_ms());
        let mut mempool = self.mempool();
        let admitted = self
            .stages
            .dry_run
            .time(1, || admission(&mut mempool, &ctx))?;
        self.metrics.set_mempool(mempool.len(), mempool.bytes());
        Ok(admitted)
    }

    /// Decodes and verifies a transaction received from outside, by RPC or
    /// gossip (the stateless half of admission, done outside the mempool lock).
    pub fn check_received(&self, bytes: Vec<u8>) -> Checked {
        check_bytes(&self.chain_id, &self.recent_checks, bytes)
    }

    /// [`Self::check_received`] of each, their signatures checked in one batch.
    pub fn check_received_all(&self, all: Vec<Vec<u8>>) -> Vec<Checked> {
        check_all(&self.chain_id, &self.recent_checks, all)
    }

    /// Admits transactions gossiped by peers, checked on every core, in order.
    pub fn admit_gossiped(&self, txs: &[Vec<u8>]) -> GossipAdmission {
        let checked = check_parallel_parts(txs, &self.stages.verify, |part| {
            self.check_received_all(part.to_vec())
        });
        let mut outcome = GossipAdmission::default();
        for result in checked {
            match result {
                Ok((vtx, bytes)) => match self.admit_from_peer(vtx, bytes.len()) {
                    Ok(Admitted::Queued) => outcome.admitted += 1,
                    Ok(Admitted::Held) => outcome.held += 1,
                    Err(_) => outcome.refused += 1,
                },
                // Bad encoding, signature or chain: no honest node relays it.
                Err(_) => outcome.forged += 1,
            }
        }
        outcome
    }
}
