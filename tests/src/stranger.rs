//! A stranger on the consensus network: a libp2p peer that never identifies
//! itself and asks a node for blocks over value sync, as any program could.
//! Malachite closes an unlisted peer's connection only once its identify
//! message arrives, so this is the peer a node that accepts only listed peers
//! must still give nothing.
//!
//! It speaks the broadcast protocol too (libp2p-scatter, which Malachite's
//! `Broadcast` pub/sub uses): a node closes a connection whose peer refuses
//! its broadcasts, so a peer that did not would be closed before it asked.
//!
//! The wire is what Malachite's sync protocol (`/malachitebft-sync/v1beta1`)
//! carries: a u32 big-endian length, then the bytes. A request is Tamga's borsh
//! form of a height range (two little-endian u64); a response starts with its
//! first height (u64) and the count of decided values (u32).

use anyhow::{bail, Context, Result};
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, Event, Message, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use std::io;
use std::time::Duration;

const SYNC_PROTOCOL: &str = "/malachitebft-sync/v1beta1";
/// Malachite's broadcast topics for votes and for proposal parts.
const CONSENSUS_TOPICS: [&str; 2] = ["/consensus", "/proposal_parts"];
/// Largest response read: a whole batch of blocks.
const RESPONSE_BYTES_MAX: usize = 64 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What the node answered a request for blocks.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// A response carrying this many decided blocks.
    Blocks(u32),
    /// No response: the request failed or was dropped (the reason, printed).
    Refused(String),
}

/// Connects to `listen` ("host:port") as a fresh identity that never sends
/// identify, and asks `peer_id`'s node for heights `from..=to`.
pub fn ask_for_blocks(listen: &str, peer_id: &str, from: u64, to: u64) -> Result<Answer> {
    block_on(ask(listen, peer_id, from, to))
}

/// What a stranger subscribed to the consensus channels heard.
#[derive(Debug)]
pub struct Heard {
    /// Broadcast messages (proposal parts, votes) received.
    pub messages: usize,
    /// Whether the node closed the connection within the time given.
    pub closed: bool,
}

/// Connects as [`ask_for_blocks`] does, subscribes to the channels that carry
/// proposal parts and votes, and listens for `listen_ms`.
pub fn listen_to_consensus(listen: &str, peer_id: &str, listen_ms: u64) -> Result<Heard> {
    block_on(listen_for(
        listen,
        peer_id,
        Duration::from_millis(listen_ms),
    ))
}

fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(future)
}

type Swarm = libp2p::Swarm<Stranger>;

/// Dial attempts: a node refuses inbound connections past its per-IP limit,
/// which on loopback its own peers share, so a stranger tries again.
const DIAL_ATTEMPTS: u32 = 40;
const DIAL_RETRY_MS: u64 = 250;

/// A swarm connected to `peer_id` at `listen`, and that peer's id.
async fn connect(listen: &str, peer_id: &str) -> Result<(Swarm, PeerId)> {
    let peer: PeerId = peer_id.parse().context("a peer id")?;
    let (host, port) = listen.rsplit_once(':').context("host:port")?;
    let addr: Multiaddr = format!("/ip4/{host}/tcp/{port}/p2p/{peer}").parse()?;
    let protocol = [(
        StreamProtocol::new(SYNC_PROTOCOL),
        ProtocolSupport::Outbound,
    )];
    let config = request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT);
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )?
        .with_behaviour(|_| Stranger {
            sync: request_response::Behaviour::with_codec(Raw, protocol, config),
            broadcast: libp2p_scatter::Behaviour::new(libp2p_scatter::Config::default()),
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(REQUEST_TIMEOUT))
        .build();
    for _ in 0..DIAL_ATTEMPTS {
        swarm.dial(addr.clone())?;
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == peer => {
                    return Ok((swarm, peer))
                }
                SwarmEvent::OutgoingConnectionError { .. } => break,
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(DIAL_RETRY_MS)).await;
    }
    bail!("{addr} refused {DIAL_ATTEMPTS} dials")
}

async fn ask(listen: &str, peer_id: &str, from: u64, to: u64) -> Result<Answer> {
    let (mut swarm, peer) = connect(listen, peer_id).await?;
    let mut request = from.to_le_bytes().to_vec();
    request.extend_from_slice(&to.to_le_bytes());
    swarm.behaviour_mut().sync.send_request(&peer, request);
    let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT * 2;
    loop {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .context("no answer in time")?;
        match event {
            SwarmEvent::Behaviour(StrangerEvent::Sync(Event::Message {
                message: Message::Response { response, .. },
                ..
            })) => return blocks_in(&response),
            SwarmEvent::Behaviour(StrangerEvent::Sync(Event::OutboundFailure {
                error, ..
            })) => return Ok(Answer::Refused(error.to_string())),
            _ => {}
        }
    }
}

async fn listen_for(listen: &str, peer_id: &str, time: Duration) -> Result<Heard> {
    let (mut swarm, _) = connect(listen, peer_id).await?;
    for topic in CONSENSUS_TOPICS {
        let topic = libp2p_scatter::Topic::new(topic.as_bytes());
        swarm.behaviour_mut().broadcast.subscribe(topic);
    }
    let deadline = tokio::time::Instant::now() + time;
    let mut heard = Heard {
        messages: 0,
        closed: false,
    };
    while let Ok(event) = tokio::time::timeout_at(deadline, swarm.select_next_some()).await {
        match event {
            SwarmEvent::Behaviour(StrangerEvent::Broadcast(libp2p_scatter::Event::Received(
                ..,
            ))) => heard.messages += 1,
            SwarmEvent::ConnectionClosed { .. } => {
                heard.closed = true;
                break;
            }
            _ => {}
        }
    }
    Ok(heard)
}

/// Value sync, and enough of broadcast to stay connected.
#[derive(NetworkBehaviour)]
struct Stranger {
    sync: request_response::Behaviour<Raw>,
    broadcast: libp2p_scatter::Behaviour,
}

fn blocks_in(response: &[u8]) -> Result<Answer> {
    let count = response
        .get(8..12)
        .context("a response shorter than its header")?;
    Ok(Answer::Blocks(u32::from_le_bytes(count.try_into()?)))
}

/// Length-prefixed bytes, as Malachite's sync codec frames them.
#[derive(Clone, Default)]
struct Raw;

async fn read_framed<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
    }
    let mut data = vec![0u8; len];
    io.read_exact(&mut data).await?;
    Ok(data)
}

async fn write_framed<T: AsyncWrite + Unpin + Send>(io: &mut T, data: Vec<u8>) -> io::Result<()> {
    io.write_all(&(data.len() as u32).to_be_bytes()).await?;
    io.write_all(&data).await?;
    io.flush().await
}

#[async_trait::async_trait]
impl request_response::Codec for Raw {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_framed(io, 1024).await
    }
    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_framed(io, RESPONSE_BYTES_MAX).await
    }
    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, req).await
    }
    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, res).await
    }
}
