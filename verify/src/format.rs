//! The certificate file, version 1. A file is the 8-byte magic `TAMGACRT`, the
//! format version as a little-endian `u16`, then one [`Certificate`] in the
//! ledger's canonical encoding (bincode 2, standard configuration, see
//! `tamga_runtime::types::encoding`). A verifier refuses a version it does not
//! know rather than guess at its layout.
//!
//! Everything a verifier needs is in the file except the genesis it trusts: the
//! certified block's header and commit certificate, every validator-set change from
//! genesis up to it (each a header, its commit and the proven schedule), and the
//! state values the claim rests on, each with its Merkle proof against the
//! certified state root.

use crate::error::VerifyError;
use crate::tree::StateProof;
use serde::{Deserialize, Serialize};
use tamga_runtime::records::{Provenance, ProvenanceEntry};
use tamga_runtime::types::{encoding, BlockHeader, Commit};
use tamga_runtime::Hash32;

/// The first bytes of every certificate file.
pub const MAGIC: &[u8; 8] = b"TAMGACRT";
/// The one format version this verifier reads.
pub const FORMAT_VERSION: u16 = 1;
/// Provenance entries a certificate must carry: all of them, or at least this many
/// of the newest (so whoever hands a certificate on cannot strip its history).
pub const PROVENANCE_ENTRIES_MIN: usize = 256;
/// Largest certificate file read, low enough that a hostile file cannot exhaust
/// memory. A typical certificate is a few KiB, but every validator-set change since
/// genesis adds its header, commit and schedule (about 200 bytes per validator), so
/// a chain with thousands of set changes outgrows it.
pub const CERTIFICATE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// What a certificate proves something about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// A record's state at the certified height, or that no record has this id.
    Record { id: Hash32 },
    /// The signatures anchored to a document (by its blake3 hash), or that none are.
    Document { hash: Hash32 },
}

/// One state value (`None`: the key is absent) and its proof against a state root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvenValue {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
    pub proof: StateProof,
}

/// One change of the validator set: the block at the change (its header and
/// commit certificate) and the validator schedule proven in that block's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetChange {
    pub header: BlockHeader,
    pub commit: Commit,
    pub schedule: ProvenValue,
}

/// A state root and what proves it from the genesis alone: the block that
/// committed it (header and commit certificate), every validator-set change from
/// genesis up to it, and the genesis hash and validator schedule proven in its
/// state. A node joining from a state snapshot checks this before it takes one
/// byte of the snapshot's state, then checks the state against this root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateAnchor {
    pub header: BlockHeader,
    pub commit: Commit,
    /// Every validator-set change at or below the anchored height, oldest first.
    pub set_changes: Vec<SetChange>,
    /// The genesis hash and the validator schedule at the anchored height.
    pub values: Vec<ProvenValue>,
}

/// The newest entries of a record's provenance, with the running provenance just
/// before the first of them (zero entries when the excerpt is the whole history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceExcerpt {
    pub before: Provenance,
    pub entries: Vec<ProvenanceEntry>,
}

/// A certificate, as the file holds it after the magic and version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub claim: Claim,
    pub header: BlockHeader,
    pub commit: Commit,
    /// Every validator-set change at or below the certified height, oldest first.
    pub set_changes: Vec<SetChange>,
    /// State values at the certified height, each proven against its state root.
    pub values: Vec<ProvenValue>,
    pub provenance: Option<ProvenanceExcerpt>,
}

impl Certificate {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&encoding::encode_serde(self));
        bytes
    }

    /// Reads a file: magic, a version this verifier knows, one canonical value and
    /// nothing after it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, VerifyError> {
        if bytes.len() > CERTIFICATE_BYTES_MAX {
            return Err(VerifyError::TooLarge {
                len: bytes.len(),
                max: CERTIFICATE_BYTES_MAX,
            });
        }
        let header_len = MAGIC.len() + 2;
        if bytes.len() < header_len || &bytes[..MAGIC.len()] != MAGIC {
            return Err(VerifyError::NotACertificate);
        }
        let version = u16::from_le_bytes([bytes[MAGIC.len()], bytes[MAGIC.len() + 1]]);
        if version != FORMAT_VERSION {
            return Err(VerifyError::UnsupportedVersion {
                got: version,
                supported: FORMAT_VERSION,
            });
        }
        encoding::decode_serde(&bytes[header_len..])
            .map_err(|e| VerifyError::Malformed(e.to_string()))
    }
}
