//! The personal-data vault (Art. 41, Art. 55 p.3): the clear IIN or BIN, names,
//! and the salts behind the commitments a certificate puts on the ledger. It lives
//! only on the node of the authority that issued (the ledger holds commitments
//! alone), one small file per subject under `data/vault/`, written by
//! write-fsync-rename and erased by unlink plus a directory fsync. Nothing else in
//! the node — RocksDB, logs, the mempool — ever holds a clear identifier, so an
//! erasure leaves nothing that links the commitment to the person.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tamga_runtime::pki::identifier::{self, SALT_BYTES};
use tamga_runtime::pki::SubjectKind;
use tamga_runtime::{Hash32, SubjectId};

/// Names kept for one subject (one per certificate; a name change adds one).
pub const NAMES_PER_SUBJECT_MAX: usize = 32;

/// A name and the salt behind its commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameEntry {
    pub name: String,
    /// 32 bytes, hex.
    pub salt: String,
    pub commitment: Hash32,
}

/// What the vault knows of one subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub subject: SubjectId,
    pub kind: SubjectKind,
    /// The IIN or BIN in clear.
    pub identifier: String,
    /// 32 bytes, hex.
    pub identifier_salt: String,
    pub identifier_commitment: Hash32,
    pub names: Vec<NameEntry>,
}

pub fn salt_from_hex(text: &str) -> Result<[u8; SALT_BYTES]> {
    let mut salt = [0u8; SALT_BYTES];
    hex::decode_to_slice(text, &mut salt)
        .with_context(|| format!("a salt is {} hex characters", SALT_BYTES * 2))?;
    Ok(salt)
}

impl Identity {
    /// Checks that every commitment opens with its value and salt.
    pub fn check(&self) -> Result<()> {
        let salt = salt_from_hex(&self.identifier_salt)?;
        let commitment = identifier::identifier_commitment(self.kind, &self.identifier, &salt);
        if commitment != self.identifier_commitment
            || identifier::subject_of(&commitment) != self.subject
        {
            bail!(
                "the identifier and salt do not open subject {}'s commitment",
                self.subject
            );
        }
        for entry in &self.names {
            let salt = salt_from_hex(&entry.salt)?;
            if identifier::name_commitment(&entry.name, &salt) != entry.commitment {
                bail!(
                    "a name and salt do not open commitment {}",
                    entry.commitment
                );
            }
        }
        if self.names.len() > NAMES_PER_SUBJECT_MAX {
            bail!("at most {NAMES_PER_SUBJECT_MAX} names per subject");
        }
        Ok(())
    }
}

pub struct Vault {
    dir: PathBuf,
    /// One writer at a time: a put is read-merge-write.
    lock: Mutex<()>,
}

impl Vault {
    /// Opens the vault, deleting any temporary file a crash left mid-write
    /// (it may hold an identifier no one can erase otherwise).
    pub fn open(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        sync_dir(&dir)?;
        Ok(Vault {
            dir,
            lock: Mutex::new(()),
        })
    }

    fn path(&self, subject: &SubjectId) -> PathBuf {
        self.dir.join(format!("{subject}.json"))
    }

    pub fn get(&self, subject: &SubjectId) -> Result<Option<Identity>> {
        let path = self.path(subject);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Stores `identity`, merging its names with what is there; returns what was
    /// there before (to put back if the transaction is refused).
    pub fn put(&self, identity: Identity) -> Result<Option<Identity>> {
        identity.check()?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // One identifier names one subject here (Art. 45 p.6), checked under
        // the same lock as the write, so two issues cannot both pass.
        if let Some(known) = self.find_unlocked(identity.kind, &identity.identifier)? {
            if known.subject != identity.subject {
                bail!(
                    "this {} already names subject {} here: certify the new key for that subject (--subject); one identifier, one subject (Art. 45 p.6)",
                    identity.kind.identifier_name(),
                    known.subject
                );
            }
        }
        let before = self.get(&identity.subject)?;
        let mut merged = identity;
        if let Some(old) = &before {
            if old.identifier_commitment != merged.identifier_commitment {
                bail!("subject {} already has another identifier", merged.subject);
            }
            for entry in &old.names {
                if !merged
                    .names
                    .iter()
                    .any(|n| n.commitment == entry.commitment)
                {
                    merged.names.push(entry.clone());
                }
            }
        }
        merged.check()?;
        self.write(&merged)?;
        Ok(before)
    }

    /// Puts back what [`Vault::put`] returned: the old entry, or none.
    pub fn restore(&self, subject: &SubjectId, before: Option<Identity>) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match before {
            Some(old) => self.write(&old),
            None => self.remove(subject).map(|_| ()),
        }
    }

