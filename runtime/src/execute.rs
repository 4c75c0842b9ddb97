//! Transaction execution: stateless checks ([`verify_tx`]: size, chain id,
//! signatures) and stateful application ([`apply_tx`]: nonce, then the payload's
//! rules). A transaction applies atomically: on any error none of its writes land.
//!
//! Every transaction on the ledger affects rights, so before its rules run, its
//! signer and every co-signer must hold a certificate valid at its height (Art. 40
//! p.3: actions that give rise to rights require identification; Art. 49 p.2: a
//! signature has a handwritten one's force only through a certificate from an
//! accredited authority). The rules then see subjects, not keys.

use crate::condo::{self, CondoError};
use crate::contracts::vm::BlockFuel;
use crate::contracts::{self, ContractError, Vm};
use crate::documents::{self, DocumentError};
use crate::limits::{CHAIN_ID_BYTES_MAX, COSIGNATURES_MAX, TX_BYTES_MAX, TX_DECODE_CLAIM_MAX};
use crate::pki::{self, Approval, PkiError, Role};
use crate::records::provenance::{self, signers_of, ProvenanceAt};
use crate::records::{self, Event, RecordError, Signer};
use crate::state::{keys, CorruptState, Overlay, StateRead};
use crate::types::ed25519::{self, SignatureCase};
use crate::types::{
    encoding, Hash32, Payload, PublicKey, Signature, SignatureCheck, SignedTx, SubjectId,
};
use crate::validators::{self, ValidatorError};

/// The block a transaction executes in, and the sandbox contracts run in.
#[derive(Clone, Debug)]
pub struct BlockContext {
    pub chain_id: String,
    pub height: u64,
    pub time_ms: u64,
    pub vm: std::sync::Arc<Vm>,
}

/// Who is acting in a transaction, as the rules see it.
pub struct TxContext<'a> {
    pub tx_id: Hash32,
    /// The subject whose certified key signed the transaction.
    pub signer: SubjectId,
    /// The signer first, then every co-signer: the certified subjects who
    /// consented, with their certificates' roles.
    pub approvals: Vec<Approval>,
    pub height: u64,
    pub time_ms: u64,
    /// The block's contract fuel budget, which this transaction draws on.
    pub fuel: &'a BlockFuel,
}

impl TxContext<'_> {
    /// Whether `who` signed or co-signed (Art. 44 p.3: confirmation of will).
    pub fn approved_by(&self, who: &SubjectId) -> bool {
        self.approvals.iter().any(|a| a.subject == *who)
    }

    /// The signer's own approval (always the first).
    pub fn signer_approval(&self) -> &Approval {
        &self.approvals[0]
    }

    /// Whether the signer's certificate carries `role`.
    pub fn signer_has(&self, role: Role) -> bool {
        self.signer_approval().has_role(role)
    }
}

/// A transaction whose encoding and signatures have been checked.
#[derive(Clone, Debug)]
pub struct VerifiedTx {
    pub id: Hash32,
    pub tx: SignedTx,
    pub approvals: Vec<PublicKey>,
}

/// Why a transaction was refused. Record-rule refusals carry the rule; the others
/// are about the envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction is {len} bytes; the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("malformed transaction: {0}")]
    Malformed(String),
    #[error("transaction is for chain {got:?}, this is chain {expected:?} (replay protection)")]
    WrongChain { expected: String, got: String },
    #[error("signature does not verify for signer {0}: it confirms neither authenticity nor integrity (Art. 49 p.1)")]
    BadSignature(PublicKey),
    #[error("co-signature of {0} does not verify: it confirms neither authenticity nor integrity (Art. 49 p.1)")]
    BadCosignature(PublicKey),
    #[error("too many co-signatures: {got}, the limit is {max}")]
    TooManyCosignatures { got: usize, max: usize },
    #[error("nonce {got} was already used by {signer}; next is {expected} (replay protection)")]
    NonceReplayed {
        signer: PublicKey,
        expected: u64,
        got: u64,
    },
    #[error("nonce {got} is ahead of {signer}'s next nonce {expected}")]
    NonceGap {
        signer: PublicKey,
        expected: u64,
        got: u64,
    },
    #[error(transparent)]
    Rule(#[from] RecordError),
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    Validators(#[from] ValidatorError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Condo(#[from] CondoError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Corrupt(#[from] CorruptState),
}

impl TxError {
    /// A failure of this node (corrupt store, no resources), not of the
    /// transaction: never a reason to refuse it, or a block that carries it.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            TxError::Corrupt(_) | TxError::Contract(ContractError::NodeLocal(_))
        )
    }

    /// The block's fuel budget ran out: the transaction is fine, the block is full.
    pub fn is_block_full(&self) -> bool {
        matches!(
            self,
            TxError::Contract(ContractError::BlockFuelExhausted { .. })
        )
    }

    /// Stable machine-readable reason, for RPC `data.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            TxError::TooLarge { .. } => "tx.too_large",
            TxError::Malformed(_) => "tx.malformed",
            TxError::WrongChain { .. } => "tx.wrong_chain",
            TxError::BadSignature(_) => "tx.bad_signature",
            TxError::BadCosignature(_) => "tx.bad_cosignature",
            TxError::TooManyCosignatures { .. } => "tx.too_many_cosignatures",
            TxError::NonceReplayed { .. } => "tx.nonce_replayed",
            TxError::NonceGap { .. } => "tx.nonce_gap",
            TxError::Rule(rule) => rule.reason(),
            TxError::Contract(e) => e.reason(),
            TxError::Validators(e) => e.reason(),
            TxError::Pki(e) => e.reason(),
            TxError::Condo(e) => e.reason(),
            TxError::Document(e) => e.reason(),
            TxError::Corrupt(_) => "node.state_corrupt",
        }
    }
}

