//! Offline checking of Tamga certificates (Art. 62 p.1: an electronic document
//! "must be capable of being circulated and stored outside the digital system, in
//! which it was created, without altering its properties").
//!
//! A certificate file proves a record's state (owner, scope, encumbrances, arrest,
//! provenance) or a document's anchored signatures at one block, to anyone holding
//! the chain's genesis file: no node, no network, no database. This crate depends
//! on the ledger's types only (no RocksDB, no tokio, no wasmtime), so other
//! programs can embed the check.
//!
//! ```no_run
//! let genesis: tamga_runtime::Genesis =
//!     serde_json::from_slice(&std::fs::read("genesis.json")?)?;
//! let bytes = std::fs::read("cert.tamga")?;
//! match tamga_verify::verify_bytes(&bytes, &genesis) {
//!     Ok(verified) => print!("{}", tamga_verify::render(&verified)),
//!     Err(refused) => eprintln!("REFUSED: {refused}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What is checked, in order: the file's magic and format version; every
//! validator-set change from the genesis set up to the certified block, each
//! signed by more than 2/3 of the set then in force; the certified block's commit
//! certificate; every carried state value's Merkle proof against the certified
//! state root; that this state names the given genesis and the validator set the
//! chain leads to; then the claim (the record and its provenance digest, the
//! signers' certificates, or the document's signatures).

mod chain;
mod check;
mod commit;
mod document;
pub mod error;
pub mod format;
mod record;
pub mod render;
pub mod report;
pub mod time;
pub mod tree;
mod values;

pub use check::{check_document, verify, verify_anchor, verify_bytes};
pub use error::{Place, VerifyError};
pub use format::{
    Certificate, Claim, ProvenValue, ProvenanceExcerpt, SetChange, StateAnchor, FORMAT_VERSION,
};
pub use render::render;
pub use report::Verified;
