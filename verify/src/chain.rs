//! The validator set from genesis to the certified height. The verifier trusts
//! only the genesis file; each change of the set is a block signed by the set in
//! force at its height, whose proven state schedules the next set. A change the
//! certificate leaves out is caught twice: the next block's signers would not be the
//! set the chain leads to, and each block's proven state names the set actually in
//! force, which must equal the one the chain leads to.

use crate::commit::check_commit;
use crate::error::{Place, VerifyError};
use crate::format::SetChange;
use crate::values::{check_proof, decode, describe};
use tamga_runtime::state::keys;
use tamga_runtime::validators::{ScheduledSet, Validator, ValidatorSchedule};

/// The set in force and a scheduled change, as the verifier walks the chain.
pub struct SetWalk {
    current: Vec<Validator>,
    pending: Option<ScheduledSet>,
    last_height: u64,
}

impl SetWalk {
    pub fn from_genesis(validators: Vec<Validator>) -> Self {
        SetWalk {
            current: validators,
            pending: None,
            last_height: 0,
        }
    }

    /// The set that governs `height`: a scheduled set comes into force at its height.
    pub fn advance_to(&mut self, height: u64) -> &[Validator] {
        if matches!(&self.pending, Some(next) if next.effective_height <= height) {
            let next = self.pending.take().expect("checked just above");
            self.current = next.validators;
        }
        &self.current
    }

    /// Follows one change: its block is signed by the set then in force, and its
    /// proven state shows that set in force and the next one scheduled.
    pub fn follow(
        &mut self,
        chain_id: &str,
        index: usize,
        change: &SetChange,
    ) -> Result<(), VerifyError> {
        let height = change.header.height;
        let order = |reason: String| VerifyError::ChainOrder {
            index,
            height,
            reason,
        };
        if height <= self.last_height {
            return Err(order(format!(
                "it does not follow height {}",
                self.last_height
            )));
        }
        if let Some(pending) = &self.pending {
            if height < pending.effective_height {
                return Err(order(format!(
                    "the previous change takes effect only at height {}",
                    pending.effective_height
                )));
            }
        }
        let place = Place::SetChange { index, height };
        let set = self.advance_to(height).to_vec();
        check_commit(chain_id, &change.header, &change.commit, &set, place)?;
        if change.schedule.key != keys::validators() {
            return Err(VerifyError::Inconsistent(format!(
                "validator-set change {index} proves {} instead of the validator schedule",
                describe(&change.schedule.key)
            )));
        }
        check_proof(&change.schedule, &change.header.state_root, place)?;
        let Some(bytes) = &change.schedule.value else {
            return Err(VerifyError::Missing {
                what: format!("the validator schedule of {place}"),
            });
        };
        let schedule: ValidatorSchedule = decode(&change.schedule.key, bytes)?;
        if schedule.current != set {
            return Err(VerifyError::SetMismatch { place });
        }
        let Some(next) = schedule.next else {
            return Err(order("its state schedules no change".into()));
        };
        if next.effective_height <= height {
            return Err(order(
                "its scheduled set takes effect at or before it".into(),
            ));
        }
        self.pending = Some(next);
        self.last_height = height;
        Ok(())
    }

    /// At the certified block: the set in force must be the one its state names,
    /// and any change its state still schedules must be the one the chain carries.
    pub fn check_final(
        &self,
        schedule: &ValidatorSchedule,
        place: Place,
    ) -> Result<(), VerifyError> {
        if schedule.current != self.current {
            return Err(VerifyError::SetMismatch { place });
        }
        match (&schedule.next, &self.pending) {
            (None, None) => Ok(()),
            (Some(proven), Some(carried)) if proven == carried => Ok(()),
            (Some(proven), _) => Err(VerifyError::ChainIncomplete {
                effective_height: proven.effective_height,
            }),
            (None, Some(carried)) => Err(VerifyError::Inconsistent(format!(
                "the chain schedules a set for height {} that the certified state does not",
                carried.effective_height
            ))),
        }
    }
}