/// Errors inside payload rules: a refusal, or a corrupt store.
#[derive(Debug)]
pub enum ApplyError {
    Rule(RecordError),
    Contract(ContractError),
    Validators(ValidatorError),
    Pki(PkiError),
    Condo(CondoError),
    Document(DocumentError),
    Corrupt(CorruptState),
}

impl From<RecordError> for ApplyError {
    fn from(e: RecordError) -> Self {
        ApplyError::Rule(e)
    }
}
impl From<ContractError> for ApplyError {
    fn from(e: ContractError) -> Self {
        ApplyError::Contract(e)
    }
}
impl From<ValidatorError> for ApplyError {
    fn from(e: ValidatorError) -> Self {
        ApplyError::Validators(e)
    }
}
impl From<PkiError> for ApplyError {
    fn from(e: PkiError) -> Self {
        ApplyError::Pki(e)
    }
}
impl From<CondoError> for ApplyError {
    fn from(e: CondoError) -> Self {
        ApplyError::Condo(e)
    }
}
impl From<DocumentError> for ApplyError {
    fn from(e: DocumentError) -> Self {
        ApplyError::Document(e)
    }
}
impl From<CorruptState> for ApplyError {
    fn from(e: CorruptState) -> Self {
        ApplyError::Corrupt(e)
    }
}
impl From<ApplyError> for TxError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Rule(rule) => TxError::Rule(rule),
            ApplyError::Contract(e) => TxError::Contract(e),
            ApplyError::Validators(e) => TxError::Validators(e),
            ApplyError::Pki(e) => TxError::Pki(e),
            ApplyError::Condo(e) => TxError::Condo(e),
            ApplyError::Document(e) => TxError::Document(e),
            ApplyError::Corrupt(corrupt) => TxError::Corrupt(corrupt),
        }
    }
}

/// Decodes bytes received from outside into a transaction, within the size limit.
pub fn decode_tx(bytes: &[u8]) -> Result<SignedTx, TxError> {
    if bytes.len() > TX_BYTES_MAX {
        return Err(TxError::TooLarge {
            len: bytes.len(),
            max: TX_BYTES_MAX,
        });
    }
    encoding::decode_within::<TX_DECODE_CLAIM_MAX, _>(bytes)
        .map_err(|e| TxError::Malformed(e.to_string()))
}

pub use crate::types::verify_signature;

/// A transaction with its id, hashed once. The checks take it so that a caller
/// which needed the id first (to look up an earlier check of the same
/// transaction) does not hash it again; the fields are private so the id is
/// always the transaction's own, and signatures are always checked over it.
#[derive(Clone, Debug)]
pub struct HashedTx {
    id: Hash32,
    tx: SignedTx,
}

impl HashedTx {
    pub fn new(tx: SignedTx) -> Self {
        HashedTx { id: tx.id(), tx }
    }

    pub fn id(&self) -> Hash32 {
        self.id
    }

    pub fn tx(&self) -> &SignedTx {
        &self.tx
    }

    /// The transaction as an earlier check of these very signatures verified it,
    /// approved by `approvals` (the caller has compared the signatures).
    pub fn verified_as(self, approvals: Vec<PublicKey>) -> VerifiedTx {
        VerifiedTx {
            id: self.id,
            tx: self.tx,
            approvals,
        }
    }
}

