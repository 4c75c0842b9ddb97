//! Starting a node from its home: open storage (writing genesis on first start),
//! serve JSON-RPC, join transaction gossip and BFT consensus, and stop cleanly on
//! SIGINT/SIGTERM. A node whose key is not in the validator set follows the chain
//! as a full node.

use crate::app::App;
use crate::config::{multiaddr, multiaddrs, peer_ids, Home};
use crate::consensus::mark::SigningState;
use crate::keyring::read_key_file;
use crate::mempool::{Mempool, MempoolLimits};
use crate::storage::Storage;
use anyhow::{Context, Result};
use std::io::Write;
use std::sync::Arc;
use tamga_runtime::contracts::Vm;
use tamga_runtime::{Genesis, Hash32};
use tokio::signal::unix::{signal, SignalKind};

/// Command-line settings that win over `config.toml`.
#[derive(Default, Clone)]
pub struct Overrides {
    pub rpc_listen: Option<String>,
    pub block_time_ms: Option<u64>,
    pub signer_txs_max: Option<usize>,
    /// Heights between the state snapshots this node serves (`--snapshot-interval-heights`).
    pub snapshot_interval_heights: Option<u64>,
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
    genesis.hash()
}

/// Runs the node until a signal or a failure. The app comes back out (once it
/// was opened) so the caller can close the database on the main thread after
/// the runtime is down: [`close`].
pub async fn run(home: &Home, overrides: Overrides) -> (Result<()>, Option<Arc<App>>) {
    let mut opened = None;
    let result = run_opening(home, overrides, &mut opened).await;
    (result, opened)
}

/// Closes the database, if nothing else holds the app any more (the caches'
/// warm-up, if it still runs, is stopped and waited for first). A holder still
/// running (an RPC call past the shutdown wait) keeps it open instead: a
/// database closed by a thread still running while the process exits aborts it
/// (RocksDB's file-lock mutex is a static), and an unclosed one recovers from
/// its write-ahead log on the next start.
pub fn close(app: Arc<App>) {
    if let Some(warming) = app.warming.get() {
        warming.finish();
    }
    if let Some(snapshots) = app.snapshots.get() {
        snapshots.wait_taken();
    }
    if let Err(held) = Arc::try_unwrap(app).map(drop) {
        tracing::warn!(
            holders = Arc::strong_count(&held) - 1,
            "a task still holds the ledger at exit; the database is left to recover from its write-ahead log"
        );
        std::mem::forget(held);
    }
}

