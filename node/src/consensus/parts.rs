//! Blocks as consensus values: building and signing the part that carries a
//! proposed block, checking a received one (signature, size, clock, then full
//! re-execution), and the conversions between Tamga's commit and Malachite's
//! certificate for storage and value sync.

use super::context::{
    Address, BlockId, Height, Proposal, ProposalPart, TamgaContext, ValidatorSet,
};
use super::signing::{part_sign_bytes, verify_part, KeySigner, Sig};
use super::values::Candidate;
use super::Fault;
use crate::app::{App, BlockError};
use crate::storage::ExecutedBlock;
use arc_malachitebft_app_channel::app::streaming::StreamId;
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_core_types::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, Round, ValidatorSet as _,
};
use tamga_runtime::limits::BLOCK_BYTES_MAX;
use tamga_runtime::types::{encoding, Block, Commit, CommitSig};
use tamga_runtime::{Hash32, PublicKey, Signature, TxError};

/// How far ahead of this validator's clock a proposed block's time may be. BFT
/// time must track real time; a proposer whose clock runs ahead cannot drag the
/// chain's time into the future.
pub const BLOCK_TIME_AHEAD_MAX_MS: u64 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum PartError {
    #[error("proposal part is malformed: {0}")]
    Malformed(String),
    #[error("proposal part is {0} bytes; a block may be at most {BLOCK_BYTES_MAX}")]
    TooLarge(usize),
    #[error("proposer {0} is not in the validator set for this height")]
    UnknownProposer(Address),
    #[error("proposal part signature does not verify for proposer {0}")]
    BadSignature(Address),
    /// A well-formed, correctly signed block that fails the rules: vote nil on it.
    #[error("block {id} refused: {error}")]
    Refused { id: BlockId, error: String },
}

pub fn decode_block(bytes: &[u8]) -> Result<Block, PartError> {
    if bytes.len() > BLOCK_BYTES_MAX {
        return Err(PartError::TooLarge(bytes.len()));
    }
    encoding::decode(bytes).map_err(|e| PartError::Malformed(e.to_string()))
}

/// Builds the next block from the mempool. With the test-only fault switch on, the
/// header lies about the state root, which every honest validator must catch.
pub fn build(
    app: &App,
    proposer: PublicKey,
    fault: Fault,
) -> Result<(ExecutedBlock, Vec<(Hash32, TxError)>), BlockError> {
    let time_ms = crate::clock::now_ms().max(app.tip().time_ms + 1);
    let (mut executed, dropped) = app.build_block(time_ms, proposer)?;
    if fault == Fault::WrongStateRoot {
        executed.block.header.state_root.0[0] ^= 0xff;
        tracing::warn!("fault switch: proposing a block with a wrong state root");
    }
    Ok((executed, dropped))
}

/// Signs the part that carries a freshly built block.
pub fn sign(
    built: (ExecutedBlock, Vec<(Hash32, TxError)>),
    chain_id: &str,
    height: Height,
    round: Round,
    signer: &KeySigner,
) -> (Candidate, BlockId) {
    let (executed, dropped) = built;
    let id = BlockId(executed.block.header.hash().0);
    let proposer = Address(executed.block.header.proposer.0);
    let signature = signer.sign_hash(&part_sign_bytes(
        chain_id,
        &proposal(height, round, id, proposer),
    ));
    let part = ProposalPart {
        height,
        round,
        proposer,
        block: encoding::encode(&executed.block),
        signature,
    };
    let candidate = Candidate {
        executed,
        dropped,
        part: Some(part),
    };
    (candidate, id)
}

fn proposal(height: Height, round: Round, value: BlockId, proposer: Address) -> Proposal {
    Proposal {
        height,
        round,
        value,
        pol_round: Round::Nil,
        proposer,
    }
}

/// Checks a live proposal part for the next height: who sent it, that it is
/// theirs, that its time is not ahead of our clock; then executes the block.
/// (Synced history skips this and is executed directly: its certificate vouches.)
pub fn check(app: &App, set: &ValidatorSet, part: ProposalPart) -> Result<Candidate, PartError> {
    let block = decode_block(&part.block)?;
    let validator = set
        .get_by_address(&part.proposer)
        .ok_or(PartError::UnknownProposer(part.proposer))?;
    let id = BlockId(block.header.hash().0);
    let claimed = proposal(part.height, part.round, id, part.proposer);
    if !verify_part(
        &validator.public_key,
        &app.chain_id,
        &claimed,
        &part.signature,
    ) {
        return Err(PartError::BadSignature(part.proposer));
    }
    let refuse = |error: String| PartError::Refused { id, error };
    if block.header.proposer.0 != part.proposer.0 || block.header.height != part.height.0 {
        return Err(refuse(
            "header proposer or height differs from the part's".into(),
        ));
    }
    let now_ms = crate::clock::now_ms();
    if block.header.time_ms > now_ms + BLOCK_TIME_AHEAD_MAX_MS {
        let ahead = block.header.time_ms - now_ms;
        return Err(refuse(format!(
            "block time is {ahead} ms ahead of this validator's clock (limit {BLOCK_TIME_AHEAD_MAX_MS} ms)"
        )));
    }
    let executed = app
        .execute_block(block)
        .map_err(|e| refuse(e.to_string()))?;
    Ok(Candidate {
        executed,
        dropped: vec![],
        part: Some(part),
    })
}

/// One stream per proposal: height and round name it.
pub fn stream_id(height: Height, round: Round) -> StreamId {
    let mut bytes = height.0.to_be_bytes().to_vec();
    bytes.extend_from_slice(&round.as_i64().to_be_bytes());
    StreamId::new(bytes.into())
}

/// Tamga's commit certificate, as stored with the block and served over RPC.
pub fn commit_of(certificate: &CommitCertificate<TamgaContext>) -> Commit {
    Commit {
        height: certificate.height.0,
        round: certificate.round.as_u32().unwrap_or(0),
        block_hash: Hash32(certificate.value_id.0),
        signatures: certificate
            .commit_signatures
            .iter()
            .map(|s| CommitSig {
                validator: PublicKey(s.address.0),
                signature: Signature(s.signature.0),
            })
            .collect(),
    }
}

/// A stored block with its certificate, as value sync hands it to a lagging peer.
pub fn raw_decided(app: &App, height: u64) -> eyre::Result<Option<RawDecidedValue<TamgaContext>>> {
    let (Some(block), Some(commit)) = (app.storage.block(height)?, app.storage.commit(height)?)
    else {
        return Ok(None);
    };
    let signatures = commit
        .signatures
        .iter()
        .map(|s| ExtendedCommitSignature {
            address: Address(s.validator.0),
            signature: Sig(s.signature.0),
            extension: None,
        })
        .collect();
    let certificate = ExtendedCommitCertificate {
        height: Height(height),
        round: Round::new(commit.round),
        value_id: BlockId(commit.block_hash.0),
        commit_signatures: signatures,
    };
    Ok(Some(RawDecidedValue::new(
        encoding::encode(&block).into(),
        certificate,
    )))
}