/// Stateless checks: chain id, limits and every signature.
pub fn verify_tx(tx: SignedTx, chain_id: &str) -> Result<VerifiedTx, TxError> {
    verify_tx_with(HashedTx::new(tx), chain_id, verify_signature)
}

/// [`verify_tx`] of a transaction already hashed, with a signature check of the
/// same set (the node's own, [`verify_signature`]; the benchmark's one-core limit
/// uses ed25519-dalek's, [`crate::types::verify_signature_reference`]).
pub fn verify_tx_with(
    hashed: HashedTx,
    chain_id: &str,
    verify_signature: SignatureCheck,
) -> Result<VerifiedTx, TxError> {
    let approvals = check_signatures(&hashed, chain_id, verify_signature)?;
    Ok(hashed.verified_as(approvals))
}

/// The checks of [`verify_tx_with`] on a borrowed transaction: who approves it
/// (its signer, then each distinct cosigner in order), or why it is refused.
pub fn check_signatures(
    hashed: &HashedTx,
    chain_id: &str,
    verify_signature: SignatureCheck,
) -> Result<Vec<PublicKey>, TxError> {
    check_shape(&hashed.tx, chain_id)?;
    approvals(&hashed.tx, |key, signature| {
        verify_signature(key, &hashed.id, signature)
    })
}

/// [`check_signatures`] with the node's own check, for many transactions:
/// their signatures go through one batch
/// ([`crate::types::ed25519::verify_strict_batch`], whose verdicts are each
/// signature's own), so each result is the one [`check_signatures`] gives.
/// Every signature of a transaction of the right shape is checked, also after
/// one of its others failed: at most [`COSIGNATURES_MAX`] + 1 per transaction.
/// That is no new cost to a stranger: a refused transaction is not remembered,
/// so one whose last signature is the only bad one (the others copied from a
/// valid transaction) already cost that many checks, again at every sending.
pub fn check_signatures_batch(
    hashed: &[&HashedTx],
    chain_id: &str,
) -> Vec<Result<Vec<PublicKey>, TxError>> {
    let shapes: Vec<Result<(), TxError>> = (hashed.iter())
        .map(|h| check_shape(&h.tx, chain_id))
        .collect();
    let cases: Vec<SignatureCase<'_>> = (hashed.iter().zip(&shapes))
        .filter(|(_, shape)| shape.is_ok())
        .flat_map(|(h, _)| signature_cases(h))
        .collect();
    let mut verdicts = ed25519::verify_strict_batch(&cases).into_iter();
    let checked = (hashed.iter().zip(shapes))
        .map(|(h, shape)| {
            shape?;
            let count = 1 + h.tx.cosignatures.len();
            let mut own = verdicts
                .by_ref()
                .take(count)
                .collect::<Vec<_>>()
                .into_iter();
            approvals(&h.tx, |_, _| own.next().expect("a verdict per signature"))
        })
        .collect();
    assert!(verdicts.next().is_none(), "every verdict read");
    checked
}

/// The signature cases of a transaction, in the order they approve it: its
/// signer's, then each cosignature's, all over its id.
fn signature_cases(hashed: &HashedTx) -> impl Iterator<Item = SignatureCase<'_>> {
    let (id, tx) = (&hashed.id.0[..], &hashed.tx);
    std::iter::once((&tx.tx.signer.0, id, &tx.signature.0))
        .chain((tx.cosignatures.iter()).map(move |cosig| (&cosig.signer.0, id, &cosig.signature.0)))
}

/// What is checked before any signature: the chain, and the cosignatures' count.
fn check_shape(tx: &SignedTx, chain_id: &str) -> Result<(), TxError> {
    if tx.tx.chain_id != chain_id || tx.tx.chain_id.len() > CHAIN_ID_BYTES_MAX {
        return Err(TxError::WrongChain {
            expected: chain_id.to_owned(),
            got: tx.tx.chain_id.clone(),
        });
    }
    if tx.cosignatures.len() > COSIGNATURES_MAX {
        let got = tx.cosignatures.len();
        return Err(TxError::TooManyCosignatures {
            got,
            max: COSIGNATURES_MAX,
        });
    }
    Ok(())
}

