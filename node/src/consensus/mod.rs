//! BFT consensus from Malachite's app-channel (pinned `=0.8.2`): Tendermint rounds,
//! its write-ahead log (a restarted validator never signs two different votes for
//! one height and round) and value sync (a lagging node fetches decided blocks
//! with their certificates). Everything that touches Malachite's API lives in this
//! module, so a version bump touches nothing else. Participants coordinate,
//! verify and record among themselves with no coordinator (Art. 26 p.3(2)).

mod codec;
mod context;
mod evidence;
#[cfg(feature = "test-faults")]
pub mod faults;
mod gate;
mod host;
pub mod mark;
mod parts;
mod peers;
mod propose;
mod signing;
mod values;

pub use host::{Exit, Role};

use crate::app::App;
use arc_malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, NodeConfig, P2pConfig, PubSubProtocol, ValueSyncConfig,
};
use arc_malachitebft_app_channel::app::metrics::SharedRegistry;
use arc_malachitebft_app_channel::app::net::Multiaddr;
use arc_malachitebft_app_channel::app::types::codec::Codec;
use arc_malachitebft_app_channel::app::types::{Keypair, PeerId};
use arc_malachitebft_app_channel::{
    Channels, ConsensusContext, EngineBuilder, EngineHandle, NetworkIdentity, RequestContext,
    Signer, SyncContext, WalContext,
};
use arc_malachitebft_engine::network::NetworkRef;
use codec::BorshCodec;
use context::{Address, Height, TamgaContext, ValidatorSet};
use ed25519_dalek::SigningKey;
use mark::SigningState;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tamga_runtime::limits::BLOCK_BYTES_MAX;
use tamga_runtime::PublicKey;

/// What the node hands consensus.
pub struct Settings {
    pub moniker: String,
    pub key: SigningKey,
    pub listen: Multiaddr,
    pub peers: Vec<Multiaddr>,
    /// Accept consensus connections from peers not in `peers`.
    pub accept_unlisted_peers: bool,
    pub block_time_ms: u64,
    pub propose_timeout_ms: u64,
    pub wal_path: PathBuf,
    /// The signing high-water mark, beside the key.
    pub signing: Arc<SigningState>,
    #[cfg(feature = "test-faults")]
    pub faults: faults::Faults,
}

/// An address no validator can have (not a usable key): a follower's identity.
const FOLLOWER: Address = Address([0; 32]);

/// The validator set governing `height`, from the state committed below it.
pub fn validator_set(app: &App, height: Height) -> eyre::Result<ValidatorSet> {
    let ledger = tamga_runtime::validators::set_for_height(&app.storage, height.0)?;
    Ok(ValidatorSet::from_ledger(&ledger)?)
}

#[derive(Clone, Debug)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// Largest blocks one value-sync response may carry (smaller blocks: up to the
/// batch of 20).
const SYNC_BLOCKS_PER_RESPONSE_MAX: u64 = 4;
/// Value-sync requests a lagging node keeps in flight.
const SYNC_REQUESTS_IN_FLIGHT_MAX: usize = 2;

fn engine_config(settings: &Settings) -> EngineConfig {
    use bytesize::ByteSize;
    // A whole block travels in one proposal part; leave room for the envelope.
    let message_max = ByteSize::b((BLOCK_BYTES_MAX + 64 * 1024) as u64);
    // Malachite's limit on inbound connections per IP applies to listed peers
    // too: room for every listed peer to share one (a devnet on loopback,
    // validators behind one NAT), and its default 5 otherwise.
    let discovery = DiscoveryConfig {
        max_connections_per_ip: (settings.peers.len() + 1)
            .max(DiscoveryConfig::default().max_connections_per_ip),
        ..DiscoveryConfig::default()
    };
    let p2p = P2pConfig {
        listen_addr: settings.listen.clone(),
        persistent_peers: settings.peers.clone(),
        persistent_peers_only: !settings.accept_unlisted_peers,
        discovery,
        pubsub_max_size: message_max,
        // A sync response holds at most four largest blocks (the sender trims
        // its batch to fit): with two requests in flight a lying peer can make
        // a lagging node hold ~25 MiB, not hundreds.
        rpc_max_size: ByteSize::b(message_max.as_u64() * SYNC_BLOCKS_PER_RESPONSE_MAX),
        // Direct sends to each listed peer, no relaying and no message cache:
        // a peer flooding junk costs each node only what it sends that node.
        // Validators list each other (a full mesh).
        protocol: PubSubProtocol::Broadcast,
        ..P2pConfig::default()
    };
    let value_sync = ValueSyncConfig {
        status_update_interval: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        max_response_size: p2p.rpc_max_size,
        batch_size: 20,
        parallel_requests: SYNC_REQUESTS_IN_FLIGHT_MAX,
        ..ValueSyncConfig::default()
    };
    EngineConfig {
        moniker: settings.moniker.clone(),
        consensus: ConsensusConfig {
            p2p,
            ..ConsensusConfig::default()
        },
        value_sync,
    }
}

