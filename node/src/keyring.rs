//! Keys on disk: `HOME/keys/NAME.json`, one ed25519 key each, readable only by the
//! owner. Dev accounts are derived from their names, so every `tamga dev` chain has
//! the same well-known accounts (like a test validator's pre-funded keys).

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tamga_runtime::PublicKey;

#[derive(Serialize, Deserialize)]
pub struct KeyFile {
    pub name: String,
    pub public_key: PublicKey,
    /// 32-byte ed25519 seed, hex.
    pub secret_key: String,
}

/// Names: 1..=64 of [A-Za-z0-9_-], so a name is always a safe file name.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        bail!("key name {name:?} must be 1-64 characters of letters, digits, '-' or '_'");
    }
    Ok(())
}

pub fn keys_dir(home: &Path) -> PathBuf {
    home.join("keys")
}

/// The well-known key of dev account `name`. Never use these outside a devnet.
pub fn dev_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&blake3::derive_key(
        "tamga 2026 dev account key v1",
        name.as_bytes(),
    ))
}

pub fn save(home: &Path, name: &str, key: &SigningKey) -> Result<PathBuf> {
    check_name(name)?;
    let dir = keys_dir(home);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    if path.exists() {
        bail!("key {name:?} already exists at {}", path.display());
    }
    let file = KeyFile {
        name: name.to_owned(),
        public_key: PublicKey::of(key),
        secret_key: hex::encode(key.to_bytes()),
    };
    write_private(&path, &serde_json::to_vec_pretty(&file)?)?;
    Ok(path)
}

/// Writes a secret file readable only by its owner.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

pub fn read_key_file(path: &Path) -> Result<(KeyFile, SigningKey)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading key {}", path.display()))?;
    let file: KeyFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("parsing key {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&file.secret_key, &mut seed)
        .with_context(|| format!("secret_key in {} is not 64 hex characters", path.display()))?;
    let key = SigningKey::from_bytes(&seed);
    if PublicKey::of(&key) != file.public_key {
        bail!("{}: public_key does not match secret_key", path.display());
    }
    Ok((file, key))
}

/// A key by name; `validator` falls back to the node's own `validator_key.json`.
pub fn load(home: &Path, name: &str) -> Result<SigningKey> {
    check_name(name)?;
    let path = keys_dir(home).join(format!("{name}.json"));
    let own = home.join("validator_key.json");
    if !path.exists() && name == "validator" && own.exists() {
        return Ok(read_key_file(&own)?.1);
    }
    if !path.exists() {
        bail!(
            "no key named {name:?} in {} (see `tamga keys list`)",
            keys_dir(home).display()
        );
    }
    Ok(read_key_file(&path)?.1)
}

/// All keys, sorted by name.
pub fn list(home: &Path) -> Result<Vec<KeyFile>> {
    let dir = keys_dir(home);
    if !dir.exists() {
        return Ok(vec![]);
    }
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            keys.push(read_key_file(&path)?.0);
        }
    }
    keys.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(keys)
}

/// A public key given as hex, or as the name of a key in the keyring.
pub fn resolve_public(home: &Path, text: &str) -> Result<PublicKey> {
    if let Ok(key) = PublicKey::from_hex(text) {
        return Ok(key);
    }
    load(home, text)
        .map(|k| PublicKey::of(&k))
        .with_context(|| format!("{text:?} is neither a 64-hex public key nor a key name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_keys_load_back_and_names_are_checked() {
        let home = tempfile::tempdir().unwrap();
        let key = dev_key("alice");
        save(home.path(), "alice", &key).unwrap();
        assert!(
            save(home.path(), "alice", &key).is_err(),
            "no silent overwrite"
        );
        assert_eq!(
            load(home.path(), "alice").unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(load(home.path(), "../etc/passwd").is_err());
        assert!(load(home.path(), "nobody").is_err());
        assert_eq!(
            resolve_public(home.path(), "alice").unwrap(),
            PublicKey::of(&key)
        );
        assert!(resolve_public(home.path(), "zz").is_err());
        assert_eq!(list(home.path()).unwrap().len(), 1);
    }
}
