//! Starting a node from its home: open storage (writing genesis on first start),
//! serve JSON-RPC, join transaction gossip and BFT consensus, and stop cleanly on
//! SIGINT/SIGTERM. A node whose key is not in the validator set follows the chain
//! as a full node.

use crate::app::App;
use crate::config::{multiaddr, multiaddrs, Home};
use crate::keyring::read_key_file;
use crate::mempool::{Mempool, MempoolLimits};
use crate::storage::Storage;
use anyhow::{Context, Result};
use std::io::Write;
use std::sync::Arc;
use tamga_runtime::contracts::Vm;
use tamga_runtime::types::{encoding, hashing};
use tamga_runtime::{Genesis, Hash32};
use tokio::signal::unix::{signal, SignalKind};

/// Command-line settings that win over `config.toml`.
#[derive(Default, Clone)]
pub struct Overrides {
    pub rpc_listen: Option<String>,
    pub block_time_ms: Option<u64>,
    /// Announce readiness as one JSON line (`--output json`) instead of text.
    pub json_output: bool,
    /// A one-validator chain with no peers (`tamga dev`): quieter network logs.
    pub lone_validator: bool,
}

/// The contract sandbox, keeping compiled modules in the data directory.
fn contract_vm(home: &Home) -> Result<Vm> {
    let modules = crate::storage::DiskModules::open(home.data().join("wasm-cache"))?;
    Ok(Vm::new()
        .map_err(anyhow::Error::msg)?
        .with_precompiled(Box::new(modules)))
}

pub fn genesis_hash(genesis: &Genesis) -> Hash32 {
    hashing::hash("tamga 2026 genesis v1", &[&encoding::encode(genesis)])
}

pub async fn run(home: &Home, overrides: Overrides) -> Result<()> {
    let mut config = home.load_config()?;
    if let Some(listen) = overrides.rpc_listen {
        config.rpc.listen = listen;
    }
    if let Some(ms) = overrides.block_time_ms {
        config.block.block_time_ms = ms;
    }
    config.validate()?;
    let genesis = home.load_genesis()?;
    let (_, key) = read_key_file(&home.validator_key())?;
    let storage = Storage::open(&home.data())
        .with_context(|| format!("opening {}", home.data().display()))?;
    let tip = storage.init_genesis(
        genesis_hash(&genesis),
        &genesis.initial_writes(),
        genesis.genesis_time_ms,
    )?;
    tracing::info!(height = tip.height, chain_id = %genesis.chain_id, "storage open");
    let limits = MempoolLimits {
        txs_max: config.mempool.txs_max,
        bytes_max: config.mempool.bytes_max,
    };
    let app = Arc::new(App::new(
        storage,
        genesis.chain_id.clone(),
        Mempool::new(limits),
        tip.clone(),
        config.block.block_txs_max,
        Arc::new(contract_vm(home)?),
    ));
    let (rpc, addr) = crate::rpc::start(app.clone(), &config.rpc, config.moniker.clone()).await?;
    std::fs::write(home.0.join(crate::cli::RPC_ADDR_FILE), addr.to_string())?;
    if overrides.json_output {
        let ready = serde_json::json!({
            "event": "ready", "chain_id": genesis.chain_id, "height": tip.height,
            "rpc": format!("http://{addr}"), "ws": format!("ws://{addr}"), "home": home.0,
        });
        println!("{ready}");
    } else {
        println!("Chain:  {} at height {}", genesis.chain_id, tip.height);
        println!("RPC:    http://{addr}");
        println!("WS:     ws://{addr}");
    }
    std::io::stdout().flush()?;
    let (gossip, _gossip_task) = crate::p2p::gossip::start(
        app.clone(),
        crate::p2p::gossip::GossipSettings {
            key: key.clone(),
            listen: multiaddr(&config.p2p.gossip_listen)?,
            peers: multiaddrs(&config.p2p.gossip_peers)?,
        },
    )
    .await?;
    app.set_gossip(gossip);
    let settings = crate::consensus::Settings {
        moniker: config.moniker.clone(),
        key,
        listen: multiaddr(&config.p2p.listen)?,
        peers: multiaddrs(&config.p2p.peers)?,
        block_time_ms: config.block.block_time_ms,
        propose_timeout_ms: config.consensus.propose_timeout_ms,
        wal_path: home.data().join("consensus.wal"),
        blocks_dir: home.data().join("proposals"),
        fault: crate::consensus::Fault::from_env(),
    };
    let consensus = crate::consensus::start(app, settings)
        .await
        .map_err(|e| anyhow::anyhow!("starting consensus: {e:#}"))?;
    let result = wait_for_stop(consensus).await;
    let _ = rpc.stop();
    rpc.stopped().await;
    result
}

/// Returns on SIGINT/SIGTERM (clean stop) or when consensus fails (error).
async fn wait_for_stop(consensus: tokio::task::JoinHandle<eyre::Result<()>>) -> Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => { tracing::info!("SIGTERM: stopping"); Ok(()) }
        _ = interrupt.recv() => { tracing::info!("SIGINT: stopping"); Ok(()) }
        result = consensus => match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!("consensus stopped: {e:#}")),
            Err(e) => Err(e).context("consensus panicked"),
        },
    }
}