/// Whether `key` is in the validator set for the next height.
pub fn validator_set_contains(app: &App, key: &SigningKey) -> eyre::Result<bool> {
    let set = validator_set(app, Height(app.tip().height + 1))?;
    Ok(set.contains(&Address(PublicKey::of(key).0)))
}

/// The role this node starts in: a validator whose signing mark is above its
/// data (it signed at heights it no longer has) follows until it passes the mark.
pub fn initial_role(signing: &SigningState, tip: u64) -> Role {
    match signing.height() {
        Some(mark_height) if mark_height > tip + 1 => {
            tracing::warn!(
                mark_height,
                tip,
                "this validator signed up to height {mark_height} but its data ends at {tip}: following the chain without signing until it passes that height"
            );
            Role::Follower { mark_height }
        }
        _ => Role::Validator,
    }
}

/// Runs consensus in `role` until the role must change or the node fails.
pub async fn run(app: Arc<App>, settings: &Settings, role: Role) -> eyre::Result<Exit> {
    let chain_id: Arc<str> = app.chain_id.as_str().into();
    let me = match role {
        Role::Validator => Address(PublicKey::of(&settings.key).0),
        Role::Follower { .. } => FOLLOWER,
    };
    let signer = signing::KeySigner::new(
        settings.key.clone(),
        chain_id.clone(),
        Some(settings.signing.clone()),
    );
    #[cfg(feature = "test-faults")]
    let signer = signer.with_vote_log(settings.faults.vote_log.as_deref());
    let signer = Arc::new(signer);
    #[allow(unused_mut)]
    let mut ctx = TamgaContext::new(app.chain_id.as_str());
    #[cfg(feature = "test-faults")]
    if role == Role::Validator {
        ctx.amnesia = faults::amnesia(&settings.faults, me);
    }
    let metrics = app.metrics.clone();
    let (mut channels, engine, network) =
        start_engine(&ctx, settings, (role, me), &signer, metrics).await?;
    let is_validator = validator_set(&app, Height(app.tip().height + 1))?.contains(&me);
    tracing::info!(validator = is_validator, address = %me, ?role, "consensus engine started");
    let host = host::Host {
        app,
        me,
        role,
        signer,
        block_time_ms: settings.block_time_ms,
        propose_timeout_ms: settings.propose_timeout_ms,
        values: values::Values::default(),
        intake: values::Intake::default(),
        #[cfg(feature = "test-faults")]
        faults: settings.faults.clone(),
        #[cfg(feature = "test-faults")]
        amnesia: ctx.amnesia.clone(),
    };
    settings.signing.take_refused();
    let exit = host.run(&mut channels).await;
    drop(channels);
    if let Some(network) = &network {
        network.stop_swarm(engine.actor.get_cell()).await;
    }
    engine.actor.stop(None);
    let _ = engine.handle.await;
    if let Some(network) = network {
        network.watcher.stop(None);
    }
    match exit {
        // The engine stops when a signature is refused (the mark is above what
        // this node remembers): follow the chain past the mark instead.
        Err(error) if settings.signing.take_refused() => {
            tracing::warn!(%error, "a signature was refused by the signing mark; following the chain until past it");
            Ok(Exit::CatchUp)
        }
        exit => exit,
    }
}

