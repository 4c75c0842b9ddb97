//! Document anchoring: the ledger as a timestamp service. Art. 55 p.1(4) asks for "a
//! timestamping service, confirming the point in time at which an electronic digital
//! signature existed in an electronic document", and Art. 50 p.3(4) for "the
//! information necessary to confirm the existence of the electronic digital
//! signature at a specific point in time". Anchoring a document records its blake3
//! hash with each signer's subject, key and certificate, the block height and the
//! block time, under the state root: so a header and its commit prove, offline, that
//! this exact file existed then, signed by whom (Art. 62 p.1).
//!
//! The file itself never reaches the ledger: only its hash, so anchoring a document
//! that names people puts no personal data on the ledger (Art. 41).

mod error;
#[cfg(feature = "execution")]
mod rules;

pub use error::DocumentError;
#[cfg(feature = "execution")]
pub use rules::anchor;

use crate::types::{Hash32, PublicKey, SubjectId};
use serde::{Deserialize, Serialize};

/// One signature anchored to a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct DocumentSignature {
    pub subject: SubjectId,
    pub key: PublicKey,
    /// The certificate the key was certified under when it signed.
    pub certificate: Hash32,
    pub height: u64,
    pub time_ms: u64,
    pub tx: Hash32,
}

/// Every signature anchored to one document, oldest first: the first is when the
/// document is first proven to have existed.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct DocumentAnchors {
    pub signatures: Vec<DocumentSignature>,
}
