//! The state values a certificate carries, each checked against the certified state
//! root before anything reads it, then looked up by key.

use crate::error::{Place, VerifyError};
use crate::format::ProvenValue;
use crate::tree::key_hash;
use jmt::RootHash;
use std::collections::BTreeMap;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;

/// A readable name for a state key: its prefix and the hex of what follows.
pub fn describe(key: &[u8]) -> String {
    match key.iter().position(|b| *b == b'/') {
        Some(slash) => {
            let (prefix, rest) = key.split_at(slash + 1);
            format!("{}{}", String::from_utf8_lossy(prefix), hex::encode(rest))
        }
        None => String::from_utf8_lossy(key).into_owned(),
    }
}

/// Checks one value's proof against `root`.
pub fn check_proof(value: &ProvenValue, root: &Hash32, place: Place) -> Result<(), VerifyError> {
    value
        .proof
        .verify(RootHash(root.0), key_hash(&value.key), value.value.as_ref())
        .map_err(|e| VerifyError::Proof {
            what: describe(&value.key),
            place,
            reason: e.to_string(),
        })
}

/// Decodes a proven value.
pub fn decode<T: encoding::Decode<()>>(key: &[u8], bytes: &[u8]) -> Result<T, VerifyError> {
    encoding::decode(bytes).map_err(|e| VerifyError::ValueMalformed {
        what: describe(key),
        reason: e.to_string(),
    })
}

/// Proven state at the certified height: only values whose proofs verified.
pub struct ProvenState {
    values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl ProvenState {
    /// Checks every value against `root`; a key proven twice is refused, so no byte
    /// of the file goes unchecked.
    pub fn check(values: &[ProvenValue], root: &Hash32, place: Place) -> Result<Self, VerifyError> {
        let mut map = BTreeMap::new();
        for value in values {
            check_proof(value, root, place)?;
            if map.insert(value.key.clone(), value.value.clone()).is_some() {
                let what = describe(&value.key);
                return Err(VerifyError::DuplicateValue { what });
            }
        }
        Ok(ProvenState { values: map })
    }

    /// The proven value at `key` (`None`: proven absent), or an error if the
    /// certificate does not prove it either way.
    pub fn get<T: encoding::Decode<()>>(&self, key: &[u8]) -> Result<Option<T>, VerifyError> {
        match self.values.get(key) {
            None => Err(VerifyError::Missing {
                what: describe(key),
            }),
            Some(None) => Ok(None),
            Some(Some(bytes)) => decode(key, bytes).map(Some),
        }
    }

    /// Like [`get`](Self::get), for a value that must be present.
    pub fn require<T: encoding::Decode<()>>(&self, key: &[u8]) -> Result<T, VerifyError> {
        self.get(key)?.ok_or_else(|| VerifyError::Missing {
            what: describe(key),
        })
    }
}
