//! The signature infrastructure (Art. 45, 49-61): subjects of rights, the
//! certificates that bind their keys, certification authorities, revocation, and
//! the commitments that keep identifiers off the ledger (Art. 41).
//!
//! Rights belong to subjects, not keys: a record's owner, an encumbrance's holder,
//! a contract's party or arbiter is a [`SubjectId`](crate::types::SubjectId). A
//! transaction's signatures count only through certificates valid at its height,
//! so a lost or compromised key is revoked and a new certificate for the same
//! subject takes over without stranding anything the subject holds.

mod error;
pub mod genesis;
pub mod identifier;
mod model;
#[cfg(feature = "execution")]
mod rules;

pub use error::PkiError;
pub use genesis::GenesisCertificate;
pub use model::{
    Approval, CertStatus, Certificate, Point, Revocation, RevocationReason, Role, Subject,
    SubjectKind, SubjectRef,
};
#[cfg(feature = "execution")]
pub use rules::{
    apply, certificate_of_key, certify, handles, holds_role, load_certificate, load_subject,
    require_subject,
};
