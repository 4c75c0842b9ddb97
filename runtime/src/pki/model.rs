//! What the ledger stores about subjects and their certificates (Art. 45, 49-59).
//!
//! A *subject* (a person, a legal entity, a state body) holds rights; its
//! identifier (IIN or BIN, Art. 45 p.2) appears only as a salted commitment
//! (Art. 41). A *certificate* binds one public key to a subject, with roles and a
//! validity window, issued by a certification authority (Art. 55 p.1(2)); a
//! revocation names one of the grounds of Art. 59 p.1 and takes effect at a height.

use crate::types::{Hash32, PublicKey, SubjectId};
use serde::{Deserialize, Serialize};

/// Who a subject is (Art. 45 p.2: an IIN for individuals, a BIN for legal entities).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Individual,
    LegalEntity,
    StateBody,
}

impl SubjectKind {
    /// The identifier this kind is known by: IIN for individuals, BIN otherwise.
    pub fn identifier_name(self) -> &'static str {
        match self {
            SubjectKind::Individual => "IIN",
            SubjectKind::LegalEntity | SubjectKind::StateBody => "BIN",
        }
    }

    pub(crate) fn tag(self) -> u8 {
        match self {
            SubjectKind::Individual => 1,
            SubjectKind::LegalEntity => 2,
            SubjectKind::StateBody => 3,
        }
    }
}

/// The subject a new certificate is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum SubjectRef {
    /// A subject named by the commitment to its identifier; the first certificate
    /// creates it, and the same commitment always names the same subject.
    New {
        kind: SubjectKind,
        identifier: Hash32,
    },
    /// A subject the ledger knows: a new key for it (re-certification).
    Existing { subject: SubjectId },
}

/// What a certificate lets its key do beyond acting for its subject.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers titles to tangible objects and designates national objects.
    Registrar,
    /// Imposes arrests, citing its order.
    Court,
    /// Decides disputes under a contract's arbitration clause (Art. 67 p.3).
    Arbiter,
    /// A certification authority: issues and revokes certificates (Art. 55 p.1(2)).
    Authority,
}

/// One end of a validity window: a height, or a block time in ms since the epoch.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Point {
    Height(u64),
    TimeMs(u64),
}

impl Point {
    /// Whether (`height`, `time_ms`) is at or past this point.
    pub fn reached(self, height: u64, time_ms: u64) -> bool {
        match self {
            Point::Height(h) => height >= h,
            Point::TimeMs(t) => time_ms >= t,
        }
    }
}

/// The grounds on which a certificate is revoked (Art. 59 p.1).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// p.1(1): at the request of the holder.
    HolderRequest,
    /// p.1(2): false information or an incomplete set of documents was submitted.
    FalseData,
    /// p.1(3): the holder died.
    Death,
    /// p.1(4): the holder's last name, first name or patronymic changed.
    NameChange,
    /// p.1(5): change of management, name change, reorganisation or liquidation
    /// of the legal entity.
    EntityChange,
    /// p.1(6): a final and binding court ruling.
    CourtRuling,
}

impl RevocationReason {
    pub fn article(self) -> &'static str {
        match self {
            RevocationReason::HolderRequest => "Art. 59 p.1(1)",
            RevocationReason::FalseData => "Art. 59 p.1(2)",
            RevocationReason::Death => "Art. 59 p.1(3)",
            RevocationReason::NameChange => "Art. 59 p.1(4)",
            RevocationReason::EntityChange => "Art. 59 p.1(5)",
            RevocationReason::CourtRuling => "Art. 59 p.1(6)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Revocation {
    pub reason: RevocationReason,
    /// From this height on the certificate's key can do nothing; signatures in
    /// earlier blocks stay valid.
    pub effective_height: u64,
    /// The subject that revoked it: the holder, or an authority.
    pub by: SubjectId,
    pub recorded_height: u64,
    /// Hash of the notification or ruling behind it, if given.
    pub document: Option<Hash32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Subject {
    pub id: SubjectId,
    pub kind: SubjectKind,
    /// Salted commitment to the IIN or BIN (Art. 41: no personal data in clear).
    pub identifier: Hash32,
    pub registered_height: u64,
    /// Certificates that may still be valid, oldest first (bounded; revoked and
    /// expired ones are pruned from this list, not from the ledger).
    pub certificates: Vec<Hash32>,
    /// When the clear identifier was erased from every vault (Art. 41 p.1).
    pub erased_height: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Certificate {
    pub id: Hash32,
    pub subject: SubjectId,
    pub kind: SubjectKind,
    pub key: PublicKey,
    /// Salted commitment to the holder's name (Art. 41).
    pub name: Hash32,
    pub roles: Vec<Role>,
    pub valid_from: Point,
    /// `None`: no expiry (root authorities named at genesis).
    pub valid_until: Option<Point>,
    /// The issuing authority's certificate; `None` at genesis.
    pub issuer: Option<Hash32>,
    /// A root authority (named at genesis): only a root accredits authorities
    /// (Art. 52 p.2).
    pub root: bool,
    pub issued_height: u64,
    pub revocation: Option<Revocation>,
}

/// A certificate's standing at one height and block time. Computed, never stored
/// or hashed: it has no canonical encoding (serde's internal tag, which JSON
/// uses, is not one bincode could give it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CertStatus {
    Valid,
    NotYetValid,
    Expired,
    Revoked {
        reason: RevocationReason,
        effective_height: u64,
    },
}

impl CertStatus {
    pub fn is_valid(&self) -> bool {
        matches!(self, CertStatus::Valid)
    }
}

impl Certificate {
    /// Its standing at (`height`, `time_ms`). A revocation governs from its
    /// effective height, so a signature made before it stays valid.
    pub fn status_at(&self, height: u64, time_ms: u64) -> CertStatus {
        if let Some(r) = &self.revocation {
            if height >= r.effective_height {
                return CertStatus::Revoked {
                    reason: r.reason,
                    effective_height: r.effective_height,
                };
            }
        }
        if height < self.issued_height || !self.valid_from.reached(height, time_ms) {
            return CertStatus::NotYetValid;
        }
        match self.valid_until {
            Some(until) if until.reached(height, time_ms) => CertStatus::Expired,
            _ => CertStatus::Valid,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A signer or co-signer of a transaction, as the rules see it: the key, and the
/// certified subject it acts for with its certificate's roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// `None` for an owner no key controls (a contract instance moving what it
    /// holds, as its code or a ruling directs).
    pub key: Option<PublicKey>,
    pub subject: SubjectId,
    pub roles: Vec<Role>,
    /// The certificate it acted under; `None` without a key.
    pub certificate: Option<Hash32>,
}

impl Approval {
    /// An owner that no key controls, acting as the ledger's own rules direct.
    pub fn keyless(subject: SubjectId) -> Self {
        Approval {
            key: None,
            subject,
            roles: vec![],
            certificate: None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
