//! Tamga's Malachite `Context`: what a height, an address, a value, a vote, a
//! proposal and a validator set are. The value consensus agrees on is a block's
//! hash ([`BlockId`]); the block itself travels as a signed proposal part and is
//! executed by every validator before it votes (see `host.rs`).

use super::signing::{Ed25519, Sig};
use arc_malachitebft_core_types as mc;
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::VerifyingKey;
use mc::{LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType};
use std::fmt;
use std::sync::Arc;
use tamga_runtime::{Hash32, PublicKey};

#[derive(Clone, Debug)]
pub struct TamgaContext {
    /// Every signature covers the chain id, so no vote replays on another chain.
    pub chain_id: Arc<str>,
    /// Test builds: Malachite's amnesia attack (prevote ignoring this node's lock).
    #[cfg(feature = "test-faults")]
    pub amnesia: Option<Arc<super::faults::AmnesiaSwitch>>,
}

impl TamgaContext {
    pub fn new(chain_id: impl Into<Arc<str>>) -> Self {
        TamgaContext {
            chain_id: chain_id.into(),
            #[cfg(feature = "test-faults")]
            amnesia: None,
        }
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);
    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.checked_add(n).expect("height fits in u64"))
    }
    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }
    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A 32-byte identity, shown as hex like the runtime's keys and hashes.
macro_rules! bytes32 {
    ($(#[$doc:meta])* $name:ident shown as $shown:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
        )]
        pub struct $name(pub [u8; 32]);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                $shown(self.0).fmt(f)
            }
        }
    };
}

bytes32!(
    /// A validator's address is its ed25519 public key: one identity, no hashing step.
    Address shown as PublicKey
);
bytes32!(
    /// The hash of a block header: what proposals and votes carry.
    BlockId shown as Hash32
);

impl mc::Address for Address {}

impl mc::Value for BlockId {
    type Id = BlockId;
    fn id(&self) -> BlockId {
        *self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: BlockId,
    pub pol_round: Round,
    pub proposer: Address,
}

impl mc::Proposal<TamgaContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockId {
        &self.value
    }
    fn take_value(self) -> BlockId {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A prevote or precommit. Tamga uses no vote extensions; the field exists because
/// the engine's trait asks for one, and it is neither signed nor encoded.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    pub kind: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<BlockId>,
    pub validator: Address,
    #[borsh(skip)]
    pub extension: Option<SignedExtension<TamgaContext>>,
}

impl PartialEq for Vote {
    fn eq(&self, other: &Self) -> bool {
        (
            self.kind,
            self.height,
            self.round,
            self.value,
            self.validator,
        ) == (
            other.kind,
            other.height,
            other.round,
            other.value,
            other.validator,
        )
    }
}
impl Eq for Vote {}

impl mc::Vote<TamgaContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<BlockId> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<BlockId> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.kind
    }
    fn validator_address(&self) -> &Address {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<TamgaContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<TamgaContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<TamgaContext>) -> Self {
        Vote {
            extension: Some(extension),
            ..self
        }
    }
}

/// A whole proposed block in one part, signed by its proposer so a relay cannot
/// forge one (bounded by the gossip message size limit).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalPart {
    pub height: Height,
    pub round: Round,
    /// The proof-of-lock round of a re-proposal (`Nil` for a new block); signed.
    pub pol_round: Round,
    pub proposer: Address,
    /// The block in Tamga's canonical encoding.
    pub block: Vec<u8>,
    /// The proposer's signature over the proposal sign bytes of this block.
    pub signature: Sig,
}

impl mc::ProposalPart<TamgaContext> for ProposalPart {
    fn is_first(&self) -> bool {
        true
    }
    fn is_last(&self) -> bool {
        true
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub address: Address,
    pub public_key: VerifyingKey,
    pub power: u64,
}

impl mc::Validator<TamgaContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }
    fn public_key(&self) -> &VerifyingKey {
        &self.public_key
    }
    fn voting_power(&self) -> u64 {
        self.power
    }
}

