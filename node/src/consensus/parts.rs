//! Blocks as consensus values: building and signing the part that carries a
//! proposed block, the cheap checks on a received one (its header's hash and its
//! proposer's signature, before the transactions are even decoded), executing
//! it, and the conversions between Tamga's commit and Malachite's certificate for
//! storage and value sync.

use super::context::{
    Address, BlockId, Height, Proposal, ProposalPart, TamgaContext, Validator, ValidatorSet,
};
use super::signing::{verify_part, KeySigner};
use super::values::Candidate;
use crate::app::{App, BlockError};
use crate::storage::ExecutedBlock;
use arc_malachitebft_app_channel::app::streaming::StreamId;
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_core_types::Context as _;
use arc_malachitebft_core_types::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, Round,
};
use tamga_runtime::limits::{BLOCK_BYTES_MAX, BLOCK_TXS_MAX, TX_DECODE_CLAIM_MAX};
use tamga_runtime::types::{encoding, Block, BlockHeader, Commit, CommitSig, SignedTx};
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
    #[error("proposal part signature does not verify for proposer {0}")]
    BadSignature(Address),
    #[error("{0} is not the proposer of this height and round")]
    NotProposer(Address),
    /// A well-formed, correctly signed block that fails the rules: vote nil on it.
    #[error("block {id} refused: {error}")]
    Refused { id: BlockId, error: String },
    /// This node could not execute the block (its disk, its resources): no verdict.
    #[error("this node could not execute block {id}: {error}")]
    Local { id: BlockId, error: Box<BlockError> },
}

/// Decodes a block as the canonical encoding lays it out (its header, the
/// transaction count, each transaction), reading each transaction within the
/// claim any transaction gets on RPC or gossip ([`TX_DECODE_CLAIM_MAX`]) and
/// the header within a header's. A block's body is checked against its
/// header's `txs_hash` only once decoded, so a relay can put any bytes behind
/// a genuinely signed header, and a value-sync response is a stranger's bytes
/// too: whole, their decode could claim (and for a string zero-fill) up to the
/// encoding's 64 MiB from a few bytes. The same bytes give the same block as
/// the canonical decode (`a_block_decodes_one_transaction_at_a_time_as_a_whole`).
/// What only the whole decode would read is a transaction no honest node
/// admits (one that needs more than [`TX_DECODE_CLAIM_MAX`] has more bytes than
/// [`tamga_runtime::limits::TX_BYTES_MAX`]) or a header claiming more than a
/// header's 64 KiB (a chain id no chain has): such a block was refused later
/// (an immediate nil prevote); it is now dropped as malformed, with no
/// verdict, and this node prevotes nil when the round's propose timeout
/// expires. Only a faulty proposer builds one.
pub fn decode_block(bytes: &[u8]) -> Result<Block, PartError> {
    if bytes.len() > BLOCK_BYTES_MAX {
        return Err(PartError::TooLarge(bytes.len()));
    }
    let malformed = |e: encoding::DecodeError| PartError::Malformed(e.to_string());
    let (header, mut at) = encoding::decode_counted::<HEADER_DECODE_CLAIM_MAX, BlockHeader>(bytes)
        .map_err(malformed)?;
    let (count, read) =
        encoding::decode_counted::<COUNT_DECODE_CLAIM_MAX, u64>(&bytes[at..]).map_err(malformed)?;
    at += read;
    // Each transaction takes at least one byte: a count past the bytes left is
    // refused before anything is reserved.
    let left = bytes.len() - at;
    if count > left as u64 {
        return Err(PartError::Malformed(format!(
            "the block's transaction count {count} exceeds its {left} remaining bytes"
        )));
    }
    let mut txs = Vec::with_capacity((count as usize).min(BLOCK_TXS_MAX));
    for _ in 0..count {
        let (tx, read) = encoding::decode_counted::<TX_DECODE_CLAIM_MAX, SignedTx>(&bytes[at..])
            .map_err(malformed)?;
        at += read;
        txs.push(tx);
    }
    if at != bytes.len() {
        return Err(malformed(encoding::DecodeError::TrailingBytes(
            bytes.len() - at,
        )));
    }
    Ok(Block { header, txs })
}

