//! `tamga testnet`: node homes for a local multi-validator network, sharing one
//! genesis (validator keys and powers, chain id, the dev root authority and dev
//! accounts, and each node's operator certified as a legal entity) and each
//! listing the others as consensus and gossip peers. Every node's vault holds the
//! dev identities, behind one API token written to every config.
//! `scripts/devnet.sh` starts them as separate processes on loopback.

use super::dev::save_dev_accounts;
use super::init::write_home;
use super::Globals;
use crate::config::{peer_id_of, Config, Home};
use crate::devnet::{self, DEV_ACCOUNTS};
use crate::progress::{Cadence, Lines, Progress};
use crate::vault::{Identity, Vault};
use anyhow::{bail, Result};
use clap::Args;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde_json::json;
use std::path::PathBuf;
use tamga_runtime::genesis::GenesisValidator;
use tamga_runtime::pki::SubjectKind;
use tamga_runtime::{Genesis, PublicKey};

/// Nodes one loopback testnet may hold (each runs its own process).
pub const TESTNET_NODES_MAX: usize = 32;
/// Ports per node: RPC, consensus p2p, transaction gossip.
const PORTS_PER_NODE: u16 = 10;
/// Plain progress lines: one a second while homes are written, and the total.
const TESTNET_CADENCE: Cadence = Cadence {
    first: std::time::Duration::from_secs(1),
    every: std::time::Duration::from_secs(1),
};

#[derive(Args)]
pub struct TestnetArgs {
    /// Validators, each with power 1.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Extra non-validator nodes that follow the chain and serve JSON-RPC.
    #[arg(long, default_value_t = 0)]
    full_nodes: usize,
    /// Directory to write node0, node1, ... into (must not hold a testnet already).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "tamga-devnet")]
    chain_id: String,
    /// Node i listens on BASE+10i (RPC), BASE+10i+1 (consensus), BASE+10i+2 (gossip).
    #[arg(long, default_value_t = 26600)]
    base_port: u16,
    /// Block interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    block_time_ms: u64,
}

struct Ports {
    rpc: u16,
    p2p: u16,
    gossip: u16,
}

fn ports(base: u16, index: usize) -> Ports {
    let first = base + PORTS_PER_NODE * index as u16;
    Ports {
        rpc: first,
        p2p: first + 1,
        gossip: first + 2,
    }
}

/// Node `index`'s config: every other node is a peer, pinned by its peer id so
/// that a validator (which accepts no unlisted peer) knows each by its key.
fn node_config(args: &TestnetArgs, index: usize, keys: &[SigningKey], token: &str) -> Config {
    let me = ports(args.base_port, index);
    let others: Vec<(String, Ports)> = (0..keys.len())
        .filter(|&i| i != index)
        .map(|i| (peer_id_of(&keys[i]).to_string(), ports(args.base_port, i)))
        .collect();
    let mut config = Config {
        moniker: format!("node{index}"),
        ..Config::default()
    };
    config.rpc.listen = format!("127.0.0.1:{}", me.rpc);
    config.vault.api_token = Some(token.to_owned());
    config.block.block_time_ms = args.block_time_ms;
    config.p2p.listen = format!("127.0.0.1:{}", me.p2p);
    config.p2p.gossip_listen = format!("127.0.0.1:{}", me.gossip);
    config.p2p.peers = others
        .iter()
        .map(|(id, p)| format!("{id}@127.0.0.1:{}", p.p2p))
        .collect();
    config.p2p.gossip_peers = others
        .iter()
        .map(|(id, p)| format!("{id}@127.0.0.1:{}", p.gossip))
        .collect();
    config
}

