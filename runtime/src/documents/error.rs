//! Why an anchoring is refused, with the rule in the message.

use crate::limits::DOCUMENT_SIGNATURES_MAX;
use crate::types::{Hash32, SubjectId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("subject {subject} has already anchored its signature to document {document}: the first anchoring is the one that proves when it existed (Art. 55 p.1(4))")]
    AlreadySigned {
        document: Hash32,
        subject: SubjectId,
    },
    #[error("document {document} already has {DOCUMENT_SIGNATURES_MAX} anchored signatures, the most one document may carry")]
    TooManySignatures { document: Hash32 },
    #[error("an anchoring signature needs a certified key (Art. 50 p.4(3): the certificate's data identifies who signed); {0} signed without one")]
    Uncertified(SubjectId),
}

impl DocumentError {
    /// Stable machine-readable reason, for RPC `data.reason` and scripts.
    pub fn reason(&self) -> &'static str {
        match self {
            DocumentError::AlreadySigned { .. } => "document.already_signed",
            DocumentError::TooManySignatures { .. } => "document.too_many_signatures",
            DocumentError::Uncertified(_) => "document.uncertified",
        }
    }
}
