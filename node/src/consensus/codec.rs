//! One codec for everything the engine puts on the wire or in its WAL: borsh, via
//! the encodings Malachite ships for its own types. Input size is bounded before
//! it gets here (gossip and sync message limits in `config.rs`), and a malformed
//! message is a decode error, never a panic.

use super::context::{Address, BlockId, Height, ProposalPart, TamgaContext};
use super::signing::Sig;
use arc_malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use arc_malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use arc_malachitebft_core_types::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, ValidatorProof,
};
use arc_malachitebft_engine::util::streaming::StreamMessage;
use arc_malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueResponse};
use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;

#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

fn encode<T: BorshSerialize>(msg: &T) -> Result<Bytes, std::io::Error> {
    borsh::to_vec(msg).map(Bytes::from)
}

fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, std::io::Error> {
    borsh::from_slice(bytes)
}

macro_rules! borsh_codec {
    ($($ty:ty),* $(,)?) => {$(
        impl Codec<$ty> for BorshCodec {
            type Error = std::io::Error;
            fn decode(&self, bytes: Bytes) -> Result<$ty, Self::Error> {
                decode(&bytes)
            }
            fn encode(&self, msg: &$ty) -> Result<Bytes, Self::Error> {
                encode(msg)
            }
        }
    )*};
}

borsh_codec!(
    ProposalPart,
    SignedConsensusMsg<TamgaContext>,
    LivenessMsg<TamgaContext>,
    StreamMessage<ProposalPart>,
    Status<TamgaContext>,
    Request<TamgaContext>,
    ProposedValue<TamgaContext>,
    PolkaCertificate<TamgaContext>,
);

/// Malachite's borsh forms stop at the extended commit certificate; Tamga has no
/// vote extensions, so a decided value travels as block bytes plus precommits.
#[derive(BorshSerialize, BorshDeserialize)]
struct DecidedWire {
    value_bytes: Vec<u8>,
    height: Height,
    round: Round,
    value_id: BlockId,
    signatures: Vec<(Address, Sig)>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct ResponseWire {
    start_height: Height,
    values: Vec<DecidedWire>,
}

fn response_wire(msg: &Response<TamgaContext>) -> ResponseWire {
    let Response::ValueResponse(response) = msg;
    let values = response
        .values
        .iter()
        .map(|v| DecidedWire {
            value_bytes: v.value_bytes.to_vec(),
            height: v.certificate.height,
            round: v.certificate.round,
            value_id: v.certificate.value_id,
            signatures: v
                .certificate
                .commit_signatures
                .iter()
                .map(|s| (s.address, s.signature))
                .collect(),
        })
        .collect();
    ResponseWire {
        start_height: response.start_height,
        values,
    }
}

/// A decided value's certificate for round Nil is refused here: no validator
/// signs a vote for it, so it can only be junk.
fn response_of(wire: ResponseWire) -> std::io::Result<Response<TamgaContext>> {
    if wire.values.iter().any(|v| v.round == Round::Nil) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a decided value's certificate names round Nil",
        ));
    }
    let values = wire
        .values
        .into_iter()
        .map(|v| {
            let signatures = v
                .signatures
                .into_iter()
                .map(|(address, signature)| ExtendedCommitSignature {
                    address,
                    signature,
                    extension: None,
                })
                .collect();
            let certificate = ExtendedCommitCertificate {
                height: v.height,
                round: v.round,
                value_id: v.value_id,
                commit_signatures: signatures,
            };
            RawDecidedValue::new(v.value_bytes.into(), certificate)
        })
        .collect();
    Ok(Response::ValueResponse(ValueResponse::new(
        wire.start_height,
        values,
    )))
}

impl Codec<Response<TamgaContext>> for BorshCodec {
    type Error = std::io::Error;
    fn decode(&self, bytes: Bytes) -> Result<Response<TamgaContext>, Self::Error> {
        decode(&bytes).and_then(response_of)
    }
    fn encode(&self, msg: &Response<TamgaContext>) -> Result<Bytes, Self::Error> {
        encode(&response_wire(msg))
    }
}

impl HasEncodedLen<Response<TamgaContext>> for BorshCodec {
    fn encoded_len(&self, msg: &Response<TamgaContext>) -> Result<usize, std::io::Error> {
        borsh::object_length(&response_wire(msg))
    }
}

/// Malachite ships no borsh form for the proof binding a peer id to a validator key.
#[derive(BorshSerialize, BorshDeserialize)]
struct ProofWire {
    public_key: Vec<u8>,
    peer_id: Vec<u8>,
    signature: Sig,
}

impl Codec<ValidatorProof<TamgaContext>> for BorshCodec {
    type Error = std::io::Error;
    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<TamgaContext>, Self::Error> {
        let wire: ProofWire = decode(&bytes)?;
        Ok(ValidatorProof::new(
            wire.public_key,
            wire.peer_id,
            wire.signature,
        ))
    }
    fn encode(&self, proof: &ValidatorProof<TamgaContext>) -> Result<Bytes, Self::Error> {
        encode(&ProofWire {
            public_key: proof.public_key.clone(),
            peer_id: proof.peer_id.clone(),
            signature: proof.signature,
        })
    }
}
