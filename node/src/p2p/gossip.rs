//! Transaction gossip on a gossipsub topic per chain. Transactions admitted over
//! RPC are batched (at most [`BATCH_TXS_MAX`] or [`BATCH_BYTES_MAX`], published
//! when [`super::outgoing`] says); batches from peers are checked and admitted in
//! arrival order by one worker, exactly as RPC admits them. Everything is bounded:
//! the outgoing queue, the incoming queue (by batches and by
//! [`INCOMING_BYTES_MAX`] bytes), the message size, connections
//! ([`CONNECTIONS_MAX`] in all, [`CONNECTIONS_PER_PEER_MAX`] per peer), and the
//! batches kept while no peer could take them ([`super::publisher`], at most
//! [`super::unsent::UNSENT_TXS_MAX`] transactions); a node that accepts no
//! unlisted peer closes any connection from a peer id not in its list.
//!
//! A batch is forwarded to other peers only after this node checked it
//! (gossipsub's explicit validation): one holding a forged transaction (bad
//! encoding, signature or chain) is rejected, one that admitted something is
//! passed on, the rest are dropped quietly. So a peer flooding junk reaches its
//! direct neighbours only, and each pays for it once.

use super::outgoing::Outgoing;
use super::publisher::Publisher;
use crate::app::App;
use crate::app::GossipAdmission;
use anyhow::{Context, Result};
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{
    self, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId, ValidationMode,
};
use libp2p::swarm::SwarmEvent;
use libp2p::PeerId;
use libp2p::{noise, tcp, yamux, Multiaddr};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tamga_runtime::limits::TX_BYTES_MAX;
use tamga_runtime::types::encoding;
use tokio::sync::mpsc;

/// Transactions per published batch.
pub const BATCH_TXS_MAX: usize = 512;
/// Bytes per published batch (a single largest transaction always fits).
pub const BATCH_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Admitted transactions waiting to be published; beyond this they stay local
/// (this node's own proposals still include them).
pub const OUTGOING_TXS_MAX: usize = 50_000;
/// Batches from peers waiting to be admitted; beyond this, batches are dropped.
pub const INCOMING_BATCHES_MAX: usize = 256;
/// Bytes of batches from peers waiting to be admitted; beyond this, batches are
/// dropped (a full queue of largest batches would otherwise be ~600 MiB).
pub const INCOMING_BYTES_MAX: usize = 32 * 1024 * 1024;
const REDIAL_MS: u64 = 2_000;
/// Established connections, in and out, in all.
pub const CONNECTIONS_MAX: u32 = 128;
/// Established connections with one peer.
pub const CONNECTIONS_PER_PEER_MAX: u32 = 2;
/// Connections being set up at once, each way.
const PENDING_CONNECTIONS_MAX: u32 = 32;

pub struct GossipSettings {
    pub key: ed25519_dalek::SigningKey,
    pub listen: Multiaddr,
    pub peers: Vec<Multiaddr>,
    /// Only these peers may connect (`None`: anyone may).
    pub allowed: Option<Vec<libp2p::PeerId>>,
    /// The peer ids `peers` name (those pinned with `/p2p/`).
    pub listed: Vec<libp2p::PeerId>,
}

/// Gossip, with bounds on who may connect and how many.
#[derive(libp2p::swarm::NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    limits: libp2p::connection_limits::Behaviour,
    allowed: libp2p::swarm::behaviour::toggle::Toggle<
        libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::AllowedPeers>,
    >,
}

fn limits() -> libp2p::connection_limits::Behaviour {
    let limits = libp2p::connection_limits::ConnectionLimits::default()
        .with_max_established(Some(CONNECTIONS_MAX))
        .with_max_established_per_peer(Some(CONNECTIONS_PER_PEER_MAX))
        .with_max_pending_incoming(Some(PENDING_CONNECTIONS_MAX))
        .with_max_pending_outgoing(Some(PENDING_CONNECTIONS_MAX));
    libp2p::connection_limits::Behaviour::new(limits)
}