/// The network identity and consensus context for `role`.
async fn identities(
    settings: &Settings,
    role: Role,
    me: Address,
    signer: Arc<signing::KeySigner>,
) -> eyre::Result<(NetworkIdentity, ConsensusContext<TamgaContext>)> {
    let keypair = Keypair::ed25519_from_bytes(settings.key.to_bytes())?;
    let chain_id = signer.chain_id();
    let verifier = Box::new(signing::KeyVerifier { chain_id });
    if let Role::Follower { .. } = role {
        let identity = NetworkIdentity::new(settings.moniker.clone(), keypair, None);
        return Ok((identity, ConsensusContext::new_full_node(me, verifier)));
    }
    // Every node can sign: a full node becomes a validator when a set change names
    // it, and consensus only asks members to vote.
    let peer_id = keypair.public().to_peer_id().to_bytes();
    let proof = signer
        .sign_validator_proof(settings.key.verifying_key().to_bytes().to_vec(), peer_id)
        .await
        .map_err(|e| eyre::eyre!("signing the validator proof: {e}"))?;
    let proof_bytes = BorshCodec.encode(&proof)?;
    let identity = NetworkIdentity::new_validator(
        settings.moniker.clone(),
        keypair,
        me.to_string(),
        proof_bytes,
    );
    let consensus = ConsensusContext::new_validator(me, verifier, Box::new(SharedSigner(signer)));
    Ok((identity, consensus))
}

/// The one signer, shared by the engine and the host (which signs parts). A
/// refusal of the engine's own request is noted: the engine stops on it, and the
/// node then follows the chain past its mark. A failure to persist the mark is
/// not a refusal: the engine stops and so does the node, saying why.
struct SharedSigner(Arc<signing::KeySigner>);

#[async_trait::async_trait]
impl Signer<TamgaContext> for SharedSigner {
    async fn sign_vote(
        &self,
        vote: context::Vote,
    ) -> Result<
        arc_malachitebft_core_types::SignedMessage<TamgaContext, context::Vote>,
        arc_malachitebft_signing::Error,
    > {
        let signed = self.0.sign_vote(vote).await;
        if signed.as_ref().is_err_and(signing::KeySigner::is_refusal) {
            self.0.note_engine_refusal();
        }
        signed
    }
    async fn sign_proposal(
        &self,
        proposal: context::Proposal,
    ) -> Result<
        arc_malachitebft_core_types::SignedMessage<TamgaContext, context::Proposal>,
        arc_malachitebft_signing::Error,
    > {
        let signed = self.0.sign_proposal(proposal).await;
        if signed.as_ref().is_err_and(signing::KeySigner::is_refusal) {
            self.0.note_engine_refusal();
        }
        signed
    }
    async fn sign_vote_extension(
        &self,
        scope: arc_malachitebft_core_types::VoteExtensionScope<TamgaContext>,
        extension: (),
    ) -> Result<
        arc_malachitebft_core_types::SignedMessage<TamgaContext, ()>,
        arc_malachitebft_signing::Error,
    > {
        self.0.sign_vote_extension(scope, extension).await
    }
    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<
        arc_malachitebft_core_types::ValidatorProof<TamgaContext>,
        arc_malachitebft_signing::Error,
    > {
        self.0.sign_validator_proof(public_key, peer_id).await
    }
}

/// Engine starts after a role change wait for the previous engine's WAL lock
/// and ports to be released (its actors stop asynchronously).
const ENGINE_START_ATTEMPTS: u32 = 50;
const ENGINE_START_RETRY_MS: u64 = 200;

/// The running engine, its channels, and its network (none behind a test
/// build's Byzantine proxy).
type Started = (Channels<TamgaContext>, EngineHandle, Option<Network>);

/// The network actor an engine runs on, and the watcher of its peers.
struct Network {
    actor: NetworkRef<TamgaContext>,
    watcher: ractor::ActorRef<peers::PeerEvent>,
}

/// How long a stopping network may take to close its swarm.
const NETWORK_STOP_TIMEOUT_MS: u64 = 5_000;

impl Network {
    /// Stops the network actor itself, before its engine: only a stopped
    /// actor tells its libp2p swarm to shut down (its `post_stop`). The engine
    /// supervises it, and a stopping supervisor kills its children, which
    /// skips `post_stop`: the swarm would go on listening on the consensus
    /// port, beside the next engine's after a role change, until its next
    /// event found no one to forward to. It leaves the engine's tree first,
    /// so the engine cannot kill it meanwhile, nor take its exit for a
    /// failure. (An engine that has already died, e.g. on a signature its
    /// signing mark refused, has killed it before this runs: that swarm still
    /// ends only at its next event.)
    async fn stop_swarm(&self, engine: ractor::ActorCell) {
        self.actor.unlink(engine);
        let timeout = Duration::from_millis(NETWORK_STOP_TIMEOUT_MS);
        match self.actor.stop_and_wait(None, Some(timeout)).await {
            Ok(()) => {}
            Err(ractor::RactorErr::Timeout) => {
                tracing::warn!(?timeout, "consensus network did not stop in time");
            }
            Err(error) => tracing::debug!(%error, "consensus network already stopped"),
        }
    }
}

