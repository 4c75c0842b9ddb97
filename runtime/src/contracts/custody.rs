//! Deposits into an instance's custody, calls, read-only queries, and applying a
//! successful call's journaled effects. Assets an instance holds are owned by its
//! derived account: only the contract (through `transfer`) or a ruling moves them.

use super::error::ContractError;
use super::model::{Contract, Direction, Instance, InstanceStatus};
use super::vm::{CallEnv, Vm};
use super::{load_contract, load_instance};
use crate::execute::{ApplyError, TxContext};
use crate::records::{self, Asset, Event};
use crate::state::{get_typed, keys, Overlay, StateRead};
use crate::types::{hashing, Bytes, Hash32, SubjectId};
use std::collections::BTreeMap;

type Outcome = Result<Vec<Event>, ApplyError>;

/// Records one instance may hold at once.
pub const HOLDINGS_MAX: usize = 64;

pub(super) fn require_active(instance: &Instance) -> Result<(), ContractError> {
    match instance.status {
        InstanceStatus::Active => Ok(()),
        InstanceStatus::Frozen(_) => Err(ContractError::Frozen(instance.id)),
        InstanceStatus::Pending | InstanceStatus::Terminated => {
            Err(ContractError::NotActive(instance.id))
        }
    }
}

fn require_party(instance: &Instance, who: &SubjectId) -> Result<(), ContractError> {
    if !instance.is_party(who) {
        return Err(ContractError::NotParty(*who));
    }
    Ok(())
}

/// Input of `on_deposit`: depositor (32) ‖ record (32) ‖ class (32, zero for a
/// unique object) ‖ amount (u64 little-endian, 1 for a unique object).
fn deposit_input(by: &SubjectId, record: &records::Record) -> Vec<u8> {
    let (class, amount) = match record.asset {
        Asset::Fungible { class, amount } => (class, amount),
        // A share never reaches custody: the record rules refuse to move it.
        Asset::Unique | Asset::Share { .. } => (Hash32::default(), 1),
    };
    [
        by.0.as_slice(),
        &record.id.0,
        &class.0,
        &amount.to_le_bytes(),
    ]
    .concat()
}

pub fn deposit(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    id: &Hash32,
    record: &Hash32,
    amount: Option<u64>,
) -> Outcome {
    let mut instance = load_instance(state, id)?;
    require_active(&instance)?;
    require_party(&instance, &ctx.signer)?;
    if instance.holdings.len() >= HOLDINGS_MAX {
        return Err(ContractError::TooManyHoldings(*id).into());
    }
    let mut events = records::deposit_into(state, ctx, record, instance.account(), amount)?;
    let held = events
        .iter()
        .find_map(|e| match e {
            Event::SplitOff { record, .. } => Some(*record),
            _ => None,
        })
        .unwrap_or(*record);
    instance.holdings.push(held);
    events.push(Event::Deposited {
        instance: *id,
        record: held,
        by: ctx.signer,
    });
    let held_record = records::load_active(state, &held)?;
    let contract = load_contract(state, &instance.contract)?;
    let input = deposit_input(&ctx.signer, &held_record);
    events.extend(run_outcome(
        state,
        ctx,
        vm,
        &contract,
        &mut instance,
        "on_deposit",
        input,
    )?);
    state.put(keys::instance(id), &instance);
    Ok(events)
}

/// Who may call (and dispute): a party; but an instance that governs a
/// condominium answers to its participants as they are now — a founder who sold
/// out no longer, a buyer or an admitted participant too.
pub(super) fn require_caller(
    state: &dyn StateRead,
    instance: &Instance,
    who: &SubjectId,
    height: u64,
) -> Result<(), ApplyError> {
    let allowed = match crate::condo::governed_view(state, &instance.id, height)? {
        Some(view) => view.weights.iter().any(|(w, _)| w == who),
        None => instance.is_party(who),
    };
    match allowed {
        true => Ok(()),
        false => Err(ContractError::NotParty(*who).into()),
    }
}

pub fn call(state: &mut Overlay, ctx: &TxContext, vm: &Vm, id: &Hash32, input: &[u8]) -> Outcome {
    let mut instance = load_instance(state, id)?;
    require_active(&instance)?;
    require_caller(state, &instance, &ctx.signer, ctx.height)?;
    let contract = load_contract(state, &instance.contract)?;
    let events = run_outcome(
        state,
        ctx,
        vm,
        &contract,
        &mut instance,
        "call",
        input.to_vec(),
    )?;
    state.put(keys::instance(id), &instance);
    Ok(events)
}

fn env(
    state: &dyn StateRead,
    instance: &Instance,
    caller: SubjectId,
    height: u64,
    time_ms: u64,
    input: Vec<u8>,
    read_only: bool,
) -> Result<CallEnv, ApplyError> {
    let storage: BTreeMap<Vec<u8>, Vec<u8>> =
        get_typed(state, &keys::instance_storage(&instance.id))?.unwrap_or_default();
    Ok(CallEnv {
        caller,
        parties: instance.parties.clone(),
        height,
        time_ms,
        input,
        storage,
        holdings: instance.holdings.clone(),
        read_only,
        condo: crate::condo::governed_view(state, &instance.id, height)?,
    })
}

