//! A record claim: the record as proven (or proven absent), its provenance
//! excerpt against the proven running digest, the certificates of the keys that
//! signed its changes, and, for a condominium share, the share's fraction.

use crate::error::VerifyError;
use crate::format::{Certificate, PROVENANCE_ENTRIES_MIN};
use crate::report::{ProvenanceFinding, RecordFinding, ShareFinding, SignerFinding};
use crate::values::ProvenState;
use tamga_runtime::condo::Condo;
use tamga_runtime::pki::Certificate as KeyCertificate;
use tamga_runtime::records::{Asset, Provenance, ProvenanceEntry, Record, Signer};
use tamga_runtime::state::keys;
use tamga_runtime::types::EncumbranceKind;
use tamga_runtime::{Hash32, PublicKey};

const KINDS: [EncumbranceKind; 4] = [
    EncumbranceKind::Pledge,
    EncumbranceKind::Lien,
    EncumbranceKind::Lease,
    EncumbranceKind::Arrest,
];

pub fn check(
    state: &ProvenState,
    id: &Hash32,
    cert: &Certificate,
    height: u64,
) -> Result<RecordFinding, VerifyError> {
    let record: Option<Record> = state.get(&keys::record(id))?;
    let Some(record) = record else {
        if cert.provenance.is_some() {
            return Err(VerifyError::Inconsistent(
                "a provenance excerpt for a record proven not to exist".into(),
            ));
        }
        return Ok(RecordFinding {
            id: *id,
            record: None,
            absent_encumbrances: Vec::new(),
            arrested: false,
            share: None,
            provenance: None,
            signers: Vec::new(),
        });
    };
    if record.id != *id {
        return Err(VerifyError::Inconsistent(format!(
            "the value proven for record {id} is record {}",
            record.id
        )));
    }
    let provenance = check_provenance(id, &record.provenance, cert)?;
    let signers = signers(state, &provenance.entries)?;
    let share = share(state, &record)?;
    let absent_encumbrances = KINDS
        .into_iter()
        .filter(|kind| !record.encumbrances.iter().any(|e| e.kind == *kind))
        .collect::<Vec<_>>();
    debug_assert!(height >= record.registered_height);
    Ok(RecordFinding {
        id: *id,
        arrested: !absent_encumbrances.contains(&EncumbranceKind::Arrest),
        absent_encumbrances,
        record: Some(record),
        share,
        provenance: Some(provenance),
        signers,
    })
}

/// Folds the excerpt onto the running provenance before it; the result must be
/// the proven provenance, count and digest both.
fn check_provenance(
    id: &Hash32,
    proven: &Provenance,
    cert: &Certificate,
) -> Result<ProvenanceFinding, VerifyError> {
    let proven = *proven;
    let Some(excerpt) = &cert.provenance else {
        return Err(VerifyError::Missing {
            what: "the record's provenance excerpt".into(),
        });
    };
    let required = proven.entries.min(PROVENANCE_ENTRIES_MIN as u64);
    if (excerpt.entries.len() as u64) < required {
        return Err(VerifyError::Provenance {
            reason: format!(
                "it carries {} entries; a certificate carries the newest {required} at least",
                excerpt.entries.len()
            ),
        });
    }
    let mut running = excerpt.before;
    for (i, entry) in excerpt.entries.iter().enumerate() {
        if !entry.event.records().contains(id) {
            return Err(VerifyError::Provenance {
                reason: format!("entry {} is not about this record", i + 1),
            });
        }
        running = running.absorb(entry);
    }
    if running != proven {
        return Err(VerifyError::Provenance {
            reason: format!(
                "its entries fold to {} entries with digest {}, the proven provenance has {} with digest {}",
                running.entries, running.digest, proven.entries, proven.digest
            ),
        });
    }
    Ok(ProvenanceFinding {
        total: proven.entries,
        earlier: excerpt.before.entries,
        entries: excerpt.entries.clone(),
    })
}

/// Each (key, certificate) that signed an entry, once, with the certificate as
/// proven at the certified height (its revocation, if any, shows) and its
/// standing when that key last signed this record's changes under it.
fn signers(
    state: &ProvenState,
    entries: &[ProvenanceEntry],
) -> Result<Vec<SignerFinding>, VerifyError> {
    let mut seen: Vec<Signer> = Vec::new();
    for signer in entries.iter().flat_map(|e| &e.signers) {
        if !seen.contains(signer) {
            seen.push(*signer);
        }
    }
    seen.into_iter()
        .map(|signer| {
            let Some(id) = signer.certificate else {
                let key = signer.key;
                return Ok(SignerFinding {
                    key,
                    certificate: None,
                    status_when_signed: None,
                });
            };
            let cert = certificate(state, &id, &signer.key)?;
            let last = entries.iter().rev().find(|e| e.signers.contains(&signer));
            let status_when_signed = last.map(|e| cert.status_at(e.height, e.time_ms));
            Ok(SignerFinding {
                key: signer.key,
                certificate: Some(cert),
                status_when_signed,
            })
        })
        .collect()
}

/// Certificate `id`, which must bind `key`.
pub fn certificate(
    state: &ProvenState,
    id: &Hash32,
    key: &PublicKey,
) -> Result<KeyCertificate, VerifyError> {
    let cert: KeyCertificate = state.require(&keys::certificate(id))?;
    if cert.id != *id || cert.key != *key {
        return Err(VerifyError::Inconsistent(format!(
            "certificate {id} as proven does not bind key {key}"
        )));
    }
    Ok(cert)
}

fn share(state: &ProvenState, record: &Record) -> Result<Option<ShareFinding>, VerifyError> {
    let Asset::Share { condo, numerator } = record.asset else {
        return Ok(None);
    };
    let proven: Condo = state.require(&keys::condo(&condo))?;
    Ok(Some(ShareFinding {
        condo,
        numerator,
        denominator: proven.denominator,
        condo_status: proven.status,
    }))
}