fn allow_list(
    allowed: &Option<Vec<libp2p::PeerId>>,
) -> Option<libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::AllowedPeers>> {
    let peers = allowed.as_ref()?;
    let mut list =
        libp2p::allow_block_list::Behaviour::<libp2p::allow_block_list::AllowedPeers>::default();
    for peer in peers {
        list.allow_peer(*peer);
    }
    Some(list)
}

fn topic(chain_id: &str) -> IdentTopic {
    IdentTopic::new(format!("tamga/{chain_id}/txs/1"))
}

type Swarm = libp2p::Swarm<Behaviour>;

fn build_swarm(settings: &GossipSettings) -> Result<Swarm> {
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(settings.key.to_bytes())?;
    let config = gossipsub::ConfigBuilder::default()
        .max_transmit_size(BATCH_BYTES_MAX + TX_BYTES_MAX + 64 * 1024)
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .map_err(|e| anyhow::anyhow!("gossipsub config: {e}"))?;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| {
            let gossipsub =
                gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
                    .map_err(|e| Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()))?;
            Ok(Behaviour {
                gossipsub,
                limits: limits(),
                allowed: allow_list(&settings.allowed).into(),
            })
        })
        .map_err(|e| anyhow::anyhow!("gossip behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    Ok(swarm)
}

/// Starts gossip; returns the sender RPC admission feeds, and the task.
pub async fn start(
    app: Arc<App>,
    settings: GossipSettings,
) -> Result<(mpsc::Sender<Vec<u8>>, tokio::task::JoinHandle<()>)> {
    let mut swarm = build_swarm(&settings)?;
    let topic = topic(&app.chain_id);
    swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
    swarm
        .listen_on(settings.listen.clone())
        .with_context(|| format!("gossip listen on {}", settings.listen))?;
    let (out_tx, out_rx) = mpsc::channel(OUTGOING_TXS_MAX);
    let (in_tx, in_rx) = mpsc::channel(INCOMING_BATCHES_MAX);
    let (verdict_tx, verdict_rx) = mpsc::channel(INCOMING_BATCHES_MAX);
    let queued = Arc::new(AtomicUsize::new(0));
    let incoming = Incoming {
        batches: in_tx,
        bytes: queued.clone(),
    };
    let metrics = app.metrics.clone();
    tokio::spawn(admit_worker(app, in_rx, verdict_tx, queued));
    let own = *swarm.local_peer_id();
    let listed = settings.listed.iter().filter(|id| **id != own).copied();
    // A node with no peer listed that accepts no other (a lone dev validator)
    // keeps nothing: no one will ever join.
    let keep = !settings.peers.is_empty() || settings.allowed.is_none();
    let publisher = Publisher::new(topic, listed.collect(), keep);
    let task = tokio::spawn(run(
        swarm,
        publisher,
        settings.peers,
        out_rx,
        incoming,
        verdict_rx,
        metrics,
    ));
    Ok((out_tx, task))
}

/// A gossiped batch waiting for admission, and who it came from.
struct Received {
    txs: Vec<Vec<u8>>,
    bytes: usize,
    id: MessageId,
    source: PeerId,
}

/// The admission queue: bounded by batches (the channel) and by bytes.
struct Incoming {
    batches: mpsc::Sender<Received>,
    bytes: Arc<AtomicUsize>,
}

/// Admission's verdict on a batch, for gossipsub to forward it or not.
type Verdict = (MessageId, PeerId, MessageAcceptance);

/// Honest nodes publish only transactions they admitted, so one forged
/// transaction condemns the whole batch, whatever else it carries. A batch
/// with nothing admitted (refused, or only held for a nonce gap) goes no further.
fn acceptance(outcome: GossipAdmission) -> MessageAcceptance {
    if outcome.forged > 0 {
        MessageAcceptance::Reject
    } else if outcome.admitted > 0 {
        MessageAcceptance::Accept
    } else {
        MessageAcceptance::Ignore
    }
}

async fn run(
    mut swarm: Swarm,
    mut publisher: Publisher,
    peers: Vec<Multiaddr>,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    incoming: Incoming,
    mut verdicts: mpsc::Receiver<Verdict>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let mut batch = Outgoing::default();
    let mut redial = tokio::time::interval(Duration::from_millis(REDIAL_MS));
    let mut connected: HashSet<Multiaddr> = HashSet::new();
    // One timer, set again only when the batch's due time changes: a timer
    // made afresh on every pass of this loop (every swarm event) would be
    // registered and taken out of tokio's timer wheel each time.
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    loop {
        let due = batch.due();
        if due != armed {
            if let Some(due) = due {
                timer.as_mut().reset(tokio::time::Instant::from_std(due));
            }
            armed = due;
        }
        tokio::select! {
            Some(tx) = outgoing.recv() => {
                if let Some(full) = batch.push(tx, Instant::now()) {
                    publisher.send(&mut swarm.behaviour_mut().gossipsub, full);
                }
            }
            () = &mut timer, if armed.is_some() => {
                armed = None;
                if let Some(ready) = batch.take_due(Instant::now()) {
                    publisher.send(&mut swarm.behaviour_mut().gossipsub, ready);
                }
            }
            _ = redial.tick() => {
                for peer in peers.iter().filter(|p| !connected.contains(*p)) {
                    let _ = swarm.dial(peer.clone());
                }
                publisher.send_unsent(&mut swarm.behaviour_mut().gossipsub);
            }
            Some((id, source, verdict)) = verdicts.recv() => {
                let _ = swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, verdict);
            }
            event = swarm.select_next_some() => {
                let peers = Peers { connected: &mut connected, metrics: &metrics };
                handle(&mut swarm, event, peers, &incoming, &mut publisher);
            }
        }
    }
}