/// Memory the decode of a sequence's length (a varint of at most 9 bytes into
/// a `u64`) may claim.
const COUNT_DECODE_CLAIM_MAX: usize = 16;

/// Memory a part's header may claim when decoded, before its sender is known:
/// a header is a chain id (at most 64 bytes), two integers and four 32-byte
/// ids, so a length prefix in a stranger's part cannot reserve more than this.
const HEADER_DECODE_CLAIM_MAX: usize = 64 * 1024;

/// The id a part claims: the hash of the header at the front of its block bytes,
/// read without decoding the transactions behind it.
pub fn claimed_id(part: &ProposalPart) -> Result<BlockId, PartError> {
    if part.block.len() > BLOCK_BYTES_MAX {
        return Err(PartError::TooLarge(part.block.len()));
    }
    let header: BlockHeader = encoding::decode_prefix::<HEADER_DECODE_CLAIM_MAX, _>(&part.block)
        .map_err(|e| PartError::Malformed(e.to_string()))?;
    Ok(BlockId(header.hash().0))
}

/// Checks that the part comes from the proposer of its (height, round) in `set`
/// and carries that proposer's signature over its block's id; returns the id.
/// Costs one header decode and one signature check, whatever the block holds.
pub fn check_sender(
    chain_id: &str,
    set: &ValidatorSet,
    part: &ProposalPart,
) -> Result<BlockId, PartError> {
    if part.round.as_u32().is_none() {
        return Err(PartError::Malformed("a part must name a round".into()));
    }
    let ctx = TamgaContext::new(chain_id);
    let expected: &Validator = ctx.select_proposer(set, part.height, part.round);
    if expected.address != part.proposer {
        return Err(PartError::NotProposer(part.proposer));
    }
    let id = claimed_id(part)?;
    let claimed = proposal(part.height, part.round, part.pol_round, id, part.proposer);
    if !verify_part(&expected.public_key, chain_id, &claimed, &part.signature) {
        return Err(PartError::BadSignature(part.proposer));
    }
    Ok(id)
}

/// The part's body, decoded and checked against its header's `txs_hash`: a body
/// that does not match is not what the proposer signed (a relay changed it), so
/// it is dropped — never a verdict on the proposer's block.
pub fn check_body(part: &ProposalPart) -> Result<Block, PartError> {
    let block = decode_block(&part.block)?;
    if block.header.txs_hash != tamga_runtime::types::txs_hash(&block.txs) {
        return Err(PartError::Malformed(
            "the transactions do not match the signed header's txs_hash".into(),
        ));
    }
    Ok(block)
}

/// Builds the next block from the mempool at this validator's clock, within a
/// contract fuel budget of `fuel_max` (the block's, but in fault tests), taking
/// transactions for at most `budget`.
pub fn build(
    app: &App,
    proposer: PublicKey,
    fuel_max: u64,
    budget: std::time::Duration,
) -> Result<(ExecutedBlock, Vec<(Hash32, TxError)>), BlockError> {
    let time_ms = crate::clock::now_ms().max(app.tip().time_ms + 1);
    let deadline = std::time::Instant::now() + budget;
    app.build_block_within(time_ms, proposer, fuel_max, Some(deadline))
}

/// Signs, as `proposer`, the part that carries `block` for (`height`, `round`,
/// `pol_round`): under the signing mark, the same bytes as the proposal
/// Malachite signs for it. (A re-proposal carries a block another validator may
/// have built: its header names the builder, the part the round's proposer.) A
/// refusal (the mark) is returned, not raised: the caller then does not propose.
pub fn sign_part(
    block: &Block,
    (height, round, pol_round): (Height, Round, Round),
    proposer: Address,
    signer: &KeySigner,
) -> Result<(ProposalPart, BlockId), arc_malachitebft_signing::Error> {
    let id = BlockId(block.header.hash().0);
    let signature = signer.sign_part(&proposal(height, round, pol_round, id, proposer))?;
    let part = ProposalPart {
        height,
        round,
        pol_round,
        proposer,
        block: encoding::encode(block),
        signature,
    };
    Ok((part, id))
}

