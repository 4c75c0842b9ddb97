//! Where the node learns how far the chain has gone: Malachite's network actor
//! tells its subscribers of every peer that connects or leaves and of each peer's
//! sync status (its committed tip, broadcast every `status_update_interval`). A
//! small actor subscribed to those events keeps each connected peer's reported
//! tip and sets the consensus peer count and the sync target (the highest tip)
//! in the node's metrics, where the catch-up progress reads them.
//!
//! Bounded by the peers the network actor keeps connected; a peer that leaves is
//! forgotten.

use super::context::TamgaContext;
use crate::metrics::{Metrics, CONSENSUS_NETWORK};
use arc_malachitebft_app_channel::app::types::PeerId;
use arc_malachitebft_engine::network::{Msg as NetworkActorMsg, NetworkEvent, NetworkRef};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What the watcher hears (everything else the network says is dropped at once).
pub enum PeerEvent {
    Connected(PeerId),
    Disconnected(PeerId),
    Tip(PeerId, u64),
    Other,
}

impl From<NetworkEvent<TamgaContext>> for PeerEvent {
    fn from(event: NetworkEvent<TamgaContext>) -> Self {
        match event {
            NetworkEvent::PeerConnected(peer) => PeerEvent::Connected(peer),
            NetworkEvent::PeerDisconnected(peer) => PeerEvent::Disconnected(peer),
            NetworkEvent::Status(peer, status) => PeerEvent::Tip(peer, status.tip_height.0),
            _ => PeerEvent::Other,
        }
    }
}

/// Connected peers and the tips they reported.
#[derive(Default)]
pub struct Peers {
    connected: HashSet<PeerId>,
    tips: HashMap<PeerId, u64>,
}

impl Peers {
    /// Applies one event; true when the count or the target may have changed.
    fn apply(&mut self, event: PeerEvent) -> bool {
        match event {
            PeerEvent::Connected(peer) => self.connected.insert(peer),
            PeerEvent::Disconnected(peer) => {
                self.tips.remove(&peer);
                self.connected.remove(&peer)
            }
            // A status can only come from a connected peer.
            PeerEvent::Tip(peer, tip) if self.connected.contains(&peer) => {
                self.tips.insert(peer, tip) != Some(tip)
            }
            PeerEvent::Tip(..) | PeerEvent::Other => false,
        }
    }

    /// The highest tip two connected peers vouch for: the second-highest report,
    /// so one peer claiming a far-off tip cannot set the target alone; with one
    /// peer, its tip (0: none has reported).
    fn target(&self) -> u64 {
        let mut tips: Vec<u64> = self.tips.values().copied().collect();
        tips.sort_unstable_by(|a, b| b.cmp(a));
        tips.get(1).or(tips.first()).copied().unwrap_or(0)
    }
}

/// The watcher actor: its state is [`Peers`].
pub struct PeerWatch;

#[ractor::async_trait]
impl Actor for PeerWatch {
    type Msg = PeerEvent;
    type State = (Peers, Arc<Metrics>);
    type Arguments = Arc<Metrics>;

    async fn pre_start(
        &self,
        _myself: ActorRef<PeerEvent>,
        metrics: Arc<Metrics>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((Peers::default(), metrics))
    }

    async fn handle(
        &self,
        _myself: ActorRef<PeerEvent>,
        event: PeerEvent,
        (peers, metrics): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if peers.apply(event) {
            metrics.set_peers(CONSENSUS_NETWORK, peers.connected.len());
            metrics.set_sync_target(peers.target());
        }
        Ok(())
    }
}

/// Starts a watcher subscribed to `network`'s events; stop it with the engine.
pub async fn watch(
    network: &NetworkRef<TamgaContext>,
    metrics: Arc<Metrics>,
) -> eyre::Result<ActorRef<PeerEvent>> {
    metrics.set_peers(CONSENSUS_NETWORK, 0);
    let (watcher, _) = Actor::spawn(None, PeerWatch, metrics).await?;
    network.cast(NetworkActorMsg::Subscribe(Box::new(watcher.clone())))?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        let key = libp2p::identity::Keypair::ed25519_from_bytes([n; 32]).expect("a key");
        PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).expect("a peer id")
    }

    #[test]
    fn the_target_is_the_highest_tip_two_connected_peers_vouch_for() {
        let mut peers = Peers::default();
        assert!(
            !peers.apply(PeerEvent::Tip(peer(1), 50)),
            "not connected yet"
        );
        assert!(peers.apply(PeerEvent::Connected(peer(1))));
        assert!(peers.apply(PeerEvent::Connected(peer(2))));
        assert!(peers.apply(PeerEvent::Tip(peer(1), 50)));
        assert!(peers.apply(PeerEvent::Tip(peer(2), 70)));
        assert!(!peers.apply(PeerEvent::Tip(peer(2), 70)), "no change");
        assert_eq!(peers.target(), 50, "one peer alone does not set the target");
        assert!(peers.apply(PeerEvent::Connected(peer(3))));
        assert!(peers.apply(PeerEvent::Tip(peer(3), u64::MAX)));
        assert_eq!(peers.target(), 70, "a far-off claim needs a second peer");
        assert!(peers.apply(PeerEvent::Disconnected(peer(3))));
        assert!(peers.apply(PeerEvent::Disconnected(peer(2))));
        assert_eq!((peers.target(), peers.connected.len()), (50, 1));
    }
}
