//! Every way a certificate operation, or a signer without a valid certificate, is
//! refused. Each message names its rule and Article; each variant has a stable
//! machine-readable reason for RPC clients.

use super::model::{Role, SubjectKind};
use crate::types::{Hash32, PublicKey, SubjectId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    #[error(
        "key {key} holds no certificate valid at height {height} ({why}): a signature is \
         equivalent to a handwritten one only when confirmed with a public key that has a \
         certificate (Art. 49 p.2(1)), here one issued under the roots this chain's genesis \
         trusts, and actions that give rise to rights require identification (Art. 40 p.3)"
    )]
    UncertifiedSigner {
        key: PublicKey,
        height: u64,
        why: String,
    },
    #[error(
        "only a certification authority issues and revokes certificates (Art. 55 p.1(2)); the \
         signer's certificate has no authority role"
    )]
    NotAnAuthority,
    #[error(
        "only a root certification authority confirms the keys of certification authorities \
         (Art. 52 p.2): the signer is not a root authority"
    )]
    RootRequired,
    #[error("the {role:?} role cannot be given to a {kind:?}: {why}")]
    RoleNotForKind {
        role: Role,
        kind: SubjectKind,
        why: &'static str,
    },
    #[error("roles must be listed once each, at most 4")]
    BadRoles,
    #[error(
        "key {0} is not a usable ed25519 public key: no signature could ever be checked with it"
    )]
    InvalidKey(PublicKey),
    #[error("key {key} is already bound by certificate {certificate}, which is not over; revoke it first")]
    KeyInUse { key: PublicKey, certificate: Hash32 },
    #[error(
        "key {key} was revoked under certificate {certificate}: on this ledger a revoked key is \
         never certified again"
    )]
    KeyRevoked { key: PublicKey, certificate: Hash32 },
    #[error(
        "subject {0} is not known to the ledger: rights belong to certified subjects (Art. 40 p.3)"
    )]
    UnknownSubject(SubjectId),
    #[error("subject {subject} is a {existing:?}, not a {given:?}")]
    SubjectKindMismatch {
        subject: SubjectId,
        existing: SubjectKind,
        given: SubjectKind,
    },
    #[error("the validity window is empty or already over at height {height}")]
    BadValidity { height: u64 },
    #[error(
        "subject {subject} already has {max} certificates that are not over; revoke one first"
    )]
    TooManyCertificates { subject: SubjectId, max: usize },
    #[error("certificate {0} does not exist")]
    UnknownCertificate(Hash32),
    #[error("certificate {0} is already revoked from that height or sooner")]
    AlreadyRevoked(Hash32),
    #[error("a revocation may be scheduled at most {max} heights ahead")]
    RevocationTooFar { max: u64 },
    #[error(
        "subject {0} already exists: a new key for it needs its consent (a co-signature with one \
         of its valid keys), or a root authority's certificate"
    )]
    SubjectConsentRequired(SubjectId),
    #[error(
        "certificate {certificate}: its holder's revocation is its own request (Art. 58 p.3, \
         Art. 59 p.1(1)); other grounds are for the certification authority that issued it \
         (Art. 59 p.1), or a root"
    )]
    RevocationNotPermitted { certificate: Hash32 },
    #[error(
        "a revocation takes effect at the current height {height} or later, not at {effective}: \
         signatures made before it stay valid"
    )]
    RevocationBackdated { effective: u64, height: u64 },
    #[error(
        "erasing subject {0}'s personal data is the subject's request (Art. 41 p.1), or ordered by \
         the authority that certified it (whose vault keeps the data) or a root"
    )]
    ErasureNotPermitted(SubjectId),
    #[error("subject {0}'s personal data was already erased")]
    AlreadyErased(SubjectId),
    #[error("subject {subject} holds no certificate valid now with the {role:?} role: {why}")]
    RoleRequired {
        subject: SubjectId,
        role: Role,
        why: &'static str,
    },
}

impl PkiError {
    pub fn reason(&self) -> &'static str {
        match self {
            PkiError::UncertifiedSigner { .. } => "pki.uncertified_signer",
            PkiError::NotAnAuthority => "pki.not_an_authority",
            PkiError::RootRequired => "pki.root_required",
            PkiError::RoleNotForKind { .. } => "pki.role_not_for_kind",
            PkiError::BadRoles => "pki.bad_roles",
            PkiError::InvalidKey(_) => "pki.invalid_key",
            PkiError::KeyInUse { .. } => "pki.key_in_use",
            PkiError::KeyRevoked { .. } => "pki.key_revoked",
            PkiError::UnknownSubject(_) => "pki.unknown_subject",
            PkiError::SubjectKindMismatch { .. } => "pki.subject_kind_mismatch",
            PkiError::BadValidity { .. } => "pki.bad_validity",
            PkiError::TooManyCertificates { .. } => "pki.too_many_certificates",
            PkiError::UnknownCertificate(_) => "pki.unknown_certificate",
            PkiError::AlreadyRevoked(_) => "pki.already_revoked",
            PkiError::RevocationTooFar { .. } => "pki.revocation_too_far",
            PkiError::SubjectConsentRequired(_) => "pki.subject_consent_required",
            PkiError::RevocationNotPermitted { .. } => "pki.revocation_not_permitted",
            PkiError::RevocationBackdated { .. } => "pki.revocation_backdated",
            PkiError::ErasureNotPermitted(_) => "pki.erasure_not_permitted",
            PkiError::AlreadyErased(_) => "pki.already_erased",
            PkiError::RoleRequired { .. } => "pki.role_required",
        }
    }
}