/// The peers this node dialed and is connected to, and where their count goes.
struct Peers<'a> {
    connected: &'a mut HashSet<Multiaddr>,
    metrics: &'a crate::metrics::Metrics,
}

/// One swarm event: a batch to admit (and the verdict, when there is one at
/// once), a peer come or gone, a peer joined the topic.
fn handle(
    swarm: &mut Swarm,
    event: SwarmEvent<BehaviourEvent>,
    peers: Peers,
    incoming: &Incoming,
    publisher: &mut Publisher,
) {
    let peers_changed = matches!(
        event,
        SwarmEvent::ConnectionEstablished { .. } | SwarmEvent::ConnectionClosed { .. }
    );
    let joined = matches!(
        &event,
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
            gossipsub::Event::Subscribed { topic, .. }
        )) if *topic == publisher.topic.hash()
    );
    let gossip = &mut swarm.behaviour_mut().gossipsub;
    if let Some((id, source, acceptance)) = on_event(event, peers.connected, incoming) {
        let _ = gossip.report_message_validation_result(&id, &source, acceptance);
    }
    if joined {
        publisher.on_joined(gossip);
    }
    if peers_changed {
        let count = swarm.connected_peers().count();
        peers
            .metrics
            .set_peers(crate::metrics::GOSSIP_NETWORK, count);
    }
}

/// A gossiped batch as it arrives: the encoding of `Vec<Vec<u8>>`, each
/// transaction's bytes borrowed from the message. Read by hand so that no
/// length prefix sizes an allocation: the count is checked against
/// [`BATCH_TXS_MAX`] before anything is reserved, and each transaction is a
/// slice the message must hold (a decoded `Vec` would first reserve what its
/// prefix claims, up to the encoding's 64 MiB limit, per message).
struct WireBatch<'a>(Vec<&'a [u8]>);

