//! `tamga dev`: a throwaway single-validator devnet in one command. Its home is
//! wiped and rewritten on every start (unless `--keep`), its genesis is the one in
//! `seeds/dev-genesis.json`, and its accounts have well-known keys derived from
//! their names, printed at start. Never use dev keys for anything real.

use super::init::{run_node, write_home};
use super::Globals;
use crate::config::{Config, Home};
use crate::keyring::{dev_key, save};
use crate::node::Overrides;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use tamga_runtime::{Genesis, PublicKey};

/// The dev chain's genesis, shipped in the binary so `tamga dev` works anywhere.
pub const DEV_GENESIS_JSON: &str = include_str!("../../../seeds/dev-genesis.json");
/// Dev accounts written to the dev home's keyring, by role.
pub const DEV_ACCOUNTS: [(&str, &str); 7] = [
    (
        "registrar",
        "registers tangible and national objects; may impose arrests",
    ),
    ("alice", "an owner"),
    ("bob", "a buyer"),
    ("bank", "a creditor (pledgee)"),
    ("arbiter1", "a human arbiter for contract disputes"),
    ("arbiter2", "a human arbiter for contract disputes"),
    ("appeal", "the appeal arbiter"),
];

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
    write_home(home, &config, &dev_genesis()?, &dev_key("validator"))?;
    for (name, _) in DEV_ACCOUNTS {
        save(&home.0, name, &dev_key(name))?;
    }
    Ok(())
}

/// The dev accounts and how to use the chain from another shell.
fn print_banner(globals: &Globals, home: &Home) {
    let accounts: Vec<_> = DEV_ACCOUNTS
        .iter()
        .map(|(name, role)| {
            let key = dev_key(name);
            json!({ "name": name, "public_key": PublicKey::of(&key), "secret_key": hex::encode(key.to_bytes()), "role": role })
        })
        .collect();
    let value =
        json!({ "event": "dev", "chain_id": "tamga-dev", "home": home.0, "accounts": accounts });
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
    for (name, role) in DEV_ACCOUNTS {
        let key = dev_key(name);
        println!("  {name:<10} {role}");
        println!("             public {}", PublicKey::of(&key));
        println!("             secret {}", hex::encode(key.to_bytes()));
    }
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
        json_output: globals.output == super::Output::Json,
        lone_validator: true,
    };
    run_node(&home, overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_dev_genesis_matches_the_dev_keys() {
        let genesis = dev_genesis().unwrap();
        assert_eq!(genesis.chain_id, "tamga-dev");
        assert_eq!(genesis.validators.len(), 1);
        assert_eq!(
            genesis.validators[0].public_key,
            PublicKey::of(&dev_key("validator"))
        );
        assert_eq!(
            genesis.registrars,
            vec![PublicKey::of(&dev_key("registrar"))]
        );
    }
}
