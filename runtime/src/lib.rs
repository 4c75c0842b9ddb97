//! Tamga's deterministic ledger: the rules of the Digital Code that a block of
//! transactions is checked against, with no network, disk or clock.
//!
//! The node hands this crate a state view, a block context (height, time) and
//! transactions; it gets back the writes to apply and the events to index. Keeping
//! all I/O outside makes execution deterministic on every validator and lets each
//! rule be unit-tested without a cluster.

pub mod condo;
pub mod contracts;
pub mod documents;
#[cfg(feature = "execution")]
pub mod execute;
pub mod genesis;
pub mod limits;
pub mod pki;
pub mod records;
pub mod state;
pub mod types;
pub mod validators;

#[cfg(feature = "execution")]
pub use execute::{
    apply_tx, apply_tx_metered, apply_tx_recorded, check_signatures, check_signatures_batch,
    verify_tx, verify_tx_with, Applied, BlockContext, HashedTx, TxError, VerifiedTx,
};
pub use genesis::Genesis;
pub use types::{Hash32, PublicKey, Signature, SubjectId};