/// Signs the part for a freshly built block and keeps both as a candidate
/// (tests and the fault switches, which sign what they build directly).
#[cfg(any(test, feature = "test-faults"))]
pub fn sign(
    executed: ExecutedBlock,
    dropped: Vec<(Hash32, TxError)>,
    at: (Height, Round, Round),
    signer: &KeySigner,
) -> eyre::Result<(Candidate, BlockId)> {
    let proposer = Address(executed.block.header.proposer.0);
    let (part, id) = sign_part(&executed.block, at, proposer, signer)
        .map_err(|e| eyre::eyre!("signing the proposal part: {e}"))?;
    let candidate = Candidate {
        executed,
        dropped,
        round: at.1,
        part: Some(part),
    };
    Ok((candidate, id))
}

fn proposal(
    height: Height,
    round: Round,
    pol_round: Round,
    value: BlockId,
    proposer: Address,
) -> Proposal {
    Proposal {
        height,
        round,
        value,
        pol_round,
        proposer,
    }
}

/// Keeps a genuine part's block (its proposer signed it, its body hashes to
/// its header) in the proposal store, synced, and only then runs
/// [`check_header`]. The store comes first because consensus may decide a
/// block this node refuses — its clock may lag the others' and put the
/// block's time too far ahead — and the node then commits it from the store
/// ([`super::host::Host::reexecute`]) rather than restart to fetch it.
/// `keep: false` skips the store (a block this node already kept).
pub fn keep_then_check_header(
    app: &App,
    part: &ProposalPart,
    block: &Block,
    id: BlockId,
    keep: bool,
) -> Result<(), PartError> {
    if keep {
        app.storage
            .save_proposal(part.height.0, &Hash32(id.0), &part.block)
            .map_err(|e| PartError::Local {
                id,
                error: Box::new(BlockError::Storage(e)),
            })?;
    }
    check_header(app, part, block, id)
}

/// The checks on a live proposal's header that need no execution: header and
/// part agree on the height, the block was built by this round's proposer (or,
/// re-proposed under a proof-of-lock round, by a validator), and its time is not
/// ahead of this validator's clock. Run before any cached verdict is reused, so
/// every node judges the same part the same way whatever it has in memory.
pub fn check_header(
    app: &App,
    part: &ProposalPart,
    block: &Block,
    id: BlockId,
) -> Result<(), PartError> {
    let refuse = |error: String| PartError::Refused { id, error };
    if block.header.height != part.height.0 {
        return Err(refuse("header height differs from the part's".into()));
    }
    let builder = tamga_runtime::PublicKey(block.header.proposer.0);
    let built_by_a_validator = match part.pol_round {
        Round::Nil => block.header.proposer.0 == part.proposer.0,
        _ => tamga_runtime::validators::set_for_height(&app.storage, part.height.0)
            .map_err(|e| PartError::Local {
                id,
                error: Box::new(BlockError::Corrupt(e)),
            })?
            .iter()
            .any(|v| v.public_key == builder),
    };
    if !built_by_a_validator {
        return Err(refuse(format!(
            "header proposer {builder} did not propose this block in this or a locked round"
        )));
    }
    let now_ms = crate::clock::now_ms();
    if block.header.time_ms > now_ms + BLOCK_TIME_AHEAD_MAX_MS {
        let ahead = block.header.time_ms - now_ms;
        return Err(refuse(format!(
            "block time is {ahead} ms ahead of this validator's clock (limit {BLOCK_TIME_AHEAD_MAX_MS} ms)"
        )));
    }
    Ok(())
}

/// Executes a live proposal's block (decoded by [`check_body`]) for the next
/// height, after the intake's checks and [`check_header`]: every transaction.
/// A failure of this node is `Local`, never `Refused`.
pub fn execute(
    app: &App,
    part: ProposalPart,
    block: Block,
    id: BlockId,
) -> Result<Candidate, PartError> {
    let refuse = |error: String| PartError::Refused { id, error };
    let executed = app
        .execute_block(block)
        .map_err(|error| match error.is_local() {
            true => PartError::Local {
                id,
                error: Box::new(error),
            },
            false => refuse(error.to_string()),
        })?;
    Ok(Candidate {
        executed,
        dropped: vec![],
        round: part.round,
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
            signature: super::signing::Sig(s.signature.0),
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
