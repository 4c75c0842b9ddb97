//! A record's provenance, committed in state. Art. 62 p.1 asks that an electronic
//! document "be capable of being circulated and stored outside the digital system,
//! in which it was created, without altering its properties"; a title's history is
//! only that if it can be checked without the node that served it. So every change
//! to a record folds one [`ProvenanceEntry`] into a running digest kept in the
//! record itself, under the state root: a certificate carries the entries, and a
//! verifier recomputes the digest and checks it against the proven record.

use super::Event;
use crate::types::{encoding, hashing, Hash32, PublicKey};
use serde::{Deserialize, Serialize};

/// One change to a record: where, when, by which transaction, signed by whom (the
/// signer first, then every co-signer, each with the certificate its key was
/// certified under at that height), and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ProvenanceEntry {
    pub height: u64,
    pub time_ms: u64,
    pub tx: Hash32,
    pub signers: Vec<Signer>,
    pub event: Event,
}

/// A key that signed a transaction and the certificate it signed under (Art. 50
/// p.4(3): the certificate's data identifies who held the key).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Signer {
    pub key: PublicKey,
    pub certificate: Option<Hash32>,
}

impl ProvenanceEntry {
    pub fn hash(&self) -> Hash32 {
        hashing::hash(
            &hashing::DOMAIN_PROVENANCE_ENTRY,
            &[&encoding::encode(self)],
        )
    }
}

/// How many entries a record's provenance has, and their running digest.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
pub struct Provenance {
    pub entries: u64,
    pub digest: Hash32,
}

impl Provenance {
    /// The provenance after one more entry.
    pub fn absorb(&self, entry: &ProvenanceEntry) -> Provenance {
        Provenance {
            entries: self.entries + 1,
            digest: hashing::hash(
                &hashing::DOMAIN_PROVENANCE,
                &[&self.digest.0, &entry.hash().0],
            ),
        }
    }
}

/// Who signed, from a transaction's certified approvals (the signer first).
#[cfg(feature = "execution")]
pub(crate) fn signers_of(approvals: &[crate::pki::Approval]) -> Vec<Signer> {
    let keyed = approvals
        .iter()
        .filter_map(|a| a.key.map(|key| (key, a.certificate)));
    keyed
        .map(|(key, certificate)| Signer { key, certificate })
        .collect()
}

/// Folds a transaction's events into the provenance of every record they touch, in
/// event order: the same order the node's history index keeps.
#[cfg(feature = "execution")]
pub(crate) fn record(
    state: &mut crate::state::Overlay,
    at: ProvenanceAt,
    events: &[Event],
) -> Result<(), crate::state::CorruptState> {
    use crate::state::keys;
    for event in events {
        let entry = ProvenanceEntry {
            height: at.height,
            time_ms: at.time_ms,
            tx: at.tx,
            signers: at.signers.clone(),
            event: event.clone(),
        };
        for id in event.records() {
            let key = keys::record(&id);
            let Some(mut record) = state.get_typed::<super::Record>(&key)? else {
                return Err(crate::state::CorruptState {
                    key: format!("rec/{id}"),
                    reason: "an event names a record that is not in state".into(),
                });
            };
            record.provenance = record.provenance.absorb(&entry);
            state.put(key, &record);
        }
    }
    Ok(())
}

/// Where and by whom a transaction's events happened.
#[cfg(feature = "execution")]
pub(crate) struct ProvenanceAt {
    pub height: u64,
    pub time_ms: u64,
    pub tx: Hash32,
    pub signers: Vec<Signer>,
}
