//! How this node's batches go out on the gossip topic. Gossipsub's publish
//! fails when no connected peer has joined the topic (a node just started, or
//! cut off) or every joined peer's send queue is full, and drops the batch; a
//! transaction admitted then would reach no other proposer, and on a full node,
//! which never proposes, would commit nowhere. So such a batch is kept
//! ([`Unsent`]) and published later: once every listed peer has joined (so no
//! single early peer, perhaps one far behind that holds the transactions for a
//! nonce gap and does not forward them, is the only one to get them), at the
//! next redial tick, or before the next batch. Kept batches go first, so peers
//! receive a signer's transactions in the order this node admitted them.
//!
//! A retry is a new message to gossipsub (its default message id is the source
//! and a sequence number, not the content), so it is never refused as a
//! duplicate; a peer that got the first copy refuses the second at admission.

use super::unsent::Unsent;
use libp2p::gossipsub::{self, IdentTopic, PublishError};
use libp2p::PeerId;
use std::collections::HashSet;
use tamga_runtime::types::encoding;

pub struct Publisher {
    pub topic: IdentTopic,
    unsent: Unsent,
    /// Whether anyone could ever join: false on a node with no listed peer that
    /// accepts no unlisted one (a lone dev validator), which keeps nothing.
    keep: bool,
    /// The peers listed in the config (this node left out): once all have
    /// joined, kept batches go at once instead of at the next tick.
    listed: HashSet<PeerId>,
    /// A batch was refused since the kept ones last all went: later ones are
    /// refused too (what is kept stays a prefix of what was admitted), and the
    /// warning is given once.
    overflowed: bool,
}

impl Publisher {
    pub fn new(topic: IdentTopic, listed: HashSet<PeerId>, keep: bool) -> Publisher {
        Publisher {
            topic,
            unsent: Unsent::default(),
            keep,
            listed,
            overflowed: false,
        }
    }

    /// Publishes a batch after the kept ones, or keeps it when they still wait
    /// or no peer could take it.
    pub fn send(&mut self, gossip: &mut gossipsub::Behaviour, txs: Vec<Vec<u8>>) {
        self.send_unsent(gossip);
        if !self.unsent.is_empty() {
            self.hold(txs);
            return;
        }
        if let Err(txs) = self.publish(gossip, txs) {
            self.hold(txs);
        }
    }

    /// A peer joined the topic: the kept batches go once every listed peer has
    /// (any one, when none is listed by id); else at the next tick or batch.
    pub fn on_joined(&mut self, gossip: &mut gossipsub::Behaviour) {
        if self.unsent.is_empty() {
            return;
        }
        let listed = |id: &&PeerId| self.listed.is_empty() || self.listed.contains(*id);
        if self.joined(gossip).filter(listed).count() >= self.listed.len().max(1) {
            self.send_unsent(gossip);
        }
    }

    /// Publishes the kept batches, oldest first, until one finds no taker.
    pub fn send_unsent(&mut self, gossip: &mut gossipsub::Behaviour) {
        if self.unsent.is_empty() {
            return;
        }
        while let Some(txs) = self.unsent.take() {
            if let Err(txs) = self.publish(gossip, txs) {
                self.unsent.put_back(txs);
                return;
            }
        }
        self.overflowed = false;
    }

    /// Publishes `txs`; gives them back when no peer could take them now.
    fn publish(
        &self,
        gossip: &mut gossipsub::Behaviour,
        txs: Vec<Vec<u8>>,
    ) -> Result<(), Vec<Vec<u8>>> {
        // Gossipsub encodes and signs a message before it finds no one to send
        // it to: up to 2 MiB hashed per try, on every batch and tick while cut off.
        if self.joined(gossip).next().is_none() {
            return Err(txs);
        }
        match gossip.publish(self.topic.clone(), encoding::encode(&txs)) {
            Ok(_) => Ok(()),
            Err(PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_)) => {
                Err(txs)
            }
            // Too large or a duplicate: no later try would go better.
            Err(e) => {
                tracing::warn!(count = txs.len(), error = %e, "gossip: batch not published");
                Ok(())
            }
        }
    }

    /// The connected peers that have joined the topic (publish needs one).
    fn joined<'a>(
        &self,
        gossip: &'a gossipsub::Behaviour,
    ) -> impl Iterator<Item = &'a PeerId> + 'a {
        let hash = self.topic.hash();
        let peers = gossip.all_peers();
        peers.filter_map(move |(id, topics)| topics.contains(&&hash).then_some(id))
    }

    fn hold(&mut self, txs: Vec<Vec<u8>>) {
        if !self.keep || self.overflowed {
            return;
        }
        let dropped = self.unsent.keep(txs);
        if dropped > 0 {
            self.overflowed = true;
            tracing::warn!(
                dropped,
                "gossip: no peer has taken this node's batches and the ones kept are at their bound; newer transactions stay in this node's mempool only"
            );
        }
    }
}
