//! What the ledger stores about records and classes, and the events it emits when
//! rights change (the node indexes events into each record's provenance history).

use crate::types::{Bytes, EncumbranceKind, Hash32, ObjectCategory, PublicKey};
use serde::{Deserialize, Serialize};

/// What a record certifies rights in: one object, or a quantity of a class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asset {
    Unique,
    Fungible { class: Hash32, amount: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    /// Rights ended (Art. 21 p.2(2) "termination of rights"); kept for provenance.
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encumbrance {
    /// Number within the record, never reused.
    pub id: u32,
    pub kind: EncumbranceKind,
    pub holder: PublicKey,
    /// Hash of the agreement or order behind it, if given.
    pub document: Option<Hash32>,
    pub since_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: Hash32,
    pub category: ObjectCategory,
    pub description: String,
    pub owner: PublicKey,
    /// Art. 34 p.3: may not be alienated, pledged or encumbered.
    pub national: bool,
    pub asset: Asset,
    pub encumbrances: Vec<Encumbrance>,
    pub next_encumbrance_id: u32,
    pub status: RecordStatus,
    pub registered_by: PublicKey,
    pub registered_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: Hash32,
    pub category: ObjectCategory,
    pub name: String,
    pub unit: String,
    pub national: bool,
    pub issuer: PublicKey,
}

/// A change of rights, as the node indexes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ClassRegistered {
        class: Hash32,
        issuer: PublicKey,
    },
    Registered {
        record: Hash32,
        owner: PublicKey,
        registrar: PublicKey,
    },
    Transferred {
        record: Hash32,
        from: PublicKey,
        to: PublicKey,
        amount: Option<u64>,
    },
    /// A partial transfer split `amount` off `from_record` into a new record.
    SplitOff {
        record: Hash32,
        from_record: Hash32,
        owner: PublicKey,
        amount: u64,
    },
    Encumbered {
        record: Hash32,
        encumbrance: Encumbrance,
    },
    Released {
        record: Hash32,
        encumbrance: u32,
        by: PublicKey,
    },
    Terminated {
        record: Hash32,
        by: PublicKey,
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
        party: PublicKey,
    },
    InstanceActivated {
        instance: Hash32,
    },
    Deposited {
        instance: Hash32,
        record: Hash32,
        by: PublicKey,
    },
    ContractCalled {
        instance: Hash32,
        caller: PublicKey,
        output: Bytes,
        fuel_used: u64,
    },
    ContractEmitted {
        instance: Hash32,
        data: Bytes,
    },
    DisputeOpened {
        instance: Hash32,
        by: PublicKey,
        reason: Hash32,
        deadline_height: u64,
    },
    /// A validator set change was accepted and governs heights from `effective_height`.
    ValidatorSetScheduled {
        effective_height: u64,
        validators: Vec<(PublicKey, u64)>,
    },
    Ruled {
        instance: Hash32,
        decision_text: Hash32,
        arbiters: Vec<PublicKey>,
        terminated: bool,
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
            | Event::ValidatorSetScheduled { .. } => vec![],
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