fn check(args: &TestnetArgs) -> Result<usize> {
    let total = args.validators + args.full_nodes;
    if args.validators == 0 || total > TESTNET_NODES_MAX {
        bail!("a testnet needs 1..={TESTNET_NODES_MAX} nodes, at least one a validator");
    }
    let last = u32::from(args.base_port) + u32::from(PORTS_PER_NODE) * total as u32;
    if args.base_port < 1024 || last > u32::from(u16::MAX) {
        bail!(
            "--base-port {} leaves no room for {total} nodes below port 65535",
            args.base_port
        );
    }
    if args.out.join("node0").exists() {
        bail!(
            "{} already holds a testnet; choose another --out",
            args.out.display()
        );
    }
    Ok(total)
}

/// The dev accounts (but the dev validator) and each node's operator, certified
/// at genesis; with the identities every node's vault keeps.
fn certified(keys: &[SigningKey]) -> (Vec<tamga_runtime::pki::GenesisCertificate>, Vec<Identity>) {
    let mut certificates = vec![];
    let mut identities = vec![];
    for account in DEV_ACCOUNTS.iter().filter(|a| a.name != "validator") {
        certificates.push(account.certificate());
        identities.push(account.identity());
    }
    for (index, key) in keys.iter().enumerate() {
        let name = format!("node{index}");
        let bin = devnet::node_operator_bin(index as u32);
        let full_name = format!("Node {index} Operator LLP");
        let identity = devnet::identity(&name, SubjectKind::LegalEntity, &bin, &full_name);
        let public = PublicKey::of(key);
        certificates.push(devnet::genesis_certificate(
            &name,
            public,
            &identity,
            &[],
            false,
        ));
        identities.push(identity);
    }
    (certificates, identities)
}

pub fn testnet(globals: &Globals, args: TestnetArgs) -> Result<()> {
    let total = check(&args)?;
    let keys: Vec<SigningKey> = (0..total)
        .map(|_| SigningKey::generate(&mut rand::rngs::OsRng))
        .collect();
    let validators = keys[..args.validators]
        .iter()
        .enumerate()
        .map(|(i, key)| GenesisValidator {
            name: format!("node{i}"),
            public_key: PublicKey::of(key),
            power: 1,
        })
        .collect();
    let (certificates, identities) = certified(&keys);
    let genesis = Genesis {
        chain_id: args.chain_id.clone(),
        genesis_time_ms: crate::clock::now_ms(),
        validators,
        certificates,
    };
    let mut token = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let token = hex::encode(token);
    let mut nodes = Vec::with_capacity(total);
    let mut progress = Progress::counter(
        "testnet: writing node homes",
        "nodes",
        0,
        total as u64,
        Lines::Stderr,
        TESTNET_CADENCE,
    );
    for (index, key) in keys.iter().enumerate() {
        let home = Home(args.out.join(format!("node{index}")));
        write_home(
            &home,
            &node_config(&args, index, &keys, &token),
            &genesis,
            key,
        )?;
        save_dev_accounts(&home, false)?;
        let vault = Vault::open(home.data().join("vault"))?;
        for identity in &identities {
            vault.put(identity.clone())?;
        }
        let rpc = format!("http://127.0.0.1:{}", ports(args.base_port, index).rpc);
        let validator = index < args.validators;
        nodes.push(json!({ "home": home.0, "rpc": rpc, "validator": validator, "public_key": PublicKey::of(key) }));
        progress.set(index as u64 + 1, None);
    }
    progress.finish(&format!("testnet: wrote {total} node homes"));
    let value = json!({ "chain_id": genesis.chain_id, "nodes": nodes });
    super::output::print(globals.output, &value, || {
        let mut text = format!("Testnet {} in {}:\n", genesis.chain_id, args.out.display());
        for node in &nodes {
            let role = if node["validator"] == true {
                "validator"
            } else {
                "full node"
            };
            text += &format!(
                "  {}  {role:<9}  RPC {}\n",
                node["home"].as_str().unwrap_or(""),
                node["rpc"].as_str().unwrap_or("")
            );
        }
        text + "Start each with: tamga start --home <home>   (or run scripts/devnet.sh)"
    });
    Ok(())
}
