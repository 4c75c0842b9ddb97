//! `tamga doc ...`: the ledger as a timestamp service for files (Art. 55 p.1(4):
//! "a timestamping service, confirming the point in time at which an electronic
//! digital signature existed in an electronic document"). A file is named by its
//! plain blake3 hash (any `b3sum` gives the same); the file itself never leaves
//! this machine. `anchor` signs the hash on the ledger, `verify` asks a node who
//! has, and `certificate` writes a file proving it offline (`tamga verify`).

use super::certfile;
use super::output::{print, Reported};
use super::tx::{submit_cosigned, TxOpts};
use super::Globals;
use crate::keyring;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tamga_runtime::types::Payload;
use tamga_runtime::{Hash32, PublicKey};
use tamga_verify::time::utc;
use tamga_verify::Claim;

#[derive(Subcommand)]
pub enum DocCommand {
    /// Anchor your signature to FILE's blake3 hash, at the block's time; each
    /// --cosign key signs it too (Art. 55 p.1(4)).
    Anchor {
        file: PathBuf,
        /// A co-signer's key name in HOME/keys; repeat for each. A co-signer
        /// without a key here signs a file instead (`--out`, `tamga tx sign`).
        #[arg(long = "cosign", value_name = "NAME")]
        cosigners: Vec<String>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Ask the node who has anchored signatures to FILE; exits non-zero if no one.
    Verify { file: PathBuf },
    /// Write a certificate of FILE's anchored signatures (or that there are
    /// none), to check offline with `tamga verify`.
    Certificate {
        file: PathBuf,
        /// The height to certify (default: the node's latest).
        #[arg(long)]
        height: Option<u64>,
        /// Where to write it (default: standard output, never a terminal).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(globals: &Globals, command: DocCommand) -> Result<()> {
    super::runtime()?.block_on(async {
        match command {
            DocCommand::Anchor {
                file,
                cosigners,
                opts,
            } => anchor(globals, &file, &cosigners, opts).await,
            DocCommand::Verify { file } => verify(globals, &file).await,
            DocCommand::Certificate { file, height, out } => {
                certificate(globals, &file, height, out.as_deref()).await
            }
        }
    })
}

/// The file's plain blake3 hash, read in chunks (any size, little memory).
pub fn hash_file(path: &Path) -> Result<Hash32> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {} to hash it", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {} to hash it", path.display()))?;
    Ok(Hash32(*hasher.finalize().as_bytes()))
}