impl<'a, C> encoding::BorrowDecode<'a, C> for WireBatch<'a> {
    fn borrow_decode<D: bincode::de::BorrowDecoder<'a, Context = C>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        let count = u64::borrow_decode(decoder)?;
        let count = usize::try_from(count)
            .ok()
            .filter(|count| *count <= BATCH_TXS_MAX)
            .ok_or(bincode::error::DecodeError::Other(
                "gossip batch over BATCH_TXS_MAX",
            ))?;
        let mut txs = Vec::with_capacity(count);
        for _ in 0..count {
            txs.push(<&'a [u8]>::borrow_decode(decoder)?);
        }
        Ok(WireBatch(txs))
    }
}

/// Queues a gossiped batch for admission, within the byte budget; returns a
/// verdict when there is one at once (junk, or no room).
fn receive(id: MessageId, source: PeerId, data: &[u8], incoming: &Incoming) -> Option<Verdict> {
    let txs: Vec<Vec<u8>> = match encoding::decode_borrowed::<WireBatch>(data) {
        Ok(batch) => batch.0.into_iter().map(<[u8]>::to_vec).collect(),
        Err(_) => return Some((id, source, MessageAcceptance::Reject)),
    };
    let bytes = data.len();
    if incoming.bytes.fetch_add(bytes, Ordering::SeqCst) + bytes > INCOMING_BYTES_MAX {
        incoming.bytes.fetch_sub(bytes, Ordering::SeqCst);
        tracing::warn!(
            "gossip: admission queue holds {INCOMING_BYTES_MAX} bytes, dropping a batch"
        );
        return Some((id, source, MessageAcceptance::Ignore));
    }
    let received = Received {
        txs,
        bytes,
        id: id.clone(),
        source,
    };
    if incoming.batches.try_send(received).is_err() {
        incoming.bytes.fetch_sub(bytes, Ordering::SeqCst);
        tracing::warn!("gossip: admission queue full, dropping a batch");
        return Some((id, source, MessageAcceptance::Ignore));
    }
    None
}

fn on_event(
    event: SwarmEvent<BehaviourEvent>,
    connected: &mut HashSet<Multiaddr>,
    incoming: &Incoming,
) -> Option<Verdict> {
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        })) => return receive(message_id, propagation_source, &message.data, incoming),
        SwarmEvent::ConnectionEstablished { endpoint, .. } if endpoint.is_dialer() => {
            connected.insert(endpoint.get_remote_address().clone());
        }
        SwarmEvent::ConnectionClosed { endpoint, .. } if endpoint.is_dialer() => {
            connected.remove(endpoint.get_remote_address());
        }
        SwarmEvent::NewListenAddr { address, .. } => {
            tracing::info!(%address, "gossip listening");
        }
        _ => {}
    }
    None
}

