//! The one canonical binary encoding (bincode 2, standard config, size-limited).
//!
//! Hashes and signatures are computed over these bytes, so every node must produce
//! exactly the same bytes for the same value: one configuration, used everywhere.

use serde::{de::DeserializeOwned, Serialize};

/// Upper bound on any single decoded value, so hostile input cannot make us allocate
/// without limit. Blocks are the largest values we decode.
pub const DECODE_BYTES_MAX: usize = 64 * 1024 * 1024;

type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<DECODE_BYTES_MAX>,
>;

const CONFIG: Config = bincode::config::standard().with_limit::<DECODE_BYTES_MAX>();

/// Why bytes could not be decoded into a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("malformed encoding: {0}")]
    Malformed(String),
    #[error("malformed encoding: {0} trailing bytes after the value")]
    TrailingBytes(usize),
}

/// Encodes a value canonically. Encoding our own types cannot fail: they contain no
/// maps with non-deterministic order and no unsupported serde features.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, CONFIG).expect("ledger types always encode")
}

/// Decodes a value and refuses trailing bytes, so one value has one encoding.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, read) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - read));
    }
    Ok(value)
}

/// Decodes the value at the start of `bytes`, ignoring what follows: a block's
/// header (its first field) without decoding its transactions, so a part can be
/// checked for its proposer's signature before any costly work.
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, _) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    Ok(value)
}
