//! Assembling certificates (Art. 62 p.1: an electronic document "must be capable of
//! being circulated and stored outside the digital system, in which it was created,
//! without altering its properties"). A certificate is the certified block's header
//! and commit, every validator-set change from genesis to it, and the state values
//! a claim rests on with their Merkle proofs; `tamga_verify` checks it offline.
//!
//! The node keeps every tree version (it never prunes the state tree), so any
//! committed height can be certified for as long as the node keeps its data.

use crate::storage::{prove, value_at, HistoryEntry, Storage, StorageError};
use tamga_runtime::condo::Condo;
use tamga_runtime::documents::DocumentAnchors;
use tamga_runtime::records::{Asset, Provenance, Record};
use tamga_runtime::state::keys;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;
use tamga_verify::{Certificate, Claim, ProvenValue, ProvenanceExcerpt, SetChange, StateAnchor};

/// Provenance entries a certificate carries at least (when the record has that
/// many): earlier ones are committed to by the running digest before them. A
/// verifier refuses fewer.
pub const PROVENANCE_EXCERPT_ENTRIES: usize = tamga_verify::format::PROVENANCE_ENTRIES_MIN;
/// And at most, when the oldest block in the excerpt changed the record many times.
pub const PROVENANCE_EXCERPT_ENTRIES_MAX: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    #[error("height {height} cannot be certified: the chain is at height {tip}")]
    NotYet { height: u64, tip: u64 },
    #[error("height 0 is the genesis: the first certifiable block is height 1")]
    Genesis,
    #[error("record {0} changed more than {PROVENANCE_EXCERPT_ENTRIES_MAX} times in one block: too many entries for one certificate")]
    HistoryTooLong(Hash32),
    #[error("height {height} is below this node's history, which starts at height {history_from} (it joined from a state snapshot there): ask a node that replayed from genesis")]
    BeforeHistory { height: u64, history_from: u64 },
    #[error("record {0}'s provenance is needed for its certificate, and this node holds history only from height {1} (it joined from a state snapshot there): ask a node that replayed from genesis")]
    NoProvenance(Hash32, u64),
    #[error("storage holds no {what} at height {height}")]
    Missing { what: &'static str, height: u64 },
    #[error("stored {what} does not decode: {reason}")]
    Corrupt { what: String, reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A certificate for record `id` (or that no record has it) at `height`.
pub fn record(storage: &Storage, id: &Hash32, height: u64) -> Result<Certificate, CertifyError> {
    let mut cert = base(storage, Claim::Record { id: *id }, height)?;
    let proven = prove(storage, &keys::record(id), height)?;
    let record: Option<Record> = decode(&proven)?;
    cert.values.push(proven);
    let Some(record) = record else {
        return Ok(cert);
    };
    // The snapshot's own block's provenance entries are not kept either.
    let history_from = storage.history_from()?;
    if history_from > 0 && record.registered_height <= history_from {
        return Err(CertifyError::NoProvenance(*id, history_from));
    }
    let excerpt = excerpt(storage, id, height)?;
    let certificates = excerpt.entries.iter().flat_map(|e| &e.signers);
    for id in certificates.filter_map(|s| s.certificate) {
        let key = keys::certificate(&id);
        if !cert.values.iter().any(|v| v.key == key) {
            cert.values.push(prove(storage, &key, height)?);
        }
    }
    if let Asset::Share { condo, .. } = record.asset {
        let proven = prove(storage, &keys::condo(&condo), height)?;
        let _: Option<Condo> = decode(&proven)?;
        cert.values.push(proven);
    }
    cert.provenance = Some(excerpt);
    Ok(cert)
}

/// A certificate for the signatures anchored to document `hash` (or that none
/// were) at `height`.
pub fn document(
    storage: &Storage,
    hash: &Hash32,
    height: u64,
) -> Result<Certificate, CertifyError> {
    let mut cert = base(storage, Claim::Document { hash: *hash }, height)?;
    let proven = prove(storage, &keys::document(hash), height)?;
    let anchors: Option<DocumentAnchors> = decode(&proven)?;
    cert.values.push(proven);
    for sig in anchors.map(|a| a.signatures).unwrap_or_default() {
        let proven = prove(storage, &keys::certificate(&sig.certificate), height)?;
        if !cert.values.iter().any(|v| v.key == proven.key) {
            cert.values.push(proven);
        }
    }
    Ok(cert)
}

/// Header, commit, the validator-set chain, and the values every claim needs:
/// the genesis hash and the validator schedule at `height`.
fn base(storage: &Storage, claim: Claim, height: u64) -> Result<Certificate, CertifyError> {
    let anchor = anchor(storage, height)?;
    Ok(Certificate {
        claim,
        header: anchor.header,
        commit: anchor.commit,
        set_changes: anchor.set_changes,
        values: anchor.values,
        provenance: None,
    })
}

/// The block at `height` and what proves its state root from the genesis: what a
/// certificate rests on, and what a node joining from a snapshot checks first.
pub fn anchor(storage: &Storage, height: u64) -> Result<StateAnchor, CertifyError> {
    let tip = storage.tip()?.map_or(0, |t| t.height);
    if height == 0 {
        return Err(CertifyError::Genesis);
    }
    if height > tip {
        return Err(CertifyError::NotYet { height, tip });
    }
    let history_from = storage.history_from()?;
    if height < history_from {
        return Err(CertifyError::BeforeHistory {
            height,
            history_from,
        });
    }
    let (header, commit) = signed_block(storage, height)?;
    let mut set_changes = Vec::new();
    for at in storage.set_change_heights(height)? {
        if let Some(kept) = storage.kept_set_change(at)? {
            set_changes.push(kept);
            continue;
        }
        let (header, commit) = signed_block(storage, at)?;
        let schedule = prove(storage, &keys::validators(), at)?;
        set_changes.push(SetChange {
            header,
            commit,
            schedule,
        });
    }
    let values = vec![
        prove(storage, &keys::genesis(), height)?,
        prove(storage, &keys::validators(), height)?,
    ];
    Ok(StateAnchor {
        header,
        commit,
        set_changes,
        values,
    })
}

fn signed_block(
    storage: &Storage,
    height: u64,
) -> Result<
    (
        tamga_runtime::types::BlockHeader,
        tamga_runtime::types::Commit,
    ),
    CertifyError,
> {
    let block = storage.block(height)?.ok_or(CertifyError::Missing {
        what: "block",
        height,
    })?;
    let commit = storage.commit(height)?.ok_or(CertifyError::Missing {
        what: "commit certificate",
        height,
    })?;
    Ok((block.header, commit))
}

/// The newest entries of the record's provenance and the running digest before.
fn excerpt(storage: &Storage, id: &Hash32, height: u64) -> Result<ProvenanceExcerpt, CertifyError> {
    let entries: Vec<HistoryEntry> = storage
        .latest_history(
            id,
            height,
            PROVENANCE_EXCERPT_ENTRIES,
            PROVENANCE_EXCERPT_ENTRIES_MAX,
        )?
        .ok_or(CertifyError::HistoryTooLong(*id))?;
    let before = match entries.first() {
        // The record as it was before the excerpt's first block (absent, if that
        // block created it: its history then starts in the excerpt).
        Some(first) => value_at(storage, &keys::record(id), first.height - 1)?
            .map(|bytes| decode_bytes::<Record>("record", &bytes))
            .transpose()?
            .map(|record| record.provenance)
            .unwrap_or_default(),
        None => Provenance::default(),
    };
    Ok(ProvenanceExcerpt { before, entries })
}

fn decode<T: encoding::Decode<()>>(proven: &ProvenValue) -> Result<Option<T>, CertifyError> {
    proven
        .value
        .as_deref()
        .map(|bytes| decode_bytes(&String::from_utf8_lossy(&proven.key), bytes))
        .transpose()
}

fn decode_bytes<T: encoding::Decode<()>>(what: &str, bytes: &[u8]) -> Result<T, CertifyError> {
    encoding::decode(bytes).map_err(|e| CertifyError::Corrupt {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
#[path = "certify_tests.rs"]
mod tests;