/// Admits gossiped batches in order, on a blocking thread (signature checks and
/// dry runs are CPU work), and tells the swarm whether to forward each.
/// Refusals are expected (a tx already admitted, already committed) and only
/// logged.
async fn admit_worker(
    app: Arc<App>,
    mut incoming: mpsc::Receiver<Received>,
    verdicts: mpsc::Sender<Verdict>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(received) = incoming.recv().await {
        let app = app.clone();
        let txs = received.txs;
        let outcome = tokio::task::spawn_blocking(move || app.admit_gossiped(&txs)).await;
        queued.fetch_sub(received.bytes, Ordering::SeqCst);
        let verdict = match outcome {
            Ok(outcome) => {
                tracing::trace!(?outcome, "gossip: admitted");
                acceptance(outcome)
            }
            Err(_) => MessageAcceptance::Ignore,
        };
        // The swarm loop never waits on this worker, so waiting here is safe;
        // a verdict must not be lost (gossipsub holds the message until then).
        if verdicts
            .send((received.id, received.source, verdict))
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> (MessageId, PeerId) {
        (MessageId::from("m"), PeerId::random())
    }

    #[test]
    fn junk_is_rejected_and_the_byte_budget_holds() {
        let (batches, mut rx) = mpsc::channel(INCOMING_BATCHES_MAX);
        let incoming = Incoming {
            batches,
            bytes: Arc::new(AtomicUsize::new(0)),
        };
        let (m, p) = id();
        let verdict = receive(m, p, b"not a batch", &incoming);
        assert!(matches!(verdict, Some((_, _, MessageAcceptance::Reject))));
        let big = encoding::encode(&vec![vec![7u8; 4 * 1024 * 1024]]);
        let mut queued = 0;
        while receive(m_id(queued), p, &big, &incoming).is_none() {
            queued += 1;
        }
        assert_eq!(
            queued,
            INCOMING_BYTES_MAX / big.len(),
            "room for whole batches only"
        );
        assert!(incoming.bytes.load(Ordering::SeqCst) <= INCOMING_BYTES_MAX);
        assert_eq!(rx.try_recv().map(|r| r.bytes).ok(), Some(big.len()));
    }

    fn m_id(n: usize) -> MessageId {
        MessageId::from(n.to_string())
    }

    /// The largest single allocation this thread asked for, so a test can see
    /// what a hostile length prefix made the node reserve.
    struct Watched;

    thread_local! {
        static LARGEST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    unsafe impl std::alloc::GlobalAlloc for Watched {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(layout.size())));
            unsafe { std::alloc::System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static WATCHED: Watched = Watched;

    fn received(data: &[u8]) -> Option<Vec<Vec<u8>>> {
        let (batches, mut rx) = mpsc::channel(INCOMING_BATCHES_MAX);
        let incoming = Incoming {
            batches,
            bytes: Arc::new(AtomicUsize::new(0)),
        };
        let (m, p) = id();
        match receive(m, p, data, &incoming) {
            None => rx.try_recv().ok().map(|r| r.txs),
            Some(_) => None,
        }
    }

    /// A batch reads back as it was encoded; a count over the bound, a
    /// transaction longer than the message, or trailing bytes are junk, and a
    /// length prefix never sizes an allocation beyond what the message holds.
    #[test]
    fn a_batch_is_read_as_encoded_and_its_lengths_are_bounded_by_the_message() {
        let txs = vec![vec![1u8; 40], vec![], vec![2u8; 300]];
        assert_eq!(received(&encoding::encode(&txs)), Some(txs.clone()));
        let over = vec![vec![3u8]; BATCH_TXS_MAX + 1];
        assert_eq!(received(&encoding::encode(&over)), None);
        let mut trailing = encoding::encode(&txs);
        trailing.push(0);
        assert_eq!(received(&trailing), None);
        // One transaction whose prefix claims 60 MiB, in a 6-byte message.
        let mut claim = vec![1u8, 0xfc];
        claim.extend_from_slice(&(60u32 << 20).to_le_bytes());
        LARGEST.with(|largest| largest.set(0));
        assert_eq!(received(&claim), None);
        let largest = LARGEST.with(|largest| largest.get());
        assert!(
            largest < 64 * 1024,
            "a 6-byte message reserved {largest} bytes"
        );
    }

    #[test]
    fn only_a_clean_batch_that_admitted_something_is_forwarded() {
        let outcome = |admitted, refused, forged| GossipAdmission {
            admitted,
            held: 0,
            refused,
            forged,
        };
        assert!(matches!(
            acceptance(outcome(1, 5, 0)),
            MessageAcceptance::Accept
        ));
        assert!(matches!(
            acceptance(outcome(9, 0, 1)),
            MessageAcceptance::Reject
        ));
        assert!(matches!(
            acceptance(outcome(0, 5, 1)),
            MessageAcceptance::Reject
        ));
        assert!(matches!(
            acceptance(outcome(0, 5, 0)),
            MessageAcceptance::Ignore
        ));
        // Held for a nonce gap is not admitted: such a batch goes no further.
        let held = GossipAdmission {
            held: 3,
            ..outcome(0, 0, 0)
        };
        assert!(matches!(acceptance(held), MessageAcceptance::Ignore));
    }
}
