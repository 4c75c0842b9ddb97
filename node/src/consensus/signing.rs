//! Consensus signatures on ed25519-dalek, the one verifier every node uses. The
//! bytes signed for votes and proposals are defined in the runtime
//! (`vote_sign_bytes`, `proposal_sign_bytes`), so a commit certificate can be
//! checked offline against a header without any of this module.

use super::context::{Proposal, TamgaContext, Vote};
use super::mark::{MarkError, SigningState, Step};
use arc_malachitebft_core_types as mc;
use arc_malachitebft_signing::{Error, Signer, VerificationResult, Verifier};
use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use mc::{NilOrVal, SignedMessage, ValidatorProof, VoteExtensionScope, VoteType};
use tamga_runtime::types::{proposal_sign_bytes, vote_sign_bytes, VoteKind};
use tamga_runtime::Hash32;

/// An ed25519 signature, in the form the engine stores and orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Sig(pub [u8; 64]);

#[derive(Debug, thiserror::Error)]
#[error("malformed {0}: wrong length or not a curve point")]
pub struct DecodingError(&'static str);

/// The signing scheme named in the context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519;

impl mc::SigningScheme for Ed25519 {
    type DecodingError = DecodingError;
    type Signature = Sig;
    type PublicKey = VerifyingKey;
    type PrivateKey = SigningKey;

    fn decode_signature(bytes: &[u8]) -> Result<Sig, DecodingError> {
        let bytes: [u8; 64] = bytes.try_into().map_err(|_| DecodingError("signature"))?;
        Ok(Sig(bytes))
    }
    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0.to_vec()
    }
    fn decode_public_key(bytes: &[u8]) -> Result<VerifyingKey, DecodingError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| DecodingError("public key"))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| DecodingError("public key"))
    }
    fn encode_public_key(key: &VerifyingKey) -> Vec<u8> {
        key.to_bytes().to_vec()
    }
}

fn vote_bytes(chain_id: &str, vote: &Vote) -> Hash32 {
    let kind = match vote.kind {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    };
    let block = match &vote.value {
        NilOrVal::Nil => None,
        NilOrVal::Val(id) => Some(Hash32(id.0)),
    };
    vote_sign_bytes(
        chain_id,
        kind,
        vote.height.0,
        vote.round.as_i64(),
        block.as_ref(),
    )
}

fn proposal_bytes(chain_id: &str, proposal: &Proposal) -> Hash32 {
    proposal_sign_bytes(
        chain_id,
        proposal.height.0,
        proposal.round.as_i64(),
        proposal.pol_round.as_i64(),
        &Hash32(proposal.value.0),
    )
}

/// Vote extensions are disabled; should one ever be signed, it is bound to its scope.
fn extension_bytes(chain_id: &str, scope: &VoteExtensionScope<TamgaContext>) -> Vec<u8> {
    let mut bytes = b"tamga 2026 vote extension v1".to_vec();
    bytes.extend_from_slice(chain_id.as_bytes());
    bytes.extend_from_slice(&scope.height.0.to_le_bytes());
    bytes.extend_from_slice(&scope.round.as_i64().to_le_bytes());
    bytes.extend_from_slice(&scope.value_id.0);
    bytes.extend_from_slice(&scope.validator_address.0);
    bytes
}

fn verify(key: &VerifyingKey, message: &[u8], signature: &Sig) -> VerificationResult {
    let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
    VerificationResult::from_bool(key.verify_strict(message, &signature).is_ok())
}

/// This validator's consensus key. With a signing mark (`mark.rs`), every
/// proposal and vote passes its rule first and is recorded before the signature
/// is released; without one (the Byzantine test proxy's second signer) it signs
/// whatever it is asked.
pub struct KeySigner {
    key: SigningKey,
    chain_id: std::sync::Arc<str>,
    mark: Option<std::sync::Arc<SigningState>>,
    /// Test builds: every vote signed, appended before the signature is released.
    #[cfg(feature = "test-faults")]
    vote_log: Option<std::sync::Mutex<std::fs::File>>,
}

impl KeySigner {
    pub fn new(
        key: SigningKey,
        chain_id: std::sync::Arc<str>,
        mark: Option<std::sync::Arc<SigningState>>,
    ) -> Self {
        KeySigner {
            key,
            chain_id,
            mark,
            #[cfg(feature = "test-faults")]
            vote_log: None,
        }
    }

    /// Test builds: the same key with no mark, to sign what an honest node
    /// never would (the fault switches' extra proposals).
    #[cfg(feature = "test-faults")]
    pub fn unmarked(&self) -> KeySigner {
        KeySigner::new(self.key.clone(), self.chain_id.clone(), None)
    }

    /// Test builds: log every vote to `path` (a crash test reads it back).
    #[cfg(feature = "test-faults")]
    pub fn with_vote_log(mut self, path: Option<&std::path::Path>) -> Self {
        self.vote_log = path.and_then(|path| {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            file.ok().map(std::sync::Mutex::new)
        });
        self
    }

