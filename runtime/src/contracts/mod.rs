//! Smart contracts (Art. 67): Wasm code deployed with human-readable terms (p.2) and
//! a mandatory arbitration clause naming human arbiters (p.3); instances that bind
//! parties, hold assets, and freeze on dispute until a human rules.

#[cfg(feature = "execution")]
mod abi;
#[cfg(feature = "execution")]
mod arbitration;
#[cfg(feature = "execution")]
mod custody;
mod error;
#[cfg(feature = "execution")]
mod instrument;
#[cfg(feature = "execution")]
pub mod lifecycle;
mod model;
#[cfg(feature = "execution")]
pub mod vm;
#[cfg(feature = "execution")]
pub mod wasm_check;

#[cfg(feature = "execution")]
pub use custody::query;
pub use error::ContractError;
pub use model::{
    account_of, ArbitrationClause, Contract, Decision, Direction, Dispute, Instance, InstanceStatus,
};
#[cfg(feature = "execution")]
pub use vm::{BlockFuel, CallEnv, CallOutcome, PrecompiledStore, Vm};

#[cfg(feature = "execution")]
use crate::execute::{ApplyError, TxContext};
#[cfg(feature = "execution")]
use crate::records::Event;
#[cfg(feature = "execution")]
use crate::state::{keys, Overlay};
#[cfg(feature = "execution")]
use crate::types::Hash32;
use crate::types::Payload;
#[cfg(feature = "execution")]
use custody::run_outcome;

/// Whether `payload` is a contract operation (applied here, not by the records rules).
pub fn handles(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::Deploy { .. }
            | Payload::Instantiate { .. }
            | Payload::Accept { .. }
            | Payload::Deposit { .. }
            | Payload::Call { .. }
            | Payload::Dispute { .. }
            | Payload::Rule { .. }
    )
}

#[cfg(feature = "execution")]
pub fn apply(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    payload: &Payload,
) -> Result<Vec<Event>, ApplyError> {
    match payload {
        Payload::Deploy {
            code,
            terms,
            arbitration,
        } => lifecycle::deploy(state, ctx, vm, &code.0, terms, arbitration),
        Payload::Instantiate {
            contract,
            parties,
            init_args,
        } => lifecycle::instantiate(state, ctx, vm, contract, parties, &init_args.0),
        Payload::Accept {
            instance,
            code_hash,
            terms_hash,
            init_args_hash,
        } => lifecycle::accept(
            state,
            ctx,
            vm,
            instance,
            [*code_hash, *terms_hash, *init_args_hash],
        ),
        Payload::Deposit {
            instance,
            record,
            amount,
        } => custody::deposit(state, ctx, vm, instance, record, *amount),
        Payload::Call { instance, input } => custody::call(state, ctx, vm, instance, &input.0),
        Payload::Dispute { instance, reason } => {
            arbitration::dispute(state, ctx, instance, *reason)
        }
        Payload::Rule {
            instance,
            decision,
            decision_text,
        } => arbitration::rule(state, ctx, instance, decision, *decision_text),
        other => unreachable!("record payloads go to records::apply, not {other:?}"),
    }
}

#[cfg(feature = "execution")]
fn load_contract(state: &Overlay, id: &Hash32) -> Result<Contract, ApplyError> {
    Ok(state
        .get_typed(&keys::contract(id))?
        .ok_or(ContractError::ContractNotFound(*id))?)
}

#[cfg(feature = "execution")]
fn load_instance(state: &Overlay, id: &Hash32) -> Result<Instance, ApplyError> {
    Ok(state
        .get_typed(&keys::instance(id))?
        .ok_or(ContractError::InstanceNotFound(*id))?)
}

#[cfg(test)]
mod meter_tests;
#[cfg(test)]
mod vm_tests;
