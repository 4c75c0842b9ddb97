//! `tamga keys new|list|show|import|peer-id`.

use super::output::print;
use super::Globals;
use crate::keyring;
use anyhow::Result;
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use serde_json::json;
use tamga_runtime::PublicKey;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new key and save it as HOME/keys/NAME.json.
    New { name: String },
    /// List keys in HOME/keys.
    List,
    /// Show a key's public key.
    Show { name: String },
    /// Copy one of your own key files in as NAME (restoring a backup, or a
    /// node's `validator_key.json` to sign with it from another home). Never
    /// import someone else's key: they sign their own part with `tamga tx sign`
    /// (Art. 51 p.3).
    Import {
        name: String,
        file: std::path::PathBuf,
    },
    /// Show this node's peer id (from its validator key), which other nodes pin
    /// as `peer-id@host:port` in their peer lists.
    PeerId,
}

pub fn run(globals: &Globals, command: KeysCommand) -> Result<()> {
    let home = &globals.home.0;
    match command {
        KeysCommand::New { name } => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let path = keyring::save(home, &name, &key)?;
            let public_key = PublicKey::of(&key);
            let value = json!({ "name": name, "public_key": public_key, "path": path });
            print(globals.output, &value, || {
                format!("{name} {public_key}\nsaved to {}", path.display())
            });
        }
        KeysCommand::List => {
            let keys = keyring::list(home)?;
            let value = json!(keys
                .iter()
                .map(|k| json!({ "name": k.name, "public_key": k.public_key }))
                .collect::<Vec<_>>());
            print(globals.output, &value, || {
                keys.iter()
                    .map(|k| format!("{:<16} {}", k.name, k.public_key))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        KeysCommand::Import { name, file } => {
            let (_, key) = keyring::read_key_file(&file)?;
            let path = keyring::save(home, &name, &key)?;
            let public_key = PublicKey::of(&key);
            let value = json!({ "name": name, "public_key": public_key, "path": path });
            print(globals.output, &value, || format!("{name} {public_key}"));
        }
        KeysCommand::PeerId => {
            let path = crate::config::Home(home.clone()).validator_key();
            let (_, key) = keyring::read_key_file(&path)?;
            let peer_id = crate::config::peer_id_of(&key).to_string();
            let value = json!({ "peer_id": peer_id });
            print(globals.output, &value, || peer_id.clone());
        }
        KeysCommand::Show { name } => {
            let public_key = PublicKey::of(&keyring::load(home, &name)?);
            let value = json!({ "name": name, "public_key": public_key });
            print(globals.output, &value, || public_key.to_string());
        }
    }
    Ok(())
}
