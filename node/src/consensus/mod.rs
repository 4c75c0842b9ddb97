//! BFT consensus from Malachite's app-channel (pinned `=0.8.2`): Tendermint rounds,
//! its write-ahead log (a restarted validator never signs two different votes for
//! one height and round) and value sync (a lagging node fetches decided blocks
//! with their certificates). Everything that touches Malachite's API lives in this
//! module, so a version bump touches nothing else. Participants coordinate,
//! verify and record among themselves with no coordinator (Art. 26 p.3(2)).

mod codec;
mod context;
mod host;
mod parts;
mod signing;
mod values;

use crate::app::App;
use arc_malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, NodeConfig, P2pConfig, ValueSyncConfig,
};
use arc_malachitebft_app_channel::app::net::Multiaddr;
use arc_malachitebft_app_channel::app::types::codec::Codec;
use arc_malachitebft_app_channel::app::types::Keypair;
use arc_malachitebft_app_channel::{
    ConsensusContext, EngineBuilder, NetworkContext, NetworkIdentity, RequestContext, Signer,
    SyncContext, WalContext,
};
use codec::BorshCodec;
use context::{Address, Height, TamgaContext, ValidatorSet};
use ed25519_dalek::SigningKey;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tamga_runtime::limits::BLOCK_BYTES_MAX;
use tamga_runtime::PublicKey;

/// Test-only misbehaviour, switched on by `TAMGA_TEST_FAULT` so a cluster test can
/// show that honest validators refuse it. Off unless that variable names a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Propose blocks whose header carries a wrong state root.
    WrongStateRoot,
}

impl Fault {
    pub fn from_env() -> Fault {
        match std::env::var("TAMGA_TEST_FAULT").as_deref() {
            Ok("wrong-state-root") => Fault::WrongStateRoot,
            _ => Fault::None,
        }
    }
}

/// What the node hands consensus.
pub struct Settings {
    pub moniker: String,
    pub key: SigningKey,
    pub listen: Multiaddr,
    pub peers: Vec<Multiaddr>,
    pub block_time_ms: u64,
    pub propose_timeout_ms: u64,
    pub wal_path: PathBuf,
    /// Where accepted proposal blocks wait for their decision (see `values.rs`).
    pub blocks_dir: PathBuf,
    pub fault: Fault,
}

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

fn engine_config(settings: &Settings) -> EngineConfig {
    use bytesize::ByteSize;
    // A whole block travels in one proposal part; leave room for the envelope.
    let message_max = ByteSize::b((BLOCK_BYTES_MAX + 64 * 1024) as u64);
    let discovery = DiscoveryConfig {
        // Every node of a loopback devnet shares one IP.
        max_connections_per_ip: 64,
        ..DiscoveryConfig::default()
    };
    let p2p = P2pConfig {
        listen_addr: settings.listen.clone(),
        persistent_peers: settings.peers.clone(),
        discovery,
        pubsub_max_size: message_max,
        rpc_max_size: ByteSize::b(message_max.as_u64() * 24),
        ..P2pConfig::default()
    };
    let value_sync = ValueSyncConfig {
        status_update_interval: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        max_response_size: p2p.rpc_max_size,
        batch_size: 20,
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

/// Starts the engine and the host loop; the returned task ends only on failure.
pub async fn start(
    app: Arc<App>,
    settings: Settings,
) -> eyre::Result<tokio::task::JoinHandle<eyre::Result<()>>> {
    let chain_id: Arc<str> = app.chain_id.as_str().into();
    let ctx = TamgaContext {
        chain_id: chain_id.clone(),
    };
    let me = Address(PublicKey::of(&settings.key).0);
    let tip = app.tip().height;
    let is_validator = validator_set(&app, Height(tip + 1))?.contains(&me);
    let keypair = Keypair::ed25519_from_bytes(settings.key.to_bytes())?;
    let signer = signing::KeySigner::new(settings.key.clone(), chain_id.clone());
    let verifier = Box::new(signing::KeyVerifier {
        chain_id: chain_id.clone(),
    });
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
    let consensus = ConsensusContext::new_validator(
        me,
        verifier,
        Box::new(signing::KeySigner::new(
            settings.key.clone(),
            chain_id.clone(),
        )),
    );
    let (mut channels, _engine) = EngineBuilder::new(ctx, engine_config(&settings))
        .with_default_wal(WalContext::new(settings.wal_path.clone(), BorshCodec))
        .with_default_network(NetworkContext::new(identity, BorshCodec))
        .with_default_sync(SyncContext::new(BorshCodec))
        .with_default_consensus(consensus)
        .with_default_request(RequestContext::new(64))
        .build()
        .await?;
    tracing::info!(validator = is_validator, address = %me, "consensus engine started");
    let host = host::Host {
        app,
        me,
        signer,
        block_time_ms: settings.block_time_ms,
        propose_timeout_ms: settings.propose_timeout_ms,
        fault: settings.fault,
        values: values::Values::default(),
        files: values::BlockFiles::open(settings.blocks_dir.clone())?,
    };
    Ok(tokio::spawn(async move {
        let _engine = _engine;
        host.run(&mut channels).await
    }))
}

#[cfg(test)]
mod tests;