async fn start_engine(
    ctx: &TamgaContext,
    settings: &Settings,
    (role, me): (Role, Address),
    signer: &Arc<signing::KeySigner>,
    metrics: Arc<crate::metrics::Metrics>,
) -> eyre::Result<Started> {
    let mut attempt = 1;
    loop {
        let built = build_engine(ctx.clone(), settings, role, me, signer.clone());
        match built.await {
            Ok((channels, engine, Some((front, actor)))) => {
                let watcher = peers::watch(&front, metrics.clone()).await?;
                return Ok((channels, engine, Some(Network { actor, watcher })));
            }
            Ok((channels, engine, None)) => return Ok((channels, engine, None)),
            Err(error) if attempt < ENGINE_START_ATTEMPTS => {
                tracing::debug!(attempt, %error, "consensus engine not started yet; retrying");
                tokio::time::sleep(Duration::from_millis(ENGINE_START_RETRY_MS)).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

async fn build_engine(
    ctx: TamgaContext,
    settings: &Settings,
    role: Role,
    me: Address,
    signer: Arc<signing::KeySigner>,
) -> eyre::Result<(
    Channels<TamgaContext>,
    EngineHandle,
    Option<(NetworkRef<TamgaContext>, NetworkRef<TamgaContext>)>,
)> {
    let (identity, consensus) = identities(settings, role, me, signer.clone()).await?;
    let config = engine_config(settings);
    let builder = EngineBuilder::new(ctx, config.clone())
        .with_default_wal(WalContext::new(settings.wal_path.clone(), BorshCodec))
        .with_default_sync(SyncContext::new(BorshCodec))
        .with_default_consensus(consensus)
        .with_default_request(RequestContext::new(64));
    #[cfg(feature = "test-faults")]
    if let (Some(config), Role::Validator) = (settings.faults.byzantine.clone(), role) {
        let byzantine = faults::byzantine_context(identity, config, &signer, me);
        let (channels, engine) = builder
            .with_byzantine_network(byzantine)
            .await?
            .build()
            .await?;
        return Ok((channels, engine, None));
    }
    // Read before the network starts: a bad list leaves nothing running.
    let listed = listed_peers(settings)?;
    // The network actor spawned here, as the builder would, so that this node
    // can subscribe to its peer events (see `peers`).
    let registry = SharedRegistry::global().with_moniker(config.moniker());
    let (network, to_network) = arc_malachitebft_app_channel::spawn::spawn_network_actor(
        identity,
        config.consensus(),
        config.value_sync(),
        &registry,
        BorshCodec,
    )
    .await?;
    let gated = listed.is_some();
    let front = match listed {
        Some(listed) => gate::start(network.clone(), listed).await,
        None => Ok(network.clone()),
    };
    let built = match front {
        Ok(front) => builder
            .with_custom_network(front.clone(), to_network)
            .build()
            .await
            .map(|(channels, engine)| (channels, engine, Some((front, network.clone())))),
        Err(error) => Err(error),
    };
    match &built {
        // The builder makes the engine supervise the network reference it was
        // given, here the gate: the network is linked to the engine too, so an
        // engine that dies takes it down (killed, its swarm ending at its next
        // event; an orderly exit stops it first, see `Network::stop_swarm`).
        Ok((_, engine, _)) if gated => network.link(engine.actor.get_cell()),
        Ok(_) => {}
        Err(_) => network.stop(None),
    }
    built
}

/// The peer ids a node that accepts only listed peers talks to (`None`: it
/// accepts anyone). `node::check_pinned` has refused a listed peer without one.
fn listed_peers(settings: &Settings) -> eyre::Result<Option<gate::Listed>> {
    use libp2p::multiaddr::Protocol;
    if settings.accept_unlisted_peers {
        return Ok(None);
    }
    let mut listed = std::collections::HashSet::new();
    for addr in &settings.peers {
        let Some(Protocol::P2p(id)) = addr.iter().find(|p| matches!(p, Protocol::P2p(_))) else {
            eyre::bail!("peer {addr} has no peer id, but this node accepts only listed peers");
        };
        listed.insert(PeerId::from_bytes(&id.to_bytes())?);
    }
    Ok(Some(Arc::new(listed)))
}

#[cfg(test)]
mod tests;
