//! Signed transactions: chain id (no cross-chain replay), signer, nonce (no replay
//! on this chain), a payload, the signer's signature and optional co-signatures that
//! express other parties' consent (Art. 44 p.3: confirmation of will).

use super::{encoding, hashing, Bytes, Hash32, PublicKey, Signature, SubjectId};
use crate::condo::{Action, Governance};
use crate::contracts::{ArbitrationClause, Decision};
use crate::pki::{Point, RevocationReason, Role, SubjectRef};
use serde::{Deserialize, Serialize};

/// What kind of object a title record certifies rights in (Art. 21 p.2(2)).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectCategory {
    /// Items, goods, raw materials, land: registered only by a registrar.
    Tangible,
    /// A digital object.
    Digital,
    /// A claim related to an object (e.g. a money claim).
    Claim,
}

/// Kinds of encumbrance a record can carry (Art. 21 p.2(2), p.5).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum EncumbranceKind {
    /// Security for a creditor: disposal needs the pledgee's consent.
    Pledge,
    /// Right to retain: disposal needs the lienholder's consent.
    Lien,
    /// Right of use: survives a transfer, no consent needed to dispose.
    Lease,
    /// Enforcement measure imposed by a court under its order (whose hash it
    /// cites): no disposal or further encumbrance at all until the court lifts it.
    Arrest,
}

/// A quantity of a fungible class.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Quantity {
    pub class: Hash32,
    pub amount: u64,
}

/// What a transaction asks the ledger to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
// Externally tagged: the canonical binary encoding cannot carry internally tagged enums.
#[serde(rename_all = "snake_case")]
pub enum Payload {
    /// Create a fungible class (grain in a warehouse, a money claim); the signer
    /// becomes its issuer.
    RegisterClass {
        category: ObjectCategory,
        name: String,
        unit: String,
        national: bool,
    },
    /// Create a title record for `owner`: a unique object, or a quantity of a class.
    Register {
        category: ObjectCategory,
        description: String,
        owner: SubjectId,
        national: bool,
        quantity: Option<Quantity>,
    },
    /// Move the record (or `amount` of a fungible holding) to `to`.
    Transfer {
        record: Hash32,
        to: SubjectId,
        amount: Option<u64>,
    },
    /// Put an encumbrance on the record in favour of `holder`; `document` is the
    /// agreement's or the order's hash (required for an arrest).
    Encumber {
        record: Hash32,
        kind: EncumbranceKind,
        holder: SubjectId,
        document: Option<Hash32>,
    },
    /// Lift encumbrance number `encumbrance`; only its holder may.
    Release { record: Hash32, encumbrance: u32 },
    /// End the rights the record certifies.
    Terminate { record: Hash32 },
    /// Deploy Wasm code with its terms and arbitration clause (Art. 67 p.2-3).
    Deploy {
        code: Bytes,
        terms: String,
        arbitration: ArbitrationClause,
    },
    /// Propose an instance of a contract between `parties`; the signer and any
    /// co-signers who are parties accept it by signing.
    Instantiate {
        contract: Hash32,
        parties: Vec<SubjectId>,
        init_args: Bytes,
    },
    /// A party accepts exactly this code, these terms and these init arguments.
    Accept {
        instance: Hash32,
        code_hash: Hash32,
        terms_hash: Hash32,
        init_args_hash: Hash32,
    },
    /// Put a record (or part of a fungible holding) into the instance's custody.
    Deposit {
        instance: Hash32,
        record: Hash32,
        amount: Option<u64>,
    },
    /// Call the contract's `call` export with `input`.
    Call { instance: Hash32, input: Bytes },
    /// Open a dispute, citing the hash of a document with the reason; freezes it.
    Dispute { instance: Hash32, reason: Hash32 },
    /// The arbiters' ruling: signer and co-signers must make the quorum.
    Rule {
        instance: Hash32,
        decision: Decision,
        decision_text: Hash32,
    },
    /// Replace the validator set; signer and co-signers must hold > 2/3 of the
    /// current voting power. Takes effect two heights later.
    SetValidators {
        validators: Vec<crate::validators::Validator>,
    },
    /// A certification authority binds `key` to a subject (Art. 55 p.1(2)):
    /// `name` is the salted commitment to the holder's name.
    IssueCertificate {
        subject: SubjectRef,
        key: PublicKey,
        name: Hash32,
        roles: Vec<Role>,
        /// Start of validity; this height if absent.
        valid_from: Option<Point>,
        valid_until: Point,
    },
    /// Revoke a certificate on one of Art. 59's grounds, from `effective_height`
    /// (this height if absent).
    RevokeCertificate {
        certificate: Hash32,
        reason: RevocationReason,
        effective_height: Option<u64>,
        document: Option<Hash32>,
    },
    /// Erase a subject's clear identifier and name from every vault (Art. 41).
    ErasePersonalData { subject: SubjectId },
    /// Found a digital condominium (Art. 35): every founder signs.
    CondoCreate {
        agreement: String,
        denominator: u64,
        participants: Vec<Founder>,
        governance: Governance,
        /// Heights an offered share is reserved for the other participants.
        preemption_blocks: u64,
    },
    /// List a participant's record as an individual object, or hand it to the
    /// condominium as a shared object.
    CondoAttach {
        condo: Hash32,
        record: Hash32,
        shared: bool,
    },
    /// Propose a decision; the proposer's vote is counted.
    CondoPropose {
        condo: Hash32,
        action: Action,
        deadline_height: u64,
    },
    /// Vote for an open proposal.
    CondoVote { condo: Hash32, proposal: u64 },
    /// The representative acts alone, within its mandate.
    CondoAct { condo: Hash32, action: Action },
    /// Offer (part of) one's share for sale under the pre-emption rule.
    CondoOffer {
        condo: Hash32,
        record: Hash32,
        numerator: u64,
        terms: String,
        /// Heights the offer stays open; more than the pre-emption window.
        open_blocks: u64,
    },
    /// Take an offered share.
    CondoTake { condo: Hash32, offer: u64 },
    /// Anchor the signer's (and each co-signer's) signature to a document, by its
    /// blake3 hash, at this block's time (Art. 55 p.1(4)).
    AnchorDocument { document: Hash32 },
}

