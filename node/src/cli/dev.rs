//! `tamga dev`: a throwaway single-validator devnet in one command. Its home is
//! wiped and rewritten on every start (unless `--keep`), its genesis is the one in
//! `seeds/dev-genesis.json` (a dev root certification authority and certified dev
//! accounts, see [`crate::devnet`]), and its accounts have well-known keys derived
//! from their names, printed at start. Each account also gets a wallet home of
//! its own (`HOME/wallets/NAME`) holding only its key, for signing as that person
//! (`tamga --home HOME/wallets/bob tx sign ...`). Never use dev keys for anything real.

use super::init::{run_node, write_home};
use super::Globals;
use crate::config::{Config, Home};
use crate::devnet::DEV_ACCOUNTS;
use crate::keyring::{dev_key, save};
use crate::node::Overrides;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use tamga_runtime::{Genesis, PublicKey};

/// The dev chain's genesis, shipped in the binary so `tamga dev` works anywhere.
pub const DEV_GENESIS_JSON: &str = include_str!("../../../seeds/dev-genesis.json");
/// The dev node's vault token: public, like the dev keys.
pub const DEV_API_TOKEN: &str = "tamga-dev-api-token-public";

#[derive(Args)]
pub struct DevArgs {
    /// RPC listen address (port 0 picks a free port).
    #[arg(long, default_value = crate::config::DEFAULT_RPC_ADDR)]
    rpc_addr: String,
    /// Block interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    block_time_ms: u64,
    /// Pending transactions one signer may have (default: config's default).
    #[arg(long)]
    mempool_signer_txs_max: Option<usize>,
    /// Heights between the state snapshots this node serves to joining nodes,
    /// overriding config.toml's `[state_sync] snapshot_interval_heights` (0: none).
    #[arg(long)]
    snapshot_interval_heights: Option<u64>,
    /// Keep the existing dev home and chain instead of starting afresh.
    #[arg(long)]
    keep: bool,
}

/// `--home`/`TAMGA_HOME` if given, else `$TMPDIR/tamga-dev`.
fn dev_home(globals: &Globals) -> Home {
    let explicit =
        std::env::var_os("TAMGA_HOME").is_some() || globals.home.0 != crate::config::default_home();
    if explicit {
        return Home(globals.home.0.clone());
    }
    Home(std::env::temp_dir().join("tamga-dev"))
}

pub fn dev_genesis() -> Result<Genesis> {
    let genesis: Genesis =
        serde_json::from_str(DEV_GENESIS_JSON).context("embedded dev genesis")?;
    genesis.validate()?;
    Ok(genesis)
}

fn prepare(home: &Home) -> Result<()> {
    if home.0.exists() {
        std::fs::remove_dir_all(&home.0).with_context(|| format!("wiping {}", home.0.display()))?;
    }
    // One validator, no peers: its swarms take whatever ports are free.
    let mut config = Config {
        moniker: "tamga-dev".into(),
        ..Config::default()
    };
    config.p2p.listen = "127.0.0.1:0".into();
    config.p2p.gossip_listen = "127.0.0.1:0".into();
    config.consensus.propose_timeout_ms = 1000;
    config.vault.api_token = Some(DEV_API_TOKEN.into());
    write_home(home, &config, &dev_genesis()?, &dev_key("validator"))?;
    save_dev_accounts(home, true)?;
    let vault = crate::vault::Vault::open(home.data().join("vault"))?;
    for account in &DEV_ACCOUNTS {
        vault.put(account.identity())?;
    }
    Ok(())
}

/// Every dev key in the home's keyring, and each in a wallet home of its own.
/// A testnet node keeps its own `validator` key: the dev chain's is left out.
pub fn save_dev_accounts(home: &Home, with_dev_validator: bool) -> Result<()> {
    let accounts = DEV_ACCOUNTS
        .iter()
        .filter(|a| with_dev_validator || a.name != "validator");
    for account in accounts {
        let key = dev_key(account.name);
        save(&home.0, account.name, &key)?;
        save(
            &home.0.join("wallets").join(account.name),
            account.name,
            &key,
        )?;
    }
    Ok(())
}

/// The dev accounts and how to use the chain from another shell.
fn print_banner(globals: &Globals, home: &Home) {
    let accounts: Vec<_> = DEV_ACCOUNTS
        .iter()
        .map(|a| {
            let key = dev_key(a.name);
            json!({
                "name": a.name, "public_key": PublicKey::of(&key),
                "secret_key": hex::encode(key.to_bytes()), "role": a.what,
                "subject": a.identity().subject, "identifier": a.identifier,
                "wallet": home.0.join("wallets").join(a.name),
            })
        })
        .collect();
    let value = json!({
        "event": "dev", "chain_id": "tamga-dev", "home": home.0, "accounts": accounts,
        "api_token": DEV_API_TOKEN,
    });
    // One JSON object per line: `dev` keeps running, so consumers read events by line.
    if globals.output == super::Output::Json {
        println!("{value}");
        return;
    }
    println!("Tamga devnet (chain tamga-dev, one validator). Dev keys are public: never use them for real.");
    println!("Home:   {}", home.0.display());
    println!(
        "Accounts (public key, secret key; key files in {}):",
        home.0.join("keys").display()
    );
    for account in &DEV_ACCOUNTS {
        let key = dev_key(account.name);
        let id = account.kind.identifier_name();
        println!("  {:<10} {}", account.name, account.what);
        println!("             public  {}", PublicKey::of(&key));
        println!("             secret  {}", hex::encode(key.to_bytes()));
        println!(
            "             subject {} ({id} {})",
            account.identity().subject,
            account.identifier
        );
    }
    println!(
        "Wallets (one key each, to sign as that person): {}/NAME",
        home.0.join("wallets").display()
    );
    println!("Vault API token (public, dev only): {DEV_API_TOKEN}");
    println!(
        "Use it from another shell:  export TAMGA_HOME={}",
        home.0.display()
    );
}

pub fn dev(globals: &Globals, args: DevArgs) -> Result<()> {
    let home = dev_home(globals);
    if !(args.keep && home.config().exists()) {
        prepare(&home)?;
    }
    print_banner(globals, &home);
    let overrides = Overrides {
        rpc_listen: Some(args.rpc_addr),
        block_time_ms: Some(args.block_time_ms),
        signer_txs_max: args.mempool_signer_txs_max,
        snapshot_interval_heights: args.snapshot_interval_heights,
        json_output: globals.output == super::Output::Json,
        lone_validator: true,
    };
    run_node(&home, overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped file is what [`devnet`] derives from the dev names; on a
    /// mismatch the message holds the file to ship.
    #[test]
    fn shipped_dev_genesis_matches_the_dev_accounts() {
        let shipped = serde_json::from_str::<Genesis>(DEV_GENESIS_JSON).ok();
        let derived = Genesis {
            chain_id: "tamga-dev".into(),
            genesis_time_ms: 1_767_225_600_000,
            validators: vec![tamga_runtime::genesis::GenesisValidator {
                name: "validator".into(),
                public_key: PublicKey::of(&dev_key("validator")),
                power: 1,
            }],
            certificates: crate::devnet::dev_certificates(),
        };
        derived.validate().unwrap();
        assert!(
            shipped.as_ref() == Some(&derived),
            "seeds/dev-genesis.json should be:\n{}",
            serde_json::to_string_pretty(&derived).unwrap()
        );
    }
}
