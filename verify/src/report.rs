//! What a verified certificate shows: plain data, serialisable as JSON for other
//! programs, rendered as sentences by [`crate::render`].

use serde::Serialize;
use tamga_runtime::condo::CondoStatus;
use tamga_runtime::documents::DocumentSignature;
use tamga_runtime::pki::{CertStatus, Certificate};
use tamga_runtime::records::{ProvenanceEntry, Record};
use tamga_runtime::types::EncumbranceKind;
use tamga_runtime::{Hash32, PublicKey};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub format_version: u16,
    pub chain_id: String,
    pub genesis_hash: Hash32,
    pub height: u64,
    pub time_ms: u64,
    /// The block time as an ISO 8601 UTC timestamp.
    pub time_utc: String,
    pub block_hash: Hash32,
    pub state_root: Hash32,
    /// The validators whose commit signatures certify the block, with their power.
    pub certified_by: Vec<CertifiedBy>,
    pub signed_power: u64,
    pub total_power: u64,
    /// Validator-set changes followed from genesis to the certified block.
    pub validator_set_changes: usize,
    pub finding: Finding,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertifiedBy {
    pub validator: PublicKey,
    pub power: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Finding {
    Record(Box<RecordFinding>),
    Document(DocumentFinding),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordFinding {
    pub id: Hash32,
    /// `None`: no record has this id at the certified height. Records are never
    /// deleted (a terminated one stays), so it was never registered up to then.
    pub record: Option<Record>,
    /// Encumbrance kinds the record proven carries none of.
    pub absent_encumbrances: Vec<EncumbranceKind>,
    pub arrested: bool,
    /// For a condominium share (Art. 35 p.5): its fraction and its condominium.
    pub share: Option<ShareFinding>,
    pub provenance: Option<ProvenanceFinding>,
    /// Each key that signed a change in the provenance excerpt, with the
    /// certificate it signed under (Art. 50 p.4(3)).
    pub signers: Vec<SignerFinding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareFinding {
    pub condo: Hash32,
    pub numerator: u64,
    pub denominator: u64,
    pub condo_status: CondoStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvenanceFinding {
    /// Entries in the record's whole history, as proven.
    pub total: u64,
    /// Entries before the excerpt, committed to by the proven digest, not shown.
    pub earlier: u64,
    pub entries: Vec<ProvenanceEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignerFinding {
    pub key: PublicKey,
    /// The certificate the key signed under, as it stands at the certified height
    /// (a later revocation shows); `None` for a key no certificate covered.
    pub certificate: Option<Certificate>,
    /// Its standing when the key last signed a change in the excerpt under it
    /// (signatures made before a revocation stay valid).
    pub status_when_signed: Option<CertStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentFinding {
    pub hash: Hash32,
    /// Oldest first; empty: nothing was anchored to this document up to the
    /// certified height.
    pub signatures: Vec<DocumentSignature>,
    /// The certificate each signature was made under, in the same order.
    pub certificates: Vec<Certificate>,
}