/// The co-signers' keys, each once and none the signer's.
fn cosigning_keys(home: &Path, from: &str, names: &[String]) -> Result<Vec<SigningKey>> {
    let signer = keyring::resolve_public(home, from).ok();
    let mut keys: Vec<SigningKey> = Vec::with_capacity(names.len());
    for name in names {
        let key = keyring::load(home, name).with_context(|| format!("--cosign {name}"))?;
        let public = PublicKey::of(&key);
        if Some(public) == signer || keys.iter().any(|k| PublicKey::of(k) == public) {
            bail!("--cosign {name}: key {public} already signs this anchoring");
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Key names from the keyring, by public key (hex), to show people names they
/// know; a keyring that cannot be read just names nobody.
fn key_names(home: &Path) -> HashMap<String, String> {
    let keys = keyring::list(home).unwrap_or_default();
    keys.into_iter()
        .map(|k| (k.public_key.to_string(), k.name))
        .collect()
}

/// Adds `time_utc`, and `name` where the keyring knows the key, to each signature.
fn annotate(signatures: &mut Value, names: &HashMap<String, String>) {
    for sig in signatures.as_array_mut().into_iter().flatten() {
        if let Some(ms) = sig["time_ms"].as_u64() {
            sig["time_utc"] = json!(utc(ms));
        }
        if let Some(name) = sig["key"].as_str().and_then(|k| names.get(k)) {
            sig["name"] = json!(name);
        }
    }
}

fn signature_lines(signatures: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for sig in signatures.as_array().into_iter().flatten() {
        let text = |field: &str| sig[field].as_str().unwrap_or_default().to_owned();
        let who = sig["name"].as_str().unwrap_or("a key not in this keyring");
        lines.push(format!("signed by {who}"));
        lines.push(format!("  subject      {}", text("subject")));
        lines.push(format!("  key          {}", text("key")));
        lines.push(format!("  certificate  {}", text("certificate")));
        lines.push(format!("  height       {}", sig["height"]));
        lines.push(format!("  time         {}", text("time_utc")));
        lines.push(format!("  transaction  {}", text("tx")));
    }
    lines
}

async fn anchor(globals: &Globals, file: &Path, cosigners: &[String], opts: TxOpts) -> Result<()> {
    let home = &globals.home.0;
    let document = hash_file(file)?;
    let keys = cosigning_keys(home, &opts.from, cosigners)?;
    let payload = Payload::AnchorDocument { document };
    let Some(mut result) = submit_cosigned(globals, payload, opts, &keys).await? else {
        return Ok(());
    };
    let client = super::client::connect(globals)?;
    let anchors = serde_json::to_value(client.doc_get(document).await?)?;
    let tx = &result["hash"];
    let mut mine: Value = anchors["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| &s["tx"] == tx)
        .cloned()
        .collect();
    annotate(&mut mine, &key_names(home));
    let time_ms = mine[0]["time_ms"].as_u64();
    result["document"] = json!(document);
    result["file"] = json!(file);
    result["time_ms"] = json!(time_ms);
    result["time_utc"] = json!(time_ms.map(utc));
    result["signatures"] = mine;
    print(globals.output, &result, || {
        let mut lines = vec![
            format!(
                "anchored document {document} (blake3 of {})",
                file.display()
            ),
            format!(
                "in transaction {} at height {}, block time {}",
                result["hash"].as_str().unwrap_or_default(),
                result["height"],
                result["time_utc"].as_str().unwrap_or("unknown")
            ),
        ];
        lines.extend(signature_lines(&result["signatures"]));
        lines.join("\n")
    });
    Ok(())
}

async fn verify(globals: &Globals, file: &Path) -> Result<()> {
    let document = hash_file(file)?;
    let client = super::client::connect(globals)?;
    let mut value = serde_json::to_value(client.doc_get(document).await?)?;
    annotate(&mut value["signatures"], &key_names(&globals.home.0));
    let count = value["signatures"].as_array().map_or(0, Vec::len);
    value["file"] = json!(file);
    value["anchored"] = json!(count > 0);
    let height = value["height"].clone();
    let name = file.display();
    if count == 0 {
        print(globals.output, &value, || {
            format!("NOT ANCHORED: no signature is anchored to {name} (blake3 {document}) as of height {height}")
        });
        return Err(Reported(format!("{name} is not anchored")).into());
    }
    print(globals.output, &value, || {
        let mut lines = vec![format!(
            "ANCHORED: {name} (blake3 {document}) carries {count} anchored signature(s) as of height {height}"
        )];
        lines.extend(signature_lines(&value["signatures"]));
        lines.join("\n")
    });
    Ok(())
}

async fn certificate(
    globals: &Globals,
    file: &Path,
    height: Option<u64>,
    out: Option<&Path>,
) -> Result<()> {
    if out.is_none() {
        certfile::check_stdout()?;
    }
    let hash = hash_file(file)?;
    let client = super::client::connect(globals)?;
    let fetched = certfile::fetch(&client, Claim::Document { hash }, height).await?;
    match out {
        Some(path) => {
            certfile::write(path, &fetched.bytes)?;
            certfile::report(globals, path, &fetched);
        }
        None => {
            certfile::write_stdout(&fetched.bytes)?;
            eprintln!(
                "certificate of document {hash} at height {} written to standard output ({} bytes)",
                fetched.height,
                fetched.bytes.len()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "doc_tests.rs"]
mod tests;
