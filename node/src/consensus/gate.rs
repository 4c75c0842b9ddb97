//! Why this exists: a node that accepts only listed peers
//! (`p2p.accept_unlisted_peers` off, a validator's default) must give an
//! unlisted peer nothing. Malachite's network (0.8.2) closes such a peer's
//! connection only once the peer's identify message arrives. Until then, and
//! for as long as a peer withholds identify, its value-sync requests reach the
//! sync actor, which answers them with blocks; its votes and proposal parts
//! reach consensus; and once it subscribes to the broadcast channels, this
//! node sends it every proposal part and vote. (A full-suite run saw an
//! unlisted node fetch 6 blocks; `tests/src/stranger.rs` is such a peer.)
//!
//! The gate sits between the network actor and every subscriber to its events
//! (consensus, sync, the peer watcher): a proxy forwards every command to the
//! network unchanged and puts a filter in front of each subscriber. The filter
//! drops every event an unlisted peer caused, cancels an unlisted peer's sync
//! request unanswered (releasing its stream slot), and has the network close
//! that peer's connections. What is left: the broadcasts sent to a peer between
//! its subscription and the close (an actor hop or two), once per connection;
//! Malachite throttles reconnections per IP.
//!
//! Cost: one set lookup and one actor hop per inbound event, and one hop per
//! command. Bounded: one filter per subscriber, and the engine has three.

use super::context::TamgaContext;
use arc_malachitebft_app_channel::app::types::PeerId;
use arc_malachitebft_engine::network::{NetworkEvent, NetworkMsg, NetworkRef, Subscriber};
use arc_malachitebft_network::validator_proof::ProofVerificationResult;
use arc_malachitebft_sync::InboundRequestId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::HashSet;
use std::sync::Arc;

/// The peers a gated node talks to.
pub type Listed = Arc<HashSet<PeerId>>;

/// What the filter does with one event.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// An event that only reports on an unlisted peer (it left, or a request
    /// of its failed): dropped.
    Drop,
    /// Something an unlisted peer did: dropped, its sync request (if it is
    /// one) cancelled, and its connections closed.
    Refuse {
        peer: PeerId,
        request: Option<InboundRequestId>,
    },
}

/// The verdict on `event` for a node that talks only to `listed`.
pub fn verdict(listed: &HashSet<PeerId>, event: &NetworkEvent<TamgaContext>) -> Verdict {
    let Some(peer) = caused_by(event) else {
        return Verdict::Pass;
    };
    if listed.contains(peer) {
        return Verdict::Pass;
    }
    match event {
        NetworkEvent::PeerDisconnected(_)
        | NetworkEvent::SyncRequestFailed(..)
        | NetworkEvent::SyncInboundRequestFailed(..) => Verdict::Drop,
        NetworkEvent::SyncRequest(id, ..) => Verdict::Refuse {
            peer: *peer,
            request: Some(id.clone()),
        },
        _ => Verdict::Refuse {
            peer: *peer,
            request: None,
        },
    }
}

/// The peer an event comes from or is about; `None` only for this node's own
/// listening address. Every variant is named, so an engine upgrade that adds
/// one does not compile until it is judged here.
fn caused_by(event: &NetworkEvent<TamgaContext>) -> Option<&PeerId> {
    match event {
        NetworkEvent::Listening(_) => None,
        NetworkEvent::PeerConnected(peer)
        | NetworkEvent::PeerDisconnected(peer)
        | NetworkEvent::PeerSubscribed(peer, _)
        | NetworkEvent::Vote(peer, _)
        | NetworkEvent::Proposal(peer, _)
        | NetworkEvent::ProposalPart(peer, ..)
        | NetworkEvent::PolkaCertificate(peer, _)
        | NetworkEvent::RoundCertificate(peer, _)
        | NetworkEvent::ValidatorProofReceived { peer_id: peer, .. }
        | NetworkEvent::Status(peer, _)
        | NetworkEvent::SyncRequest(_, peer, _)
        | NetworkEvent::SyncResponse(_, peer, _)
        | NetworkEvent::SyncRequestFailed(_, peer, _)
        | NetworkEvent::SyncInboundRequestFailed(_, peer) => Some(peer),
    }
}

/// Starts the gate in front of `network`; the engine and every subscriber use
/// the returned reference in its place. The gate is linked to the network, so
/// it stops with it.
pub async fn start(
    network: NetworkRef<TamgaContext>,
    listed: Listed,
) -> eyre::Result<NetworkRef<TamgaContext>> {
    let supervisor = network.get_cell();
    let (gate, _) = Actor::spawn_linked(None, Proxy, (network, listed), supervisor).await?;
    Ok(gate)
}

/// Forwards every command to the network; a subscription goes through a filter.
struct Proxy;

#[ractor::async_trait]
impl Actor for Proxy {
    type Msg = NetworkMsg<TamgaContext>;
    type State = (NetworkRef<TamgaContext>, Listed);
    type Arguments = (NetworkRef<TamgaContext>, Listed);

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(args)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        (network, listed): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let NetworkMsg::Subscribe(downstream) = msg else {
            network.cast(msg)?;
            return Ok(());
        };
        let state = FilterState {
            downstream,
            listed: listed.clone(),
            network: network.clone(),
        };
        let (filter, _) = Actor::spawn_linked(None, Filter, state, myself.get_cell()).await?;
        network.cast(NetworkMsg::Subscribe(Box::new(filter)))?;
        Ok(())
    }
}

/// One event from the network, on its way to one subscriber.
pub struct FilterEvent(NetworkEvent<TamgaContext>);

impl From<NetworkEvent<TamgaContext>> for FilterEvent {
    fn from(event: NetworkEvent<TamgaContext>) -> Self {
        FilterEvent(event)
    }
}

/// Passes one subscriber the events of listed peers only.
struct Filter;

struct FilterState {
    downstream: Box<dyn Subscriber<NetworkEvent<TamgaContext>>>,
    listed: Listed,
    network: NetworkRef<TamgaContext>,
}

#[ractor::async_trait]
impl Actor for Filter {
    type Msg = FilterEvent;
    type State = FilterState;
    type Arguments = FilterState;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        FilterEvent(event): Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (peer, request) = match verdict(&state.listed, &event) {
            Verdict::Pass => {
                state.downstream.send(event);
                return Ok(());
            }
            Verdict::Drop => return Ok(()),
            Verdict::Refuse { peer, request } => (peer, request),
        };
        // Each subscriber's filter sends these; the network ignores a request
        // it no longer holds and a peer it is no longer connected to.
        if let Some(id) = request {
            state.network.cast(NetworkMsg::CancelInboundRequest(id))?;
        }
        tracing::debug!(%peer, "closing an unlisted peer's consensus connection");
        // Malachite's only command that closes a peer's connections: the
        // verdict on a validator proof. Invalid makes it disconnect the peer.
        state.network.cast(NetworkMsg::ValidatorProofVerified {
            peer_id: peer,
            result: ProofVerificationResult::Invalid,
            public_key: None,
        })?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
