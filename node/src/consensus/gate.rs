//! Why this exists: a node that accepts only listed peers
//! (`p2p.accept_unlisted_peers` off, a validator's default) must give an
//! unlisted peer nothing. Malachite's network (0.8.2) closes such a peer's
//! connection only once the peer's identify message arrives. Until then, and
//! for as long as a peer withholds identify, its value-sync requests reach the
//! sync actor, which answers them with blocks; its votes and proposal parts
//! reach consensus; and once it subscribes to the broadcast channels, this
//! node sends it every proposal part and vote. (`tests/src/stranger.rs` is
//! such a peer: without the gate a validator answered its request with 5
//! blocks, and sent it 27 consensus messages in 2 s.)
//!
//! The gate sits between the network actor and every subscriber to its events
//! (consensus, sync, the peer watcher): a proxy forwards every command to the
//! network unchanged and puts a filter in front of each subscriber. The filter
//! drops every event an unlisted peer caused, cancels an unlisted peer's sync
//! request unanswered (releasing its stream slot), and has the network close
//! that peer's connections. What is left: what this node broadcasts to a peer
//! between its subscription and the close (the event's and the command's trips
//! through the network actor's queues), once per connection; and what
//! Malachite sends every new connection (this node's identify and validator
//! proof). Malachite throttles reconnections from an IP for 30 s, except from
//! an IP one of the listed peers has.
//!
//! Cost: one set lookup and one actor hop per inbound event, and one hop per
//! command. Bounded: one filter per subscriber, and the engine has three; a
//! stranger costs one cancel per sync request and one close per connection
//! (another each second it is still heard from).

use super::context::TamgaContext;
use arc_malachitebft_app_channel::app::types::PeerId;
use arc_malachitebft_engine::network::{NetworkEvent, NetworkMsg, NetworkRef, Subscriber};
use arc_malachitebft_network::validator_proof::ProofVerificationResult;
use arc_malachitebft_sync::InboundRequestId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
/// the returned reference in its place. Linked to the network until the engine
/// builder links it to the engine (which must then supervise the network too:
/// see `build_engine`).
pub async fn start(
    network: NetworkRef<TamgaContext>,
    listed: Listed,
) -> eyre::Result<NetworkRef<TamgaContext>> {
    let supervisor = network.get_cell();
    let state = ProxyState {
        network,
        listed,
        filters: 0,
    };
    let (gate, _) = Actor::spawn_linked(None, Proxy, state, supervisor).await?;
    Ok(gate)
}

/// Forwards every command to the network; a subscription goes through a filter.
struct Proxy;

struct ProxyState {
    network: NetworkRef<TamgaContext>,
    listed: Listed,
    /// Filters started so far: the first one acts on refusals.
    filters: usize,
}

#[ractor::async_trait]
impl Actor for Proxy {
    type Msg = NetworkMsg<TamgaContext>;
    type State = ProxyState;
    type Arguments = ProxyState;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        proxy: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let NetworkMsg::Subscribe(downstream) = msg else {
            proxy.network.cast(msg)?;
            return Ok(());
        };
        let state = FilterState {
            downstream,
            listed: proxy.listed.clone(),
            network: proxy.network.clone(),
            acts: proxy.filters == 0,
            closing: HashMap::new(),
        };
        proxy.filters += 1;
        let (filter, _) = Actor::spawn_linked(None, Filter, state, myself.get_cell()).await?;
        proxy
            .network
            .cast(NetworkMsg::Subscribe(Box::new(filter)))?;
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

/// Unlisted peers told to close and not yet gone: a bound on a set that
/// normally holds the strangers connected at one moment (Malachite limits
/// inbound connections per IP); past it, the set starts again (at worst one
/// more close command per peer).
const CLOSING_MAX: usize = 1024;
/// A peer still heard from this long after its close is closed again: the
/// close reaches only the connections open at that moment, and a stranger
/// that keeps a newer one open never gets as far as a disconnection.
const CLOSE_AGAIN_MS: u64 = 1_000;

struct FilterState {
    downstream: Box<dyn Subscriber<NetworkEvent<TamgaContext>>>,
    listed: Listed,
    network: NetworkRef<TamgaContext>,
    /// Every filter sees every event; one acts on a refusal (the first to
    /// subscribe: consensus's), so a stranger costs one cancel per request and
    /// about one close per connection, not three per event.
    acts: bool,
    /// Peers this filter has had closed, and when, until they disconnect.
    closing: HashMap<PeerId, Instant>,
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
        if let NetworkEvent::PeerDisconnected(peer) = &event {
            state.closing.remove(peer);
        }
        let (peer, request) = match verdict(&state.listed, &event) {
            Verdict::Pass => {
                state.downstream.send(event);
                return Ok(());
            }
            Verdict::Drop => return Ok(()),
            Verdict::Refuse { peer, request } => (peer, request),
        };
        if state.acts {
            refuse(state, peer, request)?;
        }
        Ok(())
    }
}

/// Cancels an unlisted peer's request, and has its connections closed (again
/// only if it is still heard from [`CLOSE_AGAIN_MS`] later).
fn refuse(
    state: &mut FilterState,
    peer: PeerId,
    request: Option<InboundRequestId>,
) -> Result<(), ActorProcessingErr> {
    if let Some(id) = request {
        state.network.cast(NetworkMsg::CancelInboundRequest(id))?;
    }
    if state.closing.len() >= CLOSING_MAX {
        state.closing.clear();
    }
    let now = Instant::now();
    let again = Duration::from_millis(CLOSE_AGAIN_MS);
    match state.closing.get(&peer) {
        Some(closed_at) if now.duration_since(*closed_at) < again => return Ok(()),
        _ => state.closing.insert(peer, now),
    };
    tracing::debug!(%peer, "closing an unlisted peer's consensus connection");
    // Malachite's only command that closes a peer's connections: the verdict
    // on a validator proof. Invalid makes it disconnect the peer, and nothing
    // else (no score, no state kept for a peer that sent no proof).
    state.network.cast(NetworkMsg::ValidatorProofVerified {
        peer_id: peer,
        result: ProofVerificationResult::Invalid,
        public_key: None,
    })?;
    Ok(())
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