async fn run_opening(
    home: &Home,
    overrides: Overrides,
    opened: &mut Option<Arc<App>>,
) -> Result<()> {
    let mut config = home.load_config()?;
    if let Some(listen) = overrides.rpc_listen {
        config.rpc.listen = listen;
    }
    if let Some(ms) = overrides.block_time_ms {
        config.block.block_time_ms = ms;
    }
    if let Some(max) = overrides.signer_txs_max {
        config.mempool.signer_txs_max = max;
    }
    if let Some(heights) = overrides.snapshot_interval_heights {
        config.state_sync.snapshot_interval_heights = heights;
    }
    config.validate()?;
    let genesis = home.load_genesis()?;
    let (_, key) = read_key_file(&home.validator_key())?;
    let storage = Storage::open(&home.data(), &config.storage.cache_budget())
        .with_context(|| format!("opening {}", home.data().display()))?;
    if let (None, Some(url)) = (storage.genesis_hash()?, &config.state_sync.rpc) {
        let joined = crate::state_sync::join(&storage, &genesis, url).await?;
        joined.announce(url, overrides.json_output);
    }
    let tip = storage.init_genesis(
        genesis_hash(&genesis),
        &genesis.initial_writes(),
        genesis.genesis_time_ms,
    )?;
    tracing::info!(height = tip.height, chain_id = %genesis.chain_id, "storage open");
    let limits = MempoolLimits {
        txs_max: config.mempool.txs_max,
        bytes_max: config.mempool.bytes_max,
        signer_txs_max: config.mempool.signer_txs_max,
    };
    let vault = crate::vault::Vault::open(home.data().join("vault"))?;
    let app = Arc::new(App::new(
        storage,
        genesis.chain_id.clone(),
        Mempool::new(limits),
        tip.clone(),
        config.block.block_txs_max,
        Arc::new(contract_vm(home)?),
        vault,
    ));
    *opened = Some(app.clone());
    if config.storage.warm_caches {
        if let Some(warming) = crate::storage::Warming::start(app.clone(), |app| &app.storage) {
            let _ = app.warming.set(warming);
        }
    }
    let snapshots = crate::snapshots::Snapshots::open(
        home.data().join("snapshots"),
        config.state_sync.snapshot_interval_heights,
    )?;
    let _ = app.snapshots.set(snapshots);
    app.erase_from_vault_what_the_ledger_erased()?;
    // Gossip before RPC: a transaction admitted before the gossip sender is set
    // would never be published, and clients submit as soon as the URL prints.
    let signing = Arc::new(SigningState::open(&home.signing_state())?);
    let _ = app.signing.set(signing.clone());
    let in_set = crate::consensus::validator_set_contains(&app, &key)
        .map_err(|e| anyhow::anyhow!("reading the validator set: {e:#}"))?;
    let accept_unlisted = config.p2p.accept_unlisted_peers.unwrap_or(!in_set);
    check_pinned(&config, accept_unlisted)?;
    let (gossip, _gossip_task) = crate::p2p::gossip::start(
        app.clone(),
        crate::p2p::gossip::GossipSettings {
            key: key.clone(),
            listen: multiaddr(&config.p2p.gossip_listen)?,
            peers: multiaddrs(&config.p2p.gossip_peers)?,
            allowed: (!accept_unlisted)
                .then(|| peer_ids(&config.p2p.gossip_peers))
                .transpose()?,
            listed: peer_ids(&config.p2p.gossip_peers)?,
        },
    )
    .await?;
    app.set_gossip(gossip);
    let (rpc, addr) = crate::rpc::start(app.clone(), &config, config.moniker.clone()).await?;
    std::fs::write(home.0.join(crate::cli::RPC_ADDR_FILE), addr.to_string())?;
    tokio::spawn(crate::progress::show_catch_up(app.metrics.clone()));
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
    let settings = crate::consensus::Settings {
        moniker: config.moniker.clone(),
        key,
        listen: multiaddr(&config.p2p.listen)?,
        peers: multiaddrs(&config.p2p.peers)?,
        accept_unlisted_peers: accept_unlisted,
        block_time_ms: config.block.block_time_ms,
        propose_timeout_ms: config.consensus.propose_timeout_ms,
        wal_path: home.data().join("consensus.wal"),
        signing,
        #[cfg(feature = "test-faults")]
        faults: config.test_faults.clone().unwrap_or_default(),
    };
    let result = run_consensus(app, &settings).await;
    rpc.stop().await;
    result
}

/// A node that accepts no unlisted peer must know each listed one by its id.
fn check_pinned(config: &crate::config::Config, accept_unlisted: bool) -> Result<()> {
    if accept_unlisted {
        return Ok(());
    }
    let p2p = &config.p2p;
    let unpinned = p2p
        .peers
        .iter()
        .chain(&p2p.gossip_peers)
        .find(|p| !p.contains('@'));
    if let Some(peer) = unpinned {
        anyhow::bail!(
            "peer {peer:?} has no peer id, but this node accepts only listed peers (p2p.accept_unlisted_peers, off by default for a validator): write it as peer-id@host:port, or set accept_unlisted_peers = true"
        );
    }
    Ok(())
}

/// Runs consensus, switching role as it asks, until a signal or a failure.
async fn run_consensus(app: Arc<App>, settings: &crate::consensus::Settings) -> Result<()> {
    use crate::consensus::{Exit, Role};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut role = crate::consensus::initial_role(&settings.signing, app.tip().height);
    loop {
        let run = crate::consensus::run(app.clone(), settings, role);
        let exit = tokio::select! {
            _ = terminate.recv() => { tracing::info!("SIGTERM: stopping"); return Ok(()) }
            _ = interrupt.recv() => { tracing::info!("SIGINT: stopping"); return Ok(()) }
            exit = run => exit.map_err(|e| anyhow::anyhow!("consensus stopped: {e:#}"))?,
        };
        role = match exit {
            Exit::CatchUp => Role::Follower {
                mark_height: settings.signing.height().unwrap_or(app.tip().height + 1),
            },
            Exit::CaughtUp => Role::Validator,
        };
        tracing::info!(?role, "restarting consensus in a new role");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::open_app;

    #[test]
    fn close_releases_the_database_only_when_nothing_else_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        close(Arc::new(open_app(dir.path())));
        // Closed: its lock is released, so it opens again.
        let again = Arc::new(open_app(dir.path()));
        let held = again.clone();
        close(again);
        drop(held);
        // Still held when closed: left open (its lock kept) for good.
        assert!(Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).is_err());
    }
}
