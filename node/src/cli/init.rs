//! `tamga init` and `tamga start`.

use super::client::RPC_ADDR_FILE;
use super::Globals;
use crate::config::{Config, Home};
use crate::keyring::write_private;
use crate::node::{self, Overrides};
use anyhow::{bail, Result};
use clap::Args;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use tamga_runtime::genesis::GenesisValidator;
use tamga_runtime::pki::identifier;
use tamga_runtime::pki::{Role, SubjectKind};
use tamga_runtime::{Genesis, PublicKey};

#[derive(Args)]
pub struct InitArgs {
    /// Chain id: lowercase letters, digits and '-'.
    #[arg(long, default_value = "tamga-local")]
    chain_id: String,
    /// The BIN of the legal entity operating this chain: its validator key is
    /// certified at genesis as the chain's root certification authority and
    /// registrar (Art. 52 p.2).
    #[arg(long)]
    operator_bin: String,
    /// The operator's registered name.
    #[arg(long)]
    operator_name: String,
    /// Node name shown in `node_status`.
    #[arg(long, default_value = "tamga-node")]
    moniker: String,
}

#[derive(Args)]
pub struct StartArgs {
    /// RPC listen address, overriding config.toml (port 0 picks a free port).
    #[arg(long)]
    rpc_addr: Option<String>,
    /// Block interval in milliseconds, overriding config.toml.
    #[arg(long)]
    block_time_ms: Option<u64>,
    /// Pending transactions one signer may have, overriding config.toml (a
    /// benchmark's single signer needs more than the default quota).
    #[arg(long)]
    mempool_signer_txs_max: Option<usize>,
    /// Heights between the state snapshots this node serves to joining nodes,
    /// overriding config.toml's `[state_sync] snapshot_interval_heights` (0: none).
    #[arg(long)]
    snapshot_interval_heights: Option<u64>,
}

/// The vault entry of the operator, with fresh random salts.
fn random_identity(bin: &str, name: &str) -> crate::vault::Identity {
    let mut salts = [[0u8; identifier::SALT_BYTES]; 2];
    for salt in &mut salts {
        rand::rngs::OsRng.fill_bytes(salt);
    }
    let commitment = identifier::identifier_commitment(SubjectKind::LegalEntity, bin, &salts[0]);
    crate::vault::Identity {
        subject: identifier::subject_of(&commitment),
        kind: SubjectKind::LegalEntity,
        identifier: bin.to_owned(),
        identifier_salt: hex::encode(salts[0]),
        identifier_commitment: commitment,
        names: vec![crate::vault::NameEntry {
            name: name.to_owned(),
            salt: hex::encode(salts[1]),
            commitment: identifier::name_commitment(name, &salts[1]),
        }],
    }
}

/// Writes config, genesis and validator key into an empty (or missing) home.
pub fn write_home(
    home: &Home,
    config: &Config,
    genesis: &Genesis,
    validator: &SigningKey,
) -> Result<()> {
    if home.config().exists() || home.genesis().exists() {
        bail!(
            "{} already holds a node; choose another --home",
            home.0.display()
        );
    }
    genesis.validate()?;
    config.validate()?;
    std::fs::create_dir_all(&home.0)?;
    home.save_config(config)?;
    std::fs::write(home.genesis(), serde_json::to_vec_pretty(genesis)?)?;
    let file = crate::keyring::KeyFile {
        name: "validator".into(),
        public_key: PublicKey::of(validator),
        secret_key: hex::encode(validator.to_bytes()),
    };
    write_private(&home.validator_key(), &serde_json::to_vec_pretty(&file)?)?;
    Ok(())
}

pub fn init(globals: &Globals, args: InitArgs) -> Result<()> {
    identifier::validate(SubjectKind::LegalEntity, &args.operator_bin)?;
    let validator = SigningKey::generate(&mut rand::rngs::OsRng);
    let public_key = PublicKey::of(&validator);
    let operator = random_identity(&args.operator_bin, &args.operator_name);
    let roles = [Role::Authority, Role::Registrar];
    let root = crate::devnet::genesis_certificate("operator", public_key, &operator, &roles, true);
    let genesis = Genesis {
        chain_id: args.chain_id,
        genesis_time_ms: crate::clock::now_ms(),
        validators: vec![GenesisValidator {
            name: args.moniker.clone(),
            public_key,
            power: 1,
        }],
        certificates: vec![root],
    };
    let mut token = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let mut config = Config {
        moniker: args.moniker,
        ..Config::default()
    };
    config.vault.api_token = Some(hex::encode(token));
    write_home(&globals.home, &config, &genesis, &validator)?;
    crate::vault::Vault::open(globals.home.data().join("vault"))?.put(operator)?;
    let value = serde_json::json!({ "home": globals.home.0, "chain_id": genesis.chain_id, "validator": public_key });
    super::output::print(globals.output, &value, || {
        format!(
            "Initialised {} for chain {} with validator {public_key}",
            globals.home.0.display(),
            genesis.chain_id
        )
    });
    Ok(())
}

pub fn start(globals: &Globals, args: StartArgs) -> Result<()> {
    run_node(
        &globals.home,
        Overrides {
            rpc_listen: args.rpc_addr,
            block_time_ms: args.block_time_ms,
            signer_txs_max: args.mempool_signer_txs_max,
            snapshot_interval_heights: args.snapshot_interval_heights,
            json_output: globals.output == super::Output::Json,
            ..Overrides::default()
        },
    )
}

/// Runs the node until stopped, keeping HOME/rpc.addr pointing at its RPC server.
pub fn run_node(home: &Home, overrides: Overrides) -> Result<()> {
    super::init_logging(overrides.lone_validator);
    let runtime = super::runtime()?;
    let (result, app) = runtime.block_on(node::run(home, overrides));
    // Waits for every task and blocking thread of the runtime, so none holds
    // the app when the database closes, here on the main thread.
    drop(runtime);
    if let Some(app) = app {
        node::close(app);
    }
    let _ = std::fs::remove_file(home.0.join(RPC_ADDR_FILE));
    result
}
