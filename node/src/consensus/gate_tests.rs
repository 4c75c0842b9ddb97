//! The gate against a stand-in network actor: what reaches a subscriber, and
//! what the network is told.

use super::*;
use arc_malachitebft_network::Channel;
use arc_malachitebft_sync::{OutboundRequestId, Request, ValueRequest};
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

fn peer(n: u8) -> PeerId {
    let key = libp2p::identity::Keypair::ed25519_from_bytes([n; 32]).expect("a key");
    PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).expect("a peer id")
}

fn sync_request(id: &str, from: PeerId) -> NetworkEvent<TamgaContext> {
    use super::super::context::Height;
    let range = Height(1)..=Height(20);
    NetworkEvent::SyncRequest(
        InboundRequestId::new(id),
        from,
        Request::ValueRequest(ValueRequest::new(range)),
    )
}

#[test]
fn only_a_listed_peers_events_pass() {
    let listed: HashSet<PeerId> = [peer(1)].into();
    let addr = "/ip4/127.0.0.1/tcp/1".parse().expect("an address");
    let refuse = |request: Option<&str>| Verdict::Refuse {
        peer: peer(2),
        request: request.map(InboundRequestId::new),
    };
    let cases = [
        (NetworkEvent::Listening(addr), Verdict::Pass),
        (NetworkEvent::PeerConnected(peer(1)), Verdict::Pass),
        (NetworkEvent::PeerConnected(peer(2)), refuse(None)),
        (
            NetworkEvent::PeerSubscribed(peer(2), Channel::ProposalParts),
            refuse(None),
        ),
        (NetworkEvent::PeerDisconnected(peer(2)), Verdict::Drop),
        (sync_request("a", peer(1)), Verdict::Pass),
        (sync_request("b", peer(2)), refuse(Some("b"))),
        (
            NetworkEvent::SyncInboundRequestFailed(InboundRequestId::new("b"), peer(2)),
            Verdict::Drop,
        ),
    ];
    for (event, expected) in cases {
        assert_eq!(verdict(&listed, &event), expected, "{event:?}");
    }
}

/// An actor that hands every message it gets to the test: the stand-in
/// network (`NetworkMsg`) and the subscribers (`HeardEvent`).
struct Relay<M>(UnboundedSender<M>);

/// What a subscriber heard.
struct HeardEvent(NetworkEvent<TamgaContext>);
impl From<NetworkEvent<TamgaContext>> for HeardEvent {
    fn from(event: NetworkEvent<TamgaContext>) -> Self {
        HeardEvent(event)
    }
}

#[ractor::async_trait]
impl<M: ractor::Message> Actor for Relay<M> {
    type Msg = M;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<M>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(&self, _: ActorRef<M>, msg: M, _: &mut ()) -> Result<(), ActorProcessingErr> {
        // A network command is not `Sync`, so the send error cannot carry it.
        self.0.send(msg).map_err(|_| "the test stopped listening")?;
        Ok(())
    }
}

async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("open")
}

/// Sends `events` to every filter, as the network's port does, and waits
/// until each subscriber heard the listed sentinel sent last.
async fn through_all(
    filters: &[Box<dyn Subscriber<NetworkEvent<TamgaContext>>>],
    heard: &mut [UnboundedReceiver<HeardEvent>],
    events: Vec<NetworkEvent<TamgaContext>>,
) {
    for filter in filters {
        for event in events.iter().cloned() {
            filter.send(event);
        }
        filter.send(NetworkEvent::PeerConnected(peer(1)));
    }
    for subscriber in heard.iter_mut() {
        let HeardEvent(NetworkEvent::PeerConnected(p)) = next(subscriber).await else {
            panic!("a subscriber heard an unlisted peer's event");
        };
        assert_eq!(p, peer(1));
    }
}

/// What the network was sent up to now: a marker sent last, after every
/// command the filters sent (they sent theirs before their sentinels passed).
async fn sent_so_far(
    network: &NetworkRef<TamgaContext>,
    got: &mut UnboundedReceiver<NetworkMsg<TamgaContext>>,
) -> Vec<String> {
    network
        .cast(NetworkMsg::CancelRequest(OutboundRequestId::new("end")))
        .unwrap();
    let mut sent = Vec::new();
    loop {
        match next(got).await {
            NetworkMsg::CancelRequest(id) if id.to_string() == "end" => return sent,
            NetworkMsg::CancelInboundRequest(id) => sent.push(format!("cancel {id}")),
            NetworkMsg::ValidatorProofVerified {
                peer_id, result, ..
            } => sent.push(format!("close {} {result:?}", peer_id == peer(2))),
            _ => sent.push("other".into()),
        }
    }
}

#[tokio::test]
async fn subscribers_hear_listed_peers_only_and_an_unlisted_peer_is_cut_off_once() {
    let (to_test, mut network_got) = unbounded_channel();
    let (network, _) = Actor::spawn(None, Relay(to_test), ()).await.unwrap();
    let gate = start(network.clone(), Arc::new([peer(1)].into()))
        .await
        .unwrap();
    let (mut filters, mut heard) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (heard_tx, heard_rx) = unbounded_channel();
        let (subscriber, _) = Actor::spawn(None, Relay::<HeardEvent>(heard_tx), ())
            .await
            .unwrap();
        gate.cast(NetworkMsg::Subscribe(Box::new(subscriber)))
            .unwrap();
        let NetworkMsg::Subscribe(filter) = next(&mut network_got).await else {
            panic!("the network was not sent the subscription");
        };
        filters.push(filter);
        heard.push(heard_rx);
    }

    let subscribed = NetworkEvent::PeerSubscribed(peer(2), Channel::ProposalParts);
    let events = vec![subscribed.clone(), sync_request("r1", peer(2))];
    through_all(&filters, &mut heard, events).await;
    let once = ["close true Invalid", "cancel r1"];
    assert_eq!(sent_so_far(&network, &mut network_got).await, once);

    // A new connection of the same peer, after the old one closed.
    let events = vec![NetworkEvent::PeerDisconnected(peer(2)), subscribed];
    through_all(&filters, &mut heard, events).await;
    let again = ["close true Invalid"];
    assert_eq!(sent_so_far(&network, &mut network_got).await, again);

    // Still heard from after a close, without a disconnection (a newer
    // connection the close did not reach): closed again once time has passed.
    let events = vec![NetworkEvent::PeerSubscribed(peer(2), Channel::Consensus)];
    through_all(&filters, &mut heard, events.clone()).await;
    assert!(sent_so_far(&network, &mut network_got).await.is_empty());
    tokio::time::sleep(Duration::from_millis(CLOSE_AGAIN_MS + 100)).await;
    through_all(&filters, &mut heard, events).await;
    assert_eq!(sent_so_far(&network, &mut network_got).await, again);

    // Every other command goes to the network as it is.
    gate.cast(NetworkMsg::CancelRequest(OutboundRequestId::new("x")))
        .unwrap();
    let NetworkMsg::CancelRequest(id) = next(&mut network_got).await else {
        panic!("a command was not forwarded");
    };
    assert_eq!(id.to_string(), "x");
    network.stop(None);
}