/// Validators ordered as CometBFT orders them: power descending, then address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// Builds the set from the ledger's; keys that are not valid curve points are
    /// refused (the ledger checks them when a set is accepted, so this is corruption).
    pub fn from_ledger(
        validators: &[tamga_runtime::validators::Validator],
    ) -> Result<Self, ed25519_dalek::SignatureError> {
        let mut out = Vec::with_capacity(validators.len());
        for v in validators {
            out.push(Validator {
                address: Address(v.public_key.0),
                public_key: VerifyingKey::from_bytes(&v.public_key.0)?,
                power: v.power,
            });
        }
        out.sort_by(|a, b| b.power.cmp(&a.power).then(a.address.cmp(&b.address)));
        assert!(!out.is_empty(), "a validator set is never empty");
        Ok(ValidatorSet { validators: out })
    }

    pub fn contains(&self, address: &Address) -> bool {
        self.validators.iter().any(|v| &v.address == address)
    }

    /// The proposer of `round` at `height`: the validator at place `round mod n`
    /// of the height's proposer order. The order is drawn by voting power without
    /// replacement: place k takes the draw `proposer_draw(height, k)` over the
    /// power of the validators not placed before it. So place 0 (round 0) goes to
    /// each validator in proportion to its power, and every validator proposes
    /// once in any n consecutive rounds of a height: with f validators down, at
    /// most f rounds in a row wait out a missing proposal. (Independent draws per
    /// round let one validator be drawn round after round: at height 7 of every
    /// chain of four equal validators, rounds 0 to 3 all drew the second one.)
    pub fn proposer(&self, height: u64, round: u32) -> &Validator {
        let place = round as usize % self.validators.len();
        let mut left: Vec<&Validator> = self.validators.iter().collect();
        for earlier in 0..place {
            let taken = weighted_pick(&left, proposer_draw(height, earlier as u32));
            left.remove(taken);
        }
        left[weighted_pick(&left, proposer_draw(height, place as u32))]
    }
}

/// The index in `among` whose cumulative power range holds `draw % total power`.
fn weighted_pick(among: &[&Validator], draw: u128) -> usize {
    let total: u128 = among.iter().map(|v| u128::from(v.power)).sum();
    assert!(
        total > 0,
        "validators have power (the ledger refuses power 0)"
    );
    let mut point = draw % total;
    for (index, validator) in among.iter().enumerate() {
        let power = u128::from(validator.power);
        if point < power {
            return index;
        }
        point -= power;
    }
    unreachable!("the point lies below the total power")
}

/// The deterministic draw for place `place` of a height's proposer order: 128
/// bits of a domain-separated hash, so the modulo bias over any total power is
/// negligible.
pub fn proposer_draw(height: u64, place: u32) -> u128 {
    let hash = tamga_runtime::types::hashing::hash(
        "tamga 2026 proposer draw v1",
        &[&height.to_le_bytes(), &place.to_le_bytes()],
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.0[..16]);
    u128::from_le_bytes(bytes)
}

impl mc::ValidatorSet<TamgaContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> u64 {
        self.validators.iter().map(|v| v.power).sum()
    }
    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

impl mc::Context for TamgaContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519;

    /// Weighted by voting power, in a rotation per height (see
    /// [`ValidatorSet::proposer`]): every node computes the same proposer with no
    /// shared state, and a set whose faulty validators number f gets an honest
    /// proposer within f + 1 rounds.
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        // A peer's message can name round Nil (-1): Malachite asks for the
        // proposer of a synced certificate's round before it checks the
        // certificate. Any answer will do, as the check then refuses it (no
        // validator signs a vote for round Nil); a panic would let one message
        // stop the node.
        let round = round.as_u32().unwrap_or(0);
        validator_set.proposer(height.0, round)
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockId,
        pol_round: Round,
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

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value: NilOrVal<BlockId>,
        validator: Address,
    ) -> Vote {
        #[cfg(feature = "test-faults")]
        let value = match &self.amnesia {
            Some(switch) => switch.prevote(height, round, value, &validator),
            None => value,
        };
        vote(VoteType::Prevote, height, round, value, validator)
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value: NilOrVal<BlockId>,
        validator: Address,
    ) -> Vote {
        vote(VoteType::Precommit, height, round, value, validator)
    }
}

fn vote(
    kind: VoteType,
    height: Height,
    round: Round,
    value: NilOrVal<BlockId>,
    validator: Address,
) -> Vote {
    Vote {
        kind,
        height,
        round,
        value,
        validator,
        extension: None,
    }
}

/// Timeouts for a height: a proposal gets `propose_ms`, votes a third of it, and
/// each round adds a sixth of it to each (CometBFT's defaults: 3 s, 1 s, 0.5 s),
/// up to a minute. The growth lets rounds outlast a slow network; every round
/// that waits on a missing proposer pays it twice (propose and precommit), so a
/// larger step (half, before 2026-12-07) made a chain that had stalled for a few
/// rounds take tens of seconds a round to recover.
///
/// A validator stuck in a round sends its last votes again every `rebroadcast`
/// (plus the three steps each round): a vote goes once to each peer, so a node
/// that was restarting when it went learns it only then. One vote timeout, not
/// Malachite's sum of the three (5 s): a restarted validator that had missed a
/// round's prevotes kept the other two waiting on it for 11 s.
pub fn timeouts(propose_ms: u64) -> LinearTimeouts {
    use std::time::Duration;
    let propose = Duration::from_millis(propose_ms);
    let vote = Duration::from_millis((propose_ms / 3).max(100));
    let delta = Duration::from_millis((propose_ms / 6).max(100));
    LinearTimeouts {
        propose,
        propose_delta: delta,
        prevote: vote,
        prevote_delta: delta,
        precommit: vote,
        precommit_delta: delta,
        rebroadcast: vote,
        max_timeout: Duration::from_secs(60),
    }
}