fn code_loader<'a>(
    state: &'a dyn StateRead,
    contract: &'a Contract,
) -> impl FnOnce() -> Option<Vec<u8>> + 'a {
    move || {
        get_typed::<Vec<u8>>(state, &keys::code(&contract.code_hash))
            .ok()
            .flatten()
    }
}

/// Runs `export` and applies its effects: storage, transfers of held assets (under
/// the record rules, as the instance's account), and emitted events.
pub(super) fn run_outcome(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    contract: &Contract,
    instance: &mut Instance,
    export: &str,
    input: Vec<u8>,
) -> Outcome {
    let env = env(
        state,
        instance,
        ctx.signer,
        ctx.height,
        ctx.time_ms,
        input,
        false,
    )?;
    let outcome = vm.invoke(
        &contract.code_hash,
        code_loader(state, contract),
        export,
        env,
        ctx.fuel,
    )?;
    state.put(keys::instance_storage(&instance.id), &outcome.storage);
    let mut events = Vec::new();
    if export == "call" {
        events.push(Event::ContractCalled {
            instance: instance.id,
            caller: ctx.signer,
            output: Bytes(outcome.output),
            fuel_used: outcome.fuel_used,
        });
    }
    events.extend(
        outcome
            .events
            .into_iter()
            .map(|data| Event::ContractEmitted {
                instance: instance.id,
                data: Bytes(data),
            }),
    );
    events.extend(move_held(state, ctx, instance, &outcome.transfers)?);
    events.extend(apply_condo_approvals(
        state,
        ctx,
        instance,
        &outcome.condo_approvals,
    )?);
    Ok(events)
}

/// Carries out the condominium proposals the call approved, in order; any
/// refusal fails the whole call.
fn apply_condo_approvals(
    state: &mut Overlay,
    ctx: &TxContext,
    instance: &Instance,
    approvals: &[u64],
) -> Outcome {
    let Some(first) = approvals.first() else {
        return Ok(vec![]);
    };
    let condo: Hash32 = get_typed(state, &keys::condo_of_instance(&instance.id))?.ok_or(
        crate::condo::CondoError::ProposalNotFound {
            condo: Hash32::default(),
            proposal: *first,
        },
    )?;
    let mut events = Vec::new();
    for proposal in approvals {
        events.extend(crate::condo::approve_by_contract(
            state,
            ctx,
            &instance.id,
            &condo,
            *proposal,
        )?);
    }
    Ok(events)
}

/// Moves held records as directed, acting as the instance's account. Each move gets
/// its own derived id, so two partial moves of one holding never collide.
pub(super) fn move_held(
    state: &mut Overlay,
    ctx: &TxContext,
    instance: &mut Instance,
    directions: &[Direction],
) -> Outcome {
    let account = instance.account();
    let mut events = Vec::new();
    for (index, direction) in directions.iter().enumerate() {
        if !instance.holdings.contains(&direction.record) {
            return Err(ContractError::NotHeld {
                instance: instance.id,
                record: direction.record,
            }
            .into());
        }
        let step_id = hashing::hash(
            "tamga 2026 instance move v1",
            &[&ctx.tx_id.0, &(index as u64).to_le_bytes()],
        );
        let as_instance = TxContext {
            tx_id: step_id,
            signer: account,
            approvals: vec![crate::pki::Approval::keyless(account)],
            height: ctx.height,
            time_ms: ctx.time_ms,
            fuel: ctx.fuel,
        };
        events.extend(records::transfer(
            state,
            &as_instance,
            &direction.record,
            direction.to,
            direction.amount,
        )?);
        let still_held = records::load_active(state, &direction.record)
            .map(|r| r.owner == account)
            .unwrap_or(false);
        if !still_held {
            instance.holdings.retain(|r| *r != direction.record);
        }
    }
    Ok(events)
}

/// A read-only call of the `query` export, outside any transaction: nothing it
/// does is kept, any state change traps, and it gets one call's fuel.
pub fn query(
    state: &dyn StateRead,
    vm: &Vm,
    id: &Hash32,
    caller: SubjectId,
    height: u64,
    time_ms: u64,
    input: Vec<u8>,
) -> Result<Vec<u8>, crate::TxError> {
    let instance: Instance =
        get_typed(state, &keys::instance(id))?.ok_or(ContractError::InstanceNotFound(*id))?;
    let contract: Contract = get_typed(state, &keys::contract(&instance.contract))?
        .ok_or(ContractError::ContractNotFound(instance.contract))?;
    let env = env(state, &instance, caller, height, time_ms, input, true)?;
    Ok(vm
        .invoke(
            &contract.code_hash,
            code_loader(state, &contract),
            "query",
            env,
            &super::vm::BlockFuel::new(super::vm::limits::FUEL_PER_CALL),
        )?
        .output)
}