    fn write(&self, identity: &Identity) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.path(&identity.subject);
        let tmp = path.with_extension("json.tmp");
        // Readable by the node's user only, like a key file.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(identity)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)
    }

    /// Erases everything kept about `subject` (Art. 41 p.1); true if there was any.
    pub fn erase(&self, subject: &SubjectId) -> Result<bool> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.remove(subject)
    }

    fn remove(&self, subject: &SubjectId) -> Result<bool> {
        let path = self.path(subject);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("erasing {}", path.display())),
        }
    }

    /// The subject this vault knows by `identifier` (of `kind`), if any: one
    /// identifier names one subject here (Art. 45 p.6). The caller holds the lock.
    fn find_unlocked(&self, kind: SubjectKind, identifier: &str) -> Result<Option<Identity>> {
        for subject in self.subjects()? {
            if let Some(identity) = self.get(&subject)? {
                if identity.kind == kind && identity.identifier == identifier {
                    return Ok(Some(identity));
                }
            }
        }
        Ok(None)
    }

    /// Every subject the vault holds data for.
    pub fn subjects(&self) -> Result<Vec<SubjectId>> {
        let mut out = vec![];
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(hex) = name.strip_suffix(".json") {
                if let Ok(subject) = SubjectId::from_hex(hex) {
                    out.push(subject);
                }
            }
        }
        Ok(out)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// A constant-time comparison of API tokens.
pub fn token_matches(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str) -> Identity {
        let salt = [1u8; SALT_BYTES];
        let iin = "900501300120";
        let commitment = identifier::identifier_commitment(SubjectKind::Individual, iin, &salt);
        Identity {
            subject: identifier::subject_of(&commitment),
            kind: SubjectKind::Individual,
            identifier: iin.into(),
            identifier_salt: hex::encode(salt),
            identifier_commitment: commitment,
            names: vec![NameEntry {
                name: name.into(),
                salt: hex::encode([2u8; SALT_BYTES]),
                commitment: identifier::name_commitment(name, &[2u8; SALT_BYTES]),
            }],
        }
    }

    #[test]
    fn put_merges_names_and_erase_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().join("vault")).unwrap();
        let first = identity("Dana A.");
        let subject = first.subject;
        assert_eq!(vault.put(first).unwrap(), None);
        vault.put(identity("Dana B.")).unwrap();
        assert_eq!(vault.get(&subject).unwrap().unwrap().names.len(), 2);
        assert!(vault.erase(&subject).unwrap());
        assert!(vault.get(&subject).unwrap().is_none());
        for entry in std::fs::read_dir(dir.path().join("vault")).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains("900501300120"));
        }
    }

    #[test]
    fn a_commitment_that_does_not_open_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().to_path_buf()).unwrap();
        let mut wrong = identity("Dana");
        wrong.identifier = "900501300121".into();
        assert!(vault.put(wrong).is_err());
        let mut wrong_name = identity("Dana");
        wrong_name.names[0].name = "Someone else".into();
        assert!(vault.put(wrong_name).is_err());
    }

    #[test]
    fn one_identifier_names_one_subject_and_leftovers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().to_path_buf()).unwrap();
        vault.put(identity("Dana")).unwrap();
        // The same IIN under another salt would be a second subject.
        let salt = [9u8; SALT_BYTES];
        let commitment =
            identifier::identifier_commitment(SubjectKind::Individual, "900501300120", &salt);
        let mut other = identity("Dana");
        other.identifier_salt = hex::encode(salt);
        other.identifier_commitment = commitment;
        other.subject = identifier::subject_of(&commitment);
        assert!(vault.put(other).is_err());
        // A temporary file a crash left behind is gone at the next open.
        std::fs::write(dir.path().join("x.json.tmp"), "900501300120").unwrap();
        Vault::open(dir.path().to_path_buf()).unwrap();
        assert!(!dir.path().join("x.json.tmp").exists());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc"));
        assert!(!token_matches("ab", "abc"));
    }
}