/// Who approves `tx`, each signature judged by `holds` in order (the signer's
/// first); the first that does not hold refuses it.
fn approvals(
    tx: &SignedTx,
    mut holds: impl FnMut(&PublicKey, &Signature) -> bool,
) -> Result<Vec<PublicKey>, TxError> {
    if !holds(&tx.tx.signer, &tx.signature) {
        return Err(TxError::BadSignature(tx.tx.signer));
    }
    let mut approvals = vec![tx.tx.signer];
    for cosig in &tx.cosignatures {
        if !holds(&cosig.signer, &cosig.signature) {
            return Err(TxError::BadCosignature(cosig.signer));
        }
        if !approvals.contains(&cosig.signer) {
            approvals.push(cosig.signer);
        }
    }
    Ok(approvals)
}

/// The next nonce `who` must use.
pub fn next_nonce(state: &dyn StateRead, who: &PublicKey) -> Result<u64, CorruptState> {
    Ok(crate::state::get_typed::<u64>(state, &keys::account(who))?.unwrap_or(0))
}

/// Applies a verified transaction alone, with a whole block's fuel budget (a
/// mempool dry run, a tool). On error, `state` is unchanged.
pub fn apply_tx(
    state: &mut Overlay,
    block: &BlockContext,
    vtx: &VerifiedTx,
) -> Result<Vec<Event>, TxError> {
    apply_tx_metered(state, block, vtx, &BlockFuel::block())
}

/// Applies a verified transaction as part of a block: nonce first, then its rules,
/// its contract work drawn from the block's `fuel`. On error, `state` is unchanged.
pub fn apply_tx_metered(
    state: &mut Overlay,
    block: &BlockContext,
    vtx: &VerifiedTx,
    fuel: &BlockFuel,
) -> Result<Vec<Event>, TxError> {
    apply_tx_recorded(state, block, vtx, fuel).map(|applied| applied.events)
}

/// Like [`apply_tx_metered`], also returning who signed under which certificate:
/// what the node indexes into each record's provenance history.
pub fn apply_tx_recorded(
    state: &mut Overlay,
    block: &BlockContext,
    vtx: &VerifiedTx,
    fuel: &BlockFuel,
) -> Result<Applied, TxError> {
    let signer = vtx.tx.tx.signer;
    let expected = next_nonce(state, &signer)?;
    let got = vtx.tx.tx.nonce;
    if got < expected {
        return Err(TxError::NonceReplayed {
            signer,
            expected,
            got,
        });
    }
    if got > expected {
        return Err(TxError::NonceGap {
            signer,
            expected,
            got,
        });
    }
    let approvals = pki::certify(&*state, block.height, block.time_ms, &vtx.approvals)
        .map_err(TxError::from)?;
    let ctx = TxContext {
        tx_id: vtx.id,
        signer: approvals[0].subject,
        approvals,
        height: block.height,
        time_ms: block.time_ms,
        fuel,
    };
    let mut scratch = Overlay::new(&*state);
    let payload = &vtx.tx.tx.payload;
    let events = if let Payload::SetValidators { validators } = payload {
        validators::apply_change(&mut scratch, &ctx, validators)?
    } else if pki::handles(payload) {
        pki::apply(&mut scratch, &ctx, payload)?
    } else if let Payload::AnchorDocument { document } = payload {
        documents::anchor(&mut scratch, &ctx, document)?
    } else if condo::handles(payload) {
        condo::apply(&mut scratch, &ctx, payload)?
    } else if contracts::handles(payload) {
        contracts::apply(&mut scratch, &ctx, &block.vm, payload)?
    } else {
        records::apply(&mut scratch, &ctx, payload)?
    };
    let signers = signers_of(&ctx.approvals);
    let at = ProvenanceAt {
        height: block.height,
        time_ms: block.time_ms,
        tx: vtx.id,
        signers: signers.clone(),
    };
    provenance::record(&mut scratch, at, &events)?;
    scratch.put(keys::account(&signer), &(expected + 1));
    let writes = scratch.into_writes();
    state.absorb(writes);
    Ok(Applied { events, signers })
}

/// What an applied transaction did, and who signed it under which certificate.
#[derive(Debug)]
pub struct Applied {
    pub events: Vec<Event>,
    pub signers: Vec<Signer>,
}

/// Opens a block: a validator set scheduled for this height comes into force before
/// any of the block's transactions run.
pub fn begin_block(state: &mut Overlay, block: &BlockContext) -> Result<(), CorruptState> {
    validators::promote(state, block.height)
}

/// Records the block's height and time in state, so every block changes the root and
/// the root commits to where the chain is.
pub fn record_tip(state: &mut Overlay, block: &BlockContext) {
    state.put(keys::tip(), &(block.height, block.time_ms));
}