/// A founder of a condominium and its share's numerator.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Founder {
    pub subject: SubjectId,
    pub numerator: u64,
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Transaction {
    pub chain_id: String,
    pub signer: PublicKey,
    pub nonce: u64,
    pub payload: Payload,
}

/// Another party's signature over the same signing hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Cosignature {
    pub signer: PublicKey,
    pub signature: Signature,
}

/// A transaction with its signatures, as submitted and as stored in blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SignedTx {
    pub tx: Transaction,
    pub signature: Signature,
    pub cosignatures: Vec<Cosignature>,
}

impl Transaction {
    /// The hash every signer signs; also the transaction id. Signatures are not part
    /// of it, so re-signing cannot change a transaction's identity.
    pub fn signing_hash(&self) -> Hash32 {
        hashing::hash(&hashing::DOMAIN_TX, &[&encoding::encode(self)])
    }
}

impl SignedTx {
    /// The transaction id (its signing hash).
    pub fn id(&self) -> Hash32 {
        self.tx.signing_hash()
    }
}

impl PublicKey {
    pub fn of(key: &ed25519_dalek::SigningKey) -> Self {
        PublicKey(key.verifying_key().to_bytes())
    }
}

impl Transaction {
    /// Signs with the signer's key. The key must be the one named in `signer`.
    pub fn sign(self, key: &ed25519_dalek::SigningKey) -> SignedTx {
        use ed25519_dalek::Signer;
        assert_eq!(
            PublicKey::of(key),
            self.signer,
            "signing key must match the signer"
        );
        let signature = Signature(key.sign(&self.signing_hash().0).to_bytes());
        SignedTx {
            tx: self,
            signature,
            cosignatures: Vec::new(),
        }
    }
}

impl SignedTx {
    /// Adds another party's consent: a signature over the same signing hash.
    pub fn cosign(mut self, key: &ed25519_dalek::SigningKey) -> Self {
        use ed25519_dalek::Signer;
        let signature = Signature(key.sign(&self.id().0).to_bytes());
        self.cosignatures.push(Cosignature {
            signer: PublicKey::of(key),
            signature,
        });
        self
    }
}
