//! Title-certification digital records (Art. 21 p.2(2), p.5): registration,
//! transfer, encumbrance, release and termination of rights in tangible and digital
//! objects and claims, with the national-object regime of Art. 34 p.3.

mod error;
mod model;
pub mod provenance;
#[cfg(feature = "execution")]
mod rules;

pub use error::RecordError;
pub use model::{Asset, Class, Encumbrance, Event, Record, RecordStatus};
pub use provenance::{Provenance, ProvenanceEntry, Signer};
#[cfg(feature = "execution")]
pub use rules::apply;
#[cfg(feature = "execution")]
pub(crate) use rules::{deposit_into, encumber, load_active, terminate, transfer};

#[cfg(test)]
mod tests;
