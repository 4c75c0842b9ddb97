//! The one canonical binary encoding (bincode 2, standard config, size-limited).
//!
//! Hashes and signatures are computed over these bytes, so every node must produce
//! exactly the same bytes for the same value: one configuration, used everywhere.
//!
//! The ledger's types encode through bincode's own `Encode`/`Decode` (derived),
//! not through serde: serde hands a fixed-size array to the encoder one byte at
//! a time, bincode's own traits write and read it in one copy (a hash, key or
//! signature is most of every value the ledger stores). Both produce the same
//! bytes for the ledger's types (the standard configuration's varint integers,
//! `u32` variant indexes, length-prefixed sequences, ids as raw bytes): in the
//! runtime's tests every value encoded is also encoded through serde and the
//! bytes compared (see [`encode`] and `tests::native_and_serde_encodings_agree`).
//! Types from other crates that only speak serde (the state tree's nodes and
//! proofs) go through [`encode_serde`] and [`decode_serde`], the same
//! configuration; the node writes the tree's nodes and node keys by hand in
//! those very bytes, one copy per hash (`tamga_node`'s `storage::tree_bytes`).
//!
//! A decoded sequence or string first reserves what its length prefix claims
//! (strings and bytes zero-filled), within the limit on what a decode may claim
//! in memory: 64 MiB for [`decode`]. Input from strangers is decoded within a
//! limit sized to it ([`decode_within`]: a transaction, a part's header; a
//! block one transaction at a time, [`decode_counted`]) or read without
//! reserving (a gossiped batch, [`decode_borrowed`]).

use serde::{de::DeserializeOwned, Serialize};

/// What a type derives to have the canonical encoding.
pub use bincode::{BorrowDecode, Decode, Encode};
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
/// maps with non-deterministic order and no unsupported serde features. Every
/// ledger type also has serde's form (JSON); in the runtime's own tests each
/// encoding made is checked against serde's bytes for the same value.
pub fn encode<T: Encode + Serialize>(value: &T) -> Vec<u8> {
    let bytes = bincode::encode_to_vec(value, CONFIG).expect("ledger types always encode");
    #[cfg(test)]
    assert_eq!(
        bytes,
        encode_serde(value),
        "{}: bincode's own encoding differs from serde's",
        std::any::type_name::<T>()
    );
    bytes
}

/// [`encode`] for a type that only implements serde's `Serialize`.
pub fn encode_serde<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, CONFIG).expect("ledger types always encode")
}

/// Decodes a value and refuses trailing bytes, so one value has one encoding.
pub fn decode<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_within::<DECODE_BYTES_MAX, T>(bytes)
}

/// [`decode`] with the memory a decode may claim limited to `MAX` bytes, for
/// input from strangers whose size is bounded before it is decoded (a
/// transaction, a part's header): a length prefix there cannot reserve more
/// than `MAX` (a string is zero-filled to its claimed length before it is read),
/// whatever the 64 MiB limit of the rest allows. Same bytes, same encoding; only
/// values that would claim more than `MAX` are refused.
pub fn decode_within<const MAX: usize, T: bincode::Decode<()>>(
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let (value, read) = decode_counted::<MAX, T>(bytes)?;
    whole(value, read, bytes.len())
}

/// The value at the start of `bytes` and how many bytes it took, with what its
/// decode may claim limited to `MAX` bytes: for reading a sequence of values
/// one at a time, each within its own claim (a block's transactions).
pub fn decode_counted<const MAX: usize, T: bincode::Decode<()>>(
    bytes: &[u8],
) -> Result<(T, usize), DecodeError> {
    let config = bincode::config::standard().with_limit::<MAX>();
    bincode::decode_from_slice(bytes, config).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// [`decode`] for a type that only implements serde's `Deserialize`.
pub fn decode_serde<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, read) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    whole(value, read, bytes.len())
}

/// Refuses bytes left over after a value: one value has one encoding.
fn whole<T>(value: T, read: usize, len: usize) -> Result<T, DecodeError> {
    if read != len {
        return Err(DecodeError::TrailingBytes(len - read));
    }
    Ok(value)
}

/// [`decode`] for a value that borrows from `bytes` (a gossiped batch's
/// transactions, without a copy or an allocation a length prefix could size).
pub fn decode_borrowed<'a, T: bincode::BorrowDecode<'a, ()>>(
    bytes: &'a [u8],
) -> Result<T, DecodeError> {
    let (value, read) = bincode::borrow_decode_from_slice(bytes, CONFIG)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    whole(value, read, bytes.len())
}

