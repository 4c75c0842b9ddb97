//! Genesis: the chain id, the validator set, and the certificates the chain
//! starts with: its root certification authorities (Art. 52 p.2) and any other
//! subject it needs from height 1 (validator operators, a registrar).

use crate::limits::{CHAIN_ID_BYTES_MAX, GENESIS_CERTIFICATES_MAX};
#[cfg(feature = "execution")]
use crate::pki;
use crate::pki::GenesisCertificate;
#[cfg(feature = "execution")]
use crate::state::{keys, EmptyState, Overlay, WriteSet};
use crate::types::{encoding, hashing, Hash32, PublicKey};
#[cfg(feature = "execution")]
use crate::validators::check_set;
use crate::validators::{Validator, ValidatorError, ValidatorSchedule};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct GenesisValidator {
    pub name: String,
    pub public_key: PublicKey,
    pub power: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Genesis {
    pub chain_id: String,
    pub genesis_time_ms: u64,
    pub validators: Vec<GenesisValidator>,
    pub certificates: Vec<GenesisCertificate>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenesisError {
    #[error("chain_id must be 1..={CHAIN_ID_BYTES_MAX} bytes of [a-z0-9-]")]
    BadChainId,
    #[error("genesis needs at least one validator with power > 0")]
    NoValidators,
    #[error("genesis names {0} certificates; the limit is {GENESIS_CERTIFICATES_MAX}")]
    TooManyCertificates(usize),
    #[error("genesis certificates: {0}")]
    Certificates(String),
    #[error("genesis validators: {0}")]
    Validators(#[from] ValidatorError),
}

impl Genesis {
    #[cfg(feature = "execution")]
    pub fn validate(&self) -> Result<(), GenesisError> {
        let id_ok = !self.chain_id.is_empty()
            && self.chain_id.len() <= CHAIN_ID_BYTES_MAX
            && self
                .chain_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(GenesisError::BadChainId);
        }
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        check_set(&self.schedule().current)?;
        if self.certificates.len() > GENESIS_CERTIFICATES_MAX {
            return Err(GenesisError::TooManyCertificates(self.certificates.len()));
        }
        pki::genesis::check(&self.certificates).map_err(GenesisError::Certificates)?;
        Ok(())
    }

    /// The chain's identity: the hash of its genesis, canonically encoded. Block 1
    /// extends it, and state keeps it (`cfg/genesis`), so an offline verifier holding
    /// this file can tell a proof of this chain from a proof of any other.
    pub fn hash(&self) -> Hash32 {
        hashing::hash(&hashing::DOMAIN_GENESIS, &[&encoding::encode(self)])
    }

    /// The genesis validators as the set in force from height 1.
    pub fn schedule(&self) -> ValidatorSchedule {
        let current = self
            .validators
            .iter()
            .map(|v| Validator {
                public_key: v.public_key,
                power: v.power,
            })
            .collect();
        ValidatorSchedule {
            current,
            next: None,
        }
    }

    /// The state at height 0.
    #[cfg(feature = "execution")]
    pub fn initial_writes(&self) -> WriteSet {
        let mut state = Overlay::new(&EmptyState);
        state.put(keys::chain_id(), &self.chain_id);
        state.put(keys::genesis(), &self.hash());
        pki::genesis::write(&mut state, &self.certificates);
        state.put(keys::tip(), &(0u64, self.genesis_time_ms));
        state.put(keys::validators(), &self.schedule());
        state.into_writes()
    }
}
