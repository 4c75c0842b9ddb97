//! What the ledger stores about records and classes, and the events it emits when
//! rights change (the node indexes events into each record's provenance history).

use super::provenance::Provenance;
use crate::condo::Action;
use crate::pki::RevocationReason;
use crate::types::{Bytes, EncumbranceKind, Hash32, ObjectCategory, PublicKey, SubjectId};
use serde::{Deserialize, Serialize};

/// What a record certifies rights in: one object, or a quantity of a class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Asset {
    Unique,
    Fungible {
        class: Hash32,
        amount: u64,
    },
    /// Participation in a digital condominium (Art. 35 p.5): `numerator` over the
    /// condominium's denominator. Moves only under the agreement's transfer rule.
    Share {
        condo: Hash32,
        numerator: u64,
    },
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    /// Rights ended (Art. 21 p.2(2) "termination of rights"); kept for provenance.
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Encumbrance {
    /// Number within the record, never reused.
    pub id: u32,
    pub kind: EncumbranceKind,
    pub holder: SubjectId,
    /// Hash of the agreement or order behind it, if given.
    pub document: Option<Hash32>,
    pub since_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Record {
    pub id: Hash32,
    pub category: ObjectCategory,
    pub description: String,
    pub owner: SubjectId,
    /// Art. 34 p.3: may not be alienated, pledged or encumbered.
    pub national: bool,
    pub asset: Asset,
    pub encumbrances: Vec<Encumbrance>,
    pub next_encumbrance_id: u32,
    pub status: RecordStatus,
    pub registered_by: SubjectId,
    pub registered_height: u64,
    /// Every change so far, as a count and a running digest (see `provenance`):
    /// under the state root with the record, so a certificate proves its history.
    pub provenance: Provenance,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Class {
    pub id: Hash32,
    pub category: ObjectCategory,
    pub name: String,
    pub unit: String,
    pub national: bool,
    pub issuer: SubjectId,
}

/// A change of rights, as the node indexes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ClassRegistered {
        class: Hash32,
        issuer: SubjectId,
    },
    Registered {
        record: Hash32,
        owner: SubjectId,
        registrar: SubjectId,
    },
    Transferred {
        record: Hash32,
        from: SubjectId,
        to: SubjectId,
        amount: Option<u64>,
    },
    /// A partial transfer split `amount` off `from_record` into a new record (or,
    /// for a condominium share, into the recipient's own share record).
    SplitOff {
        record: Hash32,
        from_record: Hash32,
        owner: SubjectId,
        amount: u64,
    },
    Encumbered {
        record: Hash32,
        encumbrance: Encumbrance,
    },
    Released {
        record: Hash32,
        encumbrance: u32,
        by: SubjectId,
    },
    Terminated {
        record: Hash32,
        by: SubjectId,
    },
    ContractDeployed {
        contract: Hash32,
        code_hash: Hash32,
        terms_hash: Hash32,
    },
    InstanceProposed {
        instance: Hash32,
        contract: Hash32,
    },
    InstanceAccepted {
        instance: Hash32,
        party: SubjectId,
    },
    InstanceActivated {
        instance: Hash32,
    },
    Deposited {
        instance: Hash32,
        record: Hash32,
        by: SubjectId,
    },
    ContractCalled {
        instance: Hash32,
        caller: SubjectId,
        output: Bytes,
        fuel_used: u64,
    },
    ContractEmitted {
        instance: Hash32,
        data: Bytes,
    },
    DisputeOpened {
        instance: Hash32,
        by: SubjectId,
        reason: Hash32,
        deadline_height: u64,
    },
    /// A validator set change was accepted and governs heights from `effective_height`.
    ValidatorSetScheduled {
        effective_height: u64,
        validators: Vec<(PublicKey, u64)>,
    },
    /// Signatures anchored to a document, by its blake3 hash (Art. 55 p.1(4)).
    DocumentAnchored {
        document: Hash32,
        signers: Vec<SubjectId>,
    },
    /// A certificate bound `key` to `subject` (Art. 55 p.1(2)).
    CertificateIssued {
        certificate: Hash32,
        subject: SubjectId,
        key: PublicKey,
        issuer: SubjectId,
    },
    /// A certificate is revoked from `effective_height` (Art. 59).
    CertificateRevoked {
        certificate: Hash32,
        subject: SubjectId,
        reason: RevocationReason,
        effective_height: u64,
        by: SubjectId,
    },
    /// The subject's clear identifier and name are erased from every vault (Art. 41).
    PersonalDataErased {
        subject: SubjectId,
        by: SubjectId,
    },
    Ruled {
        instance: Hash32,
        decision_text: Hash32,
        arbiters: Vec<SubjectId>,
        terminated: bool,
    },
    /// A digital condominium was founded; `account` owns its shared objects.
    CondoCreated {
        condo: Hash32,
        account: SubjectId,
    },
    /// A record was listed as an individual object, or handed over as a shared one.
    CondoAttached {
        condo: Hash32,
        record: Hash32,
        shared: bool,
    },
    CondoProposed {
        condo: Hash32,
        proposal: u64,
        by: SubjectId,
    },
    /// A vote; `tally` is the numerator of the shares now voting for it.
    CondoVoted {
        condo: Hash32,
        proposal: u64,
        by: SubjectId,
        tally: u64,
    },
    /// A decision was taken and carried out: by a proposal's threshold or its
    /// governing contract (`proposal` set), or by the representative alone.
    CondoDecided {
        condo: Hash32,
        proposal: Option<u64>,
        action: Action,
        by: SubjectId,
    },
    CondoShareOffered {
        condo: Hash32,
        offer: u64,
        record: Hash32,
        numerator: u64,
    },
    CondoShareTaken {
        condo: Hash32,
        offer: u64,
        record: Hash32,
        buyer: SubjectId,
    },
    CondoDissolved {
        condo: Hash32,
    },
}

impl Event {
    /// The records whose history this event belongs to.
    pub fn records(&self) -> Vec<Hash32> {
        match self {
            Event::ClassRegistered { .. }
            | Event::ContractDeployed { .. }
            | Event::InstanceProposed { .. }
            | Event::InstanceAccepted { .. }
            | Event::InstanceActivated { .. }
            | Event::ContractCalled { .. }
            | Event::ContractEmitted { .. }
            | Event::DisputeOpened { .. }
            | Event::Ruled { .. }
            | Event::CertificateIssued { .. }
            | Event::CertificateRevoked { .. }
            | Event::PersonalDataErased { .. }
            | Event::ValidatorSetScheduled { .. }
            | Event::DocumentAnchored { .. }
            | Event::CondoCreated { .. }
            | Event::CondoProposed { .. }
            | Event::CondoVoted { .. }
            | Event::CondoDissolved { .. } => vec![],
            Event::CondoDecided { action, .. } => action.object().into_iter().collect(),
            Event::CondoAttached { record, .. }
            | Event::CondoShareOffered { record, .. }
            | Event::CondoShareTaken { record, .. } => vec![*record],
            Event::Deposited { record, .. } => vec![*record],
            Event::SplitOff {
                record,
                from_record,
                ..
            } => vec![*from_record, *record],
            Event::Registered { record, .. }
            | Event::Transferred { record, .. }
            | Event::Encumbered { record, .. }
            | Event::Released { record, .. }
            | Event::Terminated { record, .. } => vec![*record],
        }
    }
}
