//! The validator set as ledger state. The Digital Code makes a distributed ledger
//! one whose participants coordinate, verify and record among themselves with a
//! consensus algorithm and no coordinator (Art. 26 p.3(2)); so the set of those
//! participants is itself agreed on: it lives in state (under the state root), and
//! it changes only by a transaction signed by validators holding more than 2/3 of
//! the current voting power, taking effect [`VALIDATOR_SET_DELAY`] heights later
//! so every node knows the set for a height before that height starts.

#[cfg(feature = "execution")]
use crate::execute::{ApplyError, TxContext};
use crate::limits::{VALIDATORS_MAX, VALIDATOR_POWER_MAX};
#[cfg(feature = "execution")]
use crate::records::Event;
#[cfg(feature = "execution")]
use crate::state::Overlay;
use crate::state::{get_typed, keys, CorruptState, StateRead};
use crate::types::PublicKey;
use serde::{Deserialize, Serialize};

/// Heights between the block that changes the set and the first height it governs.
pub const VALIDATOR_SET_DELAY: u64 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Validator {
    pub public_key: PublicKey,
    pub power: u64,
}

/// The set in force and, at most one at a time, the set scheduled to replace it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ValidatorSchedule {
    pub current: Vec<Validator>,
    pub next: Option<ScheduledSet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ScheduledSet {
    pub effective_height: u64,
    pub validators: Vec<Validator>,
}

/// Why a validator set (in genesis or in a transaction) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorError {
    #[error("a validator set needs 1..={VALIDATORS_MAX} validators, got {0}")]
    Count(usize),
    #[error("validator {0} has power 0 or above {VALIDATOR_POWER_MAX}")]
    Power(PublicKey),
    #[error("validator {0} appears twice")]
    Duplicate(PublicKey),
    #[error(
        "validator key {0} is not a usable ed25519 public key (not a curve point, or of small order): no vote it signs could ever be checked"
    )]
    InvalidKey(PublicKey),
    #[error(
        "the change is signed by {signed} of {total} voting power; more than 2/3 of the current set must sign (Art. 26 p.3(2): participants decide, no coordinator)"
    )]
    InsufficientPower { signed: u64, total: u64 },
    #[error("a validator set change is already scheduled for height {0}; one change at a time")]
    AlreadyScheduled(u64),
}

impl ValidatorError {
    pub fn reason(&self) -> &'static str {
        match self {
            ValidatorError::Count(_) => "validators.count",
            ValidatorError::Power(_) => "validators.power",
            ValidatorError::Duplicate(_) => "validators.duplicate",
            ValidatorError::InvalidKey(_) => "validators.invalid_key",
            ValidatorError::InsufficientPower { .. } => "validators.insufficient_power",
            ValidatorError::AlreadyScheduled(_) => "validators.already_scheduled",
        }
    }
}

/// Checks a set's shape: size, powers within bounds (so sums never overflow), no
/// repeats, and keys every node can verify votes with. A set naming a key that is
/// not a curve point (or is of small order) would stop every node at the height it
/// takes effect, so it is refused before it can be scheduled.
pub fn check_set(validators: &[Validator]) -> Result<(), ValidatorError> {
    if validators.is_empty() || validators.len() > VALIDATORS_MAX {
        return Err(ValidatorError::Count(validators.len()));
    }
    for (i, v) in validators.iter().enumerate() {
        if v.power == 0 || v.power > VALIDATOR_POWER_MAX {
            return Err(ValidatorError::Power(v.public_key));
        }
        if !usable_key(&v.public_key) {
            return Err(ValidatorError::InvalidKey(v.public_key));
        }
        if validators[..i].iter().any(|w| w.public_key == v.public_key) {
            return Err(ValidatorError::Duplicate(v.public_key));
        }
    }
    Ok(())
}

/// A key that decompresses to a curve point outside the small-order subgroup.
pub fn usable_key(key: &PublicKey) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(&key.0).is_ok_and(|k| !k.is_weak())
}

pub fn total_power(validators: &[Validator]) -> u64 {
    validators.iter().map(|v| v.power).sum()
}

fn schedule(state: &dyn StateRead) -> Result<ValidatorSchedule, CorruptState> {
    get_typed::<ValidatorSchedule>(state, &keys::validators())?.ok_or_else(|| CorruptState {
        key: "cfg/validators".into(),
        reason: "the validator set is missing from state".into(),
    })
}

/// The set that governs `height`, read from the state committed at `height - 1`.
pub fn set_for_height(state: &dyn StateRead, height: u64) -> Result<Vec<Validator>, CorruptState> {
    let schedule = schedule(state)?;
    Ok(match schedule.next {
        Some(next) if next.effective_height <= height => next.validators,
        _ => schedule.current,
    })
}

/// At the start of each block: a scheduled set whose height has come becomes current.
#[cfg(feature = "execution")]
pub fn promote(state: &mut Overlay, height: u64) -> Result<(), CorruptState> {
    let mut schedule = schedule(state)?;
    let due = matches!(&schedule.next, Some(next) if next.effective_height <= height);
    if due {
        let next = schedule.next.take().expect("checked just above");
        schedule.current = next.validators;
        state.put(keys::validators(), &schedule);
    }
    Ok(())
}

/// A validator set change: the signer and co-signers must be current validators
/// holding more than 2/3 of the current power.
#[cfg(feature = "execution")]
pub fn apply_change(
    state: &mut Overlay,
    ctx: &TxContext,
    validators: &[Validator],
) -> Result<Vec<Event>, ApplyError> {
    check_set(validators)?;
    let mut schedule = schedule(state)?;
    if let Some(next) = &schedule.next {
        return Err(ValidatorError::AlreadyScheduled(next.effective_height).into());
    }
    let total = total_power(&schedule.current);
    let signed: u64 = schedule
        .current
        .iter()
        .filter(|v| ctx.approvals.iter().any(|a| a.key == Some(v.public_key)))
        .map(|v| v.power)
        .sum();
    // Strictly more than 2/3, in integers: 3 * signed > 2 * total.
    if 3 * u128::from(signed) <= 2 * u128::from(total) {
        return Err(ValidatorError::InsufficientPower { signed, total }.into());
    }
    let effective_height = ctx.height + VALIDATOR_SET_DELAY;
    schedule.next = Some(ScheduledSet {
        effective_height,
        validators: validators.to_vec(),
    });
    state.put(keys::validators(), &schedule);
    Ok(vec![Event::ValidatorSetScheduled {
        effective_height,
        validators: validators.iter().map(|v| (v.public_key, v.power)).collect(),
    }])
}