/// Decodes the value at the start of `bytes`, ignoring what follows: a block's
/// header (its first field) without decoding its transactions, so a part can be
/// checked for its proposer's signature before any costly work.
/// What it may claim is limited to `MAX` bytes, as in [`decode_within`].
pub fn decode_prefix<const MAX: usize, T: bincode::Decode<()>>(
    bytes: &[u8],
) -> Result<T, DecodeError> {
    Ok(decode_counted::<MAX, T>(bytes)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{
        Block, BlockHeader, Commit, CommitSig, Equivocation, Evidence, Hash32, Payload, PublicKey,
        Signature, SignedProposalSide, SignedTx, SignedVoteSide, SubjectId, Transaction, VoteKind,
    };

    /// Encodes through bincode's own traits (which also checks serde's bytes, in
    /// `encode`) and decodes back to the same value.
    fn round_trip<T>(value: &T)
    where
        T: Encode + Decode<()> + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let bytes = encode(value);
        assert_eq!(decode::<T>(&bytes).as_ref(), Ok(value));
        assert_eq!(decode_serde::<T>(&bytes).as_ref(), Ok(value));
    }

    fn signed_tx(nonce: u64) -> SignedTx {
        let key = ed25519_dalek::SigningKey::from_bytes(&[nonce as u8 + 1; 32]);
        let tx = Transaction {
            chain_id: "tamga-test".into(),
            signer: PublicKey(key.verifying_key().to_bytes()),
            nonce,
            payload: Payload::Transfer {
                record: Hash32([3; 32]),
                to: SubjectId([4; 32]),
                amount: Some(u64::MAX - nonce),
            },
        };
        let cosigner = ed25519_dalek::SigningKey::from_bytes(&[200; 32]);
        tx.sign(&key).cosign(&cosigner)
    }

    /// The values the runtime's other tests do not store or hash themselves
    /// (blocks, commits, evidence, a co-signed transaction, large and negative
    /// integers, absent options): bincode's own encoding is serde's, byte for byte,
    /// and each decoder reads the other's bytes. Other values are checked inside
    /// `encode` wherever a runtime test encodes them (stored state, transactions
    /// and their events in the records scenarios); a variant no test encodes is
    /// covered only by both encodings being derived from the same declaration.
    #[test]
    fn native_and_serde_encodings_agree() {
        let header = BlockHeader {
            chain_id: "tamga-test".into(),
            height: 300,
            time_ms: 1_764_000_000_000,
            prev_hash: Hash32([1; 32]),
            txs_hash: Hash32([2; 32]),
            state_root: Hash32([5; 32]),
            proposer: PublicKey([6; 32]),
        };
        round_trip(&Block {
            header,
            txs: (0..3).map(signed_tx).collect(),
        });
        round_trip(&Commit {
            height: 300,
            round: 70_000,
            block_hash: Hash32([7; 32]),
            signatures: (0..4)
                .map(|i| CommitSig {
                    validator: PublicKey([i; 32]),
                    signature: Signature([i + 9; 64]),
                })
                .collect(),
        });
        let vote = |block| SignedVoteSide {
            block,
            signature: Signature([8; 64]),
        };
        let proposal = |pol_round| SignedProposalSide {
            block: Hash32([9; 32]),
            pol_round,
            signature: Signature([10; 64]),
        };
        for equivocation in [
            Equivocation::DoubleVote {
                kind: VoteKind::Precommit,
                first: vote(None),
                second: vote(Some(Hash32([11; 32]))),
            },
            Equivocation::DoubleProposal {
                first: proposal(-1),
                second: proposal(i64::MIN),
            },
        ] {
            round_trip(&Evidence {
                validator: PublicKey([12; 32]),
                height: 1 << 40,
                round: -1,
                seen_at: 251,
                equivocation,
            });
        }
    }

    /// A fixed-size id is raw bytes either way: no length, no per-byte framing.
    #[test]
    fn ids_encode_as_their_bytes() {
        assert_eq!(encode(&Hash32([0xab; 32])), vec![0xab; 32]);
        assert_eq!(encode(&Signature([0xcd; 64])), vec![0xcd; 64]);
        assert!(decode::<Hash32>(&[0xab; 31]).is_err());
        assert_eq!(
            decode::<Hash32>(&[0xab; 33]),
            Err(DecodeError::TrailingBytes(1))
        );
    }
}
