//! Every reason a certificate is refused. Each names the part that failed (which
//! block, which validator, which state value), so a person holding a refused file
//! knows what in it is wrong.

use std::fmt;
use tamga_runtime::{Hash32, PublicKey};

/// Which signed block a check was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The block the certificate certifies.
    Certified { height: u64 },
    /// The block of the `index`-th validator-set change (from 1).
    SetChange { index: usize, height: u64 },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Certified { height } => write!(f, "the certified block (height {height})"),
            Place::SetChange { index, height } => {
                write!(f, "validator-set change {index} (block at height {height})")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a Tamga certificate: the file does not start with the TAMGACRT magic")]
    NotACertificate,
    #[error("certificate format version {got} is not supported by this verifier (it reads version {supported}); use a verifier that knows version {got}")]
    UnsupportedVersion { got: u16, supported: u16 },
    #[error("the certificate is {len} bytes; a verifier reads at most {max}")]
    TooLarge { len: usize, max: usize },
    #[error("the certificate does not decode: {0}")]
    Malformed(String),
    #[error("the genesis file is not a Tamga genesis: {0}")]
    BadGenesis(String),
    #[error("{place} is on chain {got}, but the genesis given is for chain {expected}")]
    WrongChain {
        place: Place,
        got: String,
        expected: String,
    },
    #[error("the certified state names genesis {proven}, but the genesis given hashes to {given}: this certificate is from another chain")]
    GenesisMismatch { proven: Hash32, given: Hash32 },
    #[error("{place}: the commit certificate is for height {commit_height}, not the header's")]
    CommitHeight { place: Place, commit_height: u64 },
    #[error(
        "{place}: the commit certificate signs block {signed}, but the header hashes to {header}"
    )]
    CommitBlock {
        place: Place,
        signed: Hash32,
        header: Hash32,
    },
    #[error(
        "{place}: {validator} signed the commit but is not in the validator set for that height"
    )]
    UnknownSigner { place: Place, validator: PublicKey },
    #[error("{place}: {validator} appears twice in the commit certificate")]
    DuplicateSigner { place: Place, validator: PublicKey },
    #[error("{place}: the signature of validator {validator} on the commit does not verify")]
    BadSignature { place: Place, validator: PublicKey },
    #[error("{place}: the commit is signed by {signed} of {total} voting power; more than 2/3 is needed")]
    InsufficientPower {
        place: Place,
        signed: u64,
        total: u64,
    },
    #[error(
        "the Merkle proof of {what} does not verify against the state root of {place}: {reason}"
    )]
    Proof {
        what: String,
        place: Place,
        reason: String,
    },
    #[error("{what} is proven but its value does not decode: {reason}")]
    ValueMalformed { what: String, reason: String },
    #[error("the certificate proves {what} twice")]
    DuplicateValue { what: String },
    #[error("the certificate lacks the proof of {what}")]
    Missing { what: String },
    #[error("validator-set change {index} (height {height}) is out of order: {reason}")]
    ChainOrder {
        index: usize,
        height: u64,
        reason: String,
    },
    #[error("{place}: the validator set in its state is not the one the chain of changes from genesis leads to")]
    SetMismatch { place: Place },
    #[error("the validator-set chain is incomplete: the certified state shows a change scheduled for height {effective_height} that the certificate does not carry")]
    ChainIncomplete { effective_height: u64 },
    #[error("the provenance excerpt does not match the record's proven provenance ({reason})")]
    Provenance { reason: String },
    #[error("the file given hashes to {given} (blake3), but the certificate is for document {certified}: this is not the certified file, or it was changed")]
    DocumentMismatch { certified: Hash32, given: Hash32 },
    #[error("the certificate is about a record, not a document")]
    NotADocument,
    #[error("the certificate's claim and its contents disagree: {0}")]
    Inconsistent(String),
}
