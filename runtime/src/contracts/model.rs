//! What the ledger stores about smart contracts (Art. 67): deployed code with its
//! human-readable terms (p.2) and arbitration clause (p.3), and instances binding
//! parties, holding assets, and possibly frozen by a dispute.

use crate::types::{Bytes, Hash32, SubjectId};
use serde::{Deserialize, Serialize};

/// Who decides disputes, how many of them must agree, and how long they have
/// (Art. 67 p.3: the final decision is a human's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ArbitrationClause {
    /// Certified keys of human arbiters; no duplicates.
    pub arbiters: Vec<SubjectId>,
    /// Arbiters who must sign a ruling: 1..=arbiters.len().
    pub quorum: u32,
    /// Blocks the arbiters have to rule once a dispute opens.
    pub deadline_blocks: u64,
    /// Takes over a dispute the arbiters left past its deadline.
    pub appeal: Option<SubjectId>,
}

/// A deployment: code, terms, clause. Its id commits to all three.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Contract {
    pub id: Hash32,
    pub code_hash: Hash32,
    pub code_bytes: u32,
    /// Art. 67 p.2: the terms in a form people can read.
    pub terms: String,
    pub terms_hash: Hash32,
    pub arbitration: ArbitrationClause,
    pub deployer: SubjectId,
    pub deployed_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Waiting for every party's acceptance.
    Pending,
    Active,
    /// A dispute is open: no calls, nothing held moves, until a human rules.
    Frozen(Dispute),
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Dispute {
    pub opened_by: SubjectId,
    /// Hash of the document stating the reason.
    pub reason: Hash32,
    pub opened_height: u64,
    /// After this height the appeal arbiter (if named) rules instead.
    pub deadline_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Instance {
    pub id: Hash32,
    pub contract: Hash32,
    pub parties: Vec<SubjectId>,
    pub init_args: Bytes,
    /// Parties who accepted (code hash, terms hash, init args), by index.
    pub accepted: Vec<bool>,
    pub status: InstanceStatus,
    /// Records the instance holds in custody (it is their owner).
    pub holdings: Vec<Hash32>,
    pub created_height: u64,
}

/// One directed movement of something an instance holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Direction {
    pub record: Hash32,
    pub to: SubjectId,
    /// Part of a fungible holding; the whole record if absent.
    pub amount: Option<u64>,
}

/// What the arbiters decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Unfreeze; the contract runs on.
    Resume,
    /// Move what the instance holds as directed, then unfreeze.
    Transfer(Vec<Direction>),
    /// Move what the instance holds as directed and end the instance.
    Terminate(Vec<Direction>),
}

impl Instance {
    /// The account that owns what the instance holds. Derived from the instance id,
    /// so no one holds its private key: only the contract or a ruling moves assets.
    pub fn account(&self) -> SubjectId {
        account_of(&self.id)
    }

    pub fn is_party(&self, who: &SubjectId) -> bool {
        self.parties.contains(who)
    }
}

pub fn account_of(instance: &Hash32) -> SubjectId {
    SubjectId(crate::types::hashing::hash("tamga 2026 instance account v1", &[&instance.0]).0)
}
