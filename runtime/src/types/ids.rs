//! Fixed-size byte identifiers: hashes, ed25519 public keys and signatures.
//!
//! In the canonical binary encoding they are raw bytes; in JSON (RPC, genesis, CLI
//! output) they are lowercase hex, which is what people copy and paste.

use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A blake3 hash: ids of transactions, blocks, records and classes.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, bincode::Encode, bincode::Decode,
)]
pub struct Hash32(pub [u8; 32]);

/// An ed25519 public key; accounts are public keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, bincode::Encode, bincode::Decode)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Signature(pub [u8; 64]);

/// A subject of rights (a person, a legal entity, a state body), as the ledger
/// names it: rights belong to subjects, and a certificate says which key a subject
/// signs with now. Derived from the subject's salted identifier commitment, or,
/// for an owner no key controls (a contract instance's custody, a condominium),
/// from that object's id under its own domain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, bincode::Encode, bincode::Decode)]
pub struct SubjectId(pub [u8; 32]);

/// Why a hex string is not an id of the expected length.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("expected {expected} hex characters, got {got:?}")]
pub struct ParseIdError {
    expected: usize,
    got: String,
}

fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], ParseIdError> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    let mut out = [0u8; N];
    match hex::decode_to_slice(text, &mut out) {
        Ok(()) => Ok(out),
        Err(_) => Err(ParseIdError {
            expected: N * 2,
            got: text.chars().take(140).collect(),
        }),
    }
}

macro_rules! hex_id {
    ($name:ident, $len:expr) => {
        impl $name {
            /// Lowercase hex, without a prefix.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
            /// Parses lowercase or uppercase hex, with or without `0x`.
            pub fn from_hex(text: &str) -> Result<Self, ParseIdError> {
                parse_hex::<$len>(text).map(Self)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
        impl std::str::FromStr for $name {
            type Err = ParseIdError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::from_hex(text)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&self.to_hex())
                } else {
                    raw_serialize(&self.0, s)
                }
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = String::deserialize(d)?;
                    Self::from_hex(&text).map_err(D::Error::custom)
                } else {
                    raw_deserialize::<$len, D>(d).map(Self)
                }
            }
        }
    };
}

hex_id!(Hash32, 32);
hex_id!(PublicKey, 32);
hex_id!(Signature, 64);
hex_id!(SubjectId, 32);

/// Raw bytes as a fixed-length tuple: no length prefix, one encoding per value.
fn raw_serialize<const N: usize, S: Serializer>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let mut tuple = s.serialize_tuple(N)?;
    for byte in bytes {
        tuple.serialize_element(byte)?;
    }
    tuple.end()
}

fn raw_deserialize<'de, const N: usize, D: Deserializer<'de>>(d: D) -> Result<[u8; N], D::Error> {
    struct Visitor<const N: usize>;
    impl<'de, const N: usize> serde::de::Visitor<'de> for Visitor<N> {
        type Value = [u8; N];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{N} bytes")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
            let mut out = [0u8; N];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(i, &self))?;
            }
            Ok(out)
        }
    }
    d.deserialize_tuple(N, Visitor::<N>)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::encoding::{decode, encode};

    #[test]
    fn hex_round_trip_and_errors() {
        let id = Hash32([7; 32]);
        assert_eq!(Hash32::from_hex(&id.to_hex()), Ok(id));
        assert_eq!(Hash32::from_hex(&format!("0x{}", id.to_hex())), Ok(id));
        assert!(Hash32::from_hex("abc").is_err());
        assert!(Hash32::from_hex(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn binary_is_raw_bytes() {
        let sig = Signature([9; 64]);
        let bytes = encode(&sig);
        assert_eq!(bytes.len(), 64);
        assert_eq!(decode::<Signature>(&bytes), Ok(sig));
        assert!(decode::<Signature>(&bytes[..63]).is_err());
    }

    #[test]
    fn json_is_hex() {
        let key = PublicKey([1; 32]);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{}\"", "01".repeat(32)));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<PublicKey>("\"01\"").is_err());
    }
}

/// Variable-length bytes (code, call input and output, event data): raw in the
/// canonical encoding, lowercase hex in JSON.
#[derive(Clone, PartialEq, Eq, Default, bincode::Encode, bincode::Decode)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            hex::decode(text.strip_prefix("0x").unwrap_or(&text))
                .map(Bytes)
                .map_err(D::Error::custom)
        } else {
            Vec::<u8>::deserialize(d).map(Bytes)
        }
    }
}

#[cfg(test)]
mod bytes_tests {
    use super::Bytes;
    use crate::types::encoding::{decode, encode};

    #[test]
    fn bytes_are_raw_in_binary_and_hex_in_json() {
        let bytes = Bytes(vec![0xde, 0xad]);
        assert_eq!(decode::<Bytes>(&encode(&bytes)), Ok(bytes.clone()));
        assert_eq!(serde_json::to_string(&bytes).unwrap(), "\"dead\"");
        assert_eq!(serde_json::from_str::<Bytes>("\"0xdead\"").unwrap(), bytes);
        assert!(serde_json::from_str::<Bytes>("\"xyz\"").is_err());
    }
}