    #[cfg(feature = "test-faults")]
    fn log_vote(&self, vote: &Vote) -> Result<(), Error> {
        use std::io::Write;
        let Some(log) = &self.vote_log else {
            return Ok(());
        };
        let value = match &vote.value {
            NilOrVal::Nil => "nil".to_string(),
            NilOrVal::Val(id) => id.to_string(),
        };
        let line = format!(
            "{} {} {:?} {value}\n",
            vote.height,
            vote.round.as_i64(),
            vote.kind
        );
        let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes()).map_err(Error::from_source)
    }

    #[cfg(not(feature = "test-faults"))]
    fn log_vote(&self, _vote: &Vote) -> Result<(), Error> {
        Ok(())
    }

    /// Whether `error` is the signing mark's refusal (not a failure to persist it).
    pub fn is_refusal(error: &Error) -> bool {
        std::error::Error::source(error)
            .and_then(|source| source.downcast_ref::<std::io::Error>())
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
    }

    /// Notes on the mark that the consensus engine's request was refused.
    pub fn note_engine_refusal(&self) {
        if let Some(mark) = &self.mark {
            mark.note_engine_refusal();
        }
    }

    pub fn chain_id(&self) -> std::sync::Arc<str> {
        self.chain_id.clone()
    }

    /// Signs consensus bytes at a (height, round, step), under the mark if any.
    pub fn sign_at(&self, at: (u64, i64, Step), hash: &Hash32) -> Result<Sig, Error> {
        let sign = |hash: &Hash32| self.key.sign(&hash.0).to_bytes();
        let Some(mark) = &self.mark else {
            return Ok(Sig(sign(hash)));
        };
        match mark.sign(at, hash, sign) {
            Ok(signature) => Ok(Sig(signature)),
            Err(error) => {
                tracing::error!("{error}");
                let kind = match error {
                    MarkError::Refused(_) => std::io::ErrorKind::PermissionDenied,
                    MarkError::Persist(_) => std::io::ErrorKind::Other,
                };
                Err(Error::from_source(std::io::Error::new(
                    kind,
                    error.to_string(),
                )))
            }
        }
    }

    /// Signs a proposal part's block (same bytes, and step, as its proposal).
    pub fn sign_part(&self, proposal: &Proposal) -> Result<Sig, Error> {
        let at = (proposal.height.0, proposal.round.as_i64(), Step::Proposal);
        self.sign_at(at, &proposal_bytes(&self.chain_id, proposal))
    }
}

#[async_trait]
impl Signer<TamgaContext> for KeySigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<TamgaContext, Vote>, Error> {
        let step = match vote.kind {
            VoteType::Prevote => Step::Prevote,
            VoteType::Precommit => Step::Precommit,
        };
        let at = (vote.height.0, vote.round.as_i64(), step);
        let signature = self.sign_at(at, &vote_bytes(&self.chain_id, &vote))?;
        self.log_vote(&vote)?;
        Ok(SignedMessage::new(vote, signature))
    }
    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<TamgaContext, Proposal>, Error> {
        let signature = self.sign_part(&proposal)?;
        Ok(SignedMessage::new(proposal, signature))
    }
    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<TamgaContext>,
        extension: (),
    ) -> Result<SignedMessage<TamgaContext, ()>, Error> {
        let bytes = extension_bytes(&self.chain_id, &scope);
        Ok(SignedMessage::new(
            extension,
            Sig(self.key.sign(&bytes).to_bytes()),
        ))
    }
    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<TamgaContext>, Error> {
        let bytes = ValidatorProof::<TamgaContext>::signing_bytes(&public_key, &peer_id);
        let signature = Sig(self.key.sign(&bytes).to_bytes());
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Checks other validators' signatures (strict ed25519: no malleable encodings).
pub struct KeyVerifier {
    pub chain_id: std::sync::Arc<str>,
}

#[async_trait]
impl Verifier<TamgaContext> for KeyVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Sig,
        key: &VerifyingKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(key, &vote_bytes(&self.chain_id, vote).0, signature))
    }
    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Sig,
        key: &VerifyingKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(
            key,
            &proposal_bytes(&self.chain_id, proposal).0,
            signature,
        ))
    }
    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<TamgaContext>,
        _extension: &(),
        signature: &Sig,
        key: &VerifyingKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verify(
            key,
            &extension_bytes(&self.chain_id, scope),
            signature,
        ))
    }
    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<TamgaContext>,
    ) -> Result<VerificationResult, Error> {
        let Ok(key) = proof.decoded_public_key() else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(verify(&key, &proof.preimage(), &proof.signature))
    }
}

/// The part signature: the proposer signs the same bytes as for its proposal.
pub fn part_sign_bytes(chain_id: &str, proposal: &Proposal) -> Hash32 {
    proposal_bytes(chain_id, proposal)
}

/// Checks a part's signature against its claimed proposer's key.
pub fn verify_part(
    key: &VerifyingKey,
    chain_id: &str,
    proposal: &Proposal,
    signature: &Sig,
) -> bool {
    verify(key, &part_sign_bytes(chain_id, proposal).0, signature).is_valid()
}
