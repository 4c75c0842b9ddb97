//! Deployment, instantiation and acceptance. A deployment without an arbitration
//! clause does not exist (Art. 67 p.3); an instance starts only when every party
//! has accepted exactly its code, terms and init arguments.

use super::error::ContractError;
use super::model::{ArbitrationClause, Contract, Instance, InstanceStatus};
use super::vm::Vm;
use super::{load_contract, load_instance, run_outcome};
use crate::execute::{ApplyError, TxContext};
use crate::limits::TEXT_BYTES_MAX;
use crate::pki::{self, Role};
use crate::records::Event;
use crate::state::{keys, Overlay};
use crate::types::{hashing, Bytes, Hash32, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

/// Parties one instance may bind.
pub const PARTIES_MAX: usize = 16;
/// Arbiters one clause may name.
pub const ARBITERS_MAX: usize = 16;
/// Largest terms text, in bytes.
pub const TERMS_BYTES_MAX: usize = 32 * 1024;

fn check_clause(clause: &ArbitrationClause) -> Result<(), ContractError> {
    if clause.arbiters.is_empty() || clause.arbiters.len() > ARBITERS_MAX {
        return Err(ContractError::NoArbiters);
    }
    for (i, arbiter) in clause.arbiters.iter().enumerate() {
        if clause.arbiters[..i].contains(arbiter) {
            return Err(ContractError::DuplicateArbiter(*arbiter));
        }
    }
    let quorum_ok = clause.quorum >= 1 && clause.quorum as usize <= clause.arbiters.len();
    if !quorum_ok {
        return Err(ContractError::BadQuorum {
            quorum: clause.quorum,
            arbiters: clause.arbiters.len(),
        });
    }
    if clause.deadline_blocks == 0 {
        return Err(ContractError::NoDeadline);
    }
    Ok(())
}

/// Every arbiter (and the appeal arbiter) is a human certified with the arbiter
/// role now (Art. 67 p.3).
fn check_arbiters_certified(
    state: &Overlay,
    ctx: &TxContext,
    clause: &ArbitrationClause,
) -> Result<(), ApplyError> {
    for arbiter in clause.arbiters.iter().chain(clause.appeal.iter()) {
        if !pki::holds_role(state, arbiter, Role::Arbiter, ctx.height, ctx.time_ms)? {
            return Err(ContractError::ArbiterNotCertified(*arbiter).into());
        }
    }
    Ok(())
}

pub fn code_hash(code: &[u8]) -> Hash32 {
    hashing::hash("tamga 2026 contract code v1", &[code])
}

pub fn terms_hash(terms: &str) -> Hash32 {
    hashing::hash("tamga 2026 contract terms v1", &[terms.as_bytes()])
}

pub fn init_args_hash(args: &[u8]) -> Hash32 {
    hashing::hash("tamga 2026 contract init args v1", &[args])
}

pub fn deploy(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    code: &[u8],
    terms: &str,
    clause: &ArbitrationClause,
) -> Outcome {
    check_clause(clause)?;
    check_arbiters_certified(state, ctx, clause)?;
    if terms.trim().is_empty() || terms.len() > TERMS_BYTES_MAX.max(TEXT_BYTES_MAX) {
        return Err(ContractError::NoTerms.into());
    }
    // Paid before compiling: the compile is work every validator does.
    ctx.fuel.spend(super::vm::deploy_fuel(code))?;
    let (code_hash, terms_hash) = (code_hash(code), terms_hash(terms));
    vm.validate(&code_hash, code)?;
    let clause_bytes = crate::types::encoding::encode(clause);
    let id = hashing::hash(
        "tamga 2026 contract id v1",
        &[&code_hash.0, &terms_hash.0, &clause_bytes, &ctx.tx_id.0],
    );
    let contract = Contract {
        id,
        code_hash,
        code_bytes: code.len() as u32,
        terms: terms.to_owned(),
        terms_hash,
        arbitration: clause.clone(),
        deployer: ctx.signer,
        deployed_height: ctx.height,
    };
    state.put(keys::contract(&id), &contract);
    state.put(keys::code(&code_hash), &code.to_vec());
    Ok(vec![Event::ContractDeployed {
        contract: id,
        code_hash,
        terms_hash,
    }])
}

/// Proposes an instance. The signer must be a party; every party who signed the
/// transaction (signer and co-signers) has accepted.
pub fn instantiate(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    contract_id: &Hash32,
    parties: &[SubjectId],
    init_args: &[u8],
) -> Outcome {
    let contract = load_contract(state, contract_id)?;
    let distinct = parties
        .iter()
        .enumerate()
        .all(|(i, p)| !parties[..i].contains(p));
    if parties.is_empty() || parties.len() > PARTIES_MAX || !distinct {
        return Err(ContractError::BadParties { max: PARTIES_MAX }.into());
    }
    if !parties.contains(&ctx.signer) {
        return Err(ContractError::NotParty(ctx.signer).into());
    }
    let clause = &contract.arbitration;
    for party in parties {
        if clause.arbiters.contains(party) || clause.appeal == Some(*party) {
            return Err(ContractError::ArbiterIsParty(*party).into());
        }
        pki::require_subject(state, party)?;
    }
    let id = hashing::hash("tamga 2026 instance id v1", &[&contract.id.0, &ctx.tx_id.0]);
    let accepted = parties.iter().map(|p| ctx.approved_by(p)).collect();
    let mut instance = Instance {
        id,
        contract: contract.id,
        parties: parties.to_vec(),
        init_args: Bytes(init_args.to_vec()),
        accepted,
        status: InstanceStatus::Pending,
        holdings: vec![],
        created_height: ctx.height,
    };
    let mut events = vec![Event::InstanceProposed {
        instance: id,
        contract: contract.id,
    }];
    events.extend(
        parties
            .iter()
            .filter(|p| ctx.approved_by(p))
            .map(|p| Event::InstanceAccepted {
                instance: id,
                party: *p,
            }),
    );
    events.extend(activate_if_accepted(
        state,
        ctx,
        vm,
        &contract,
        &mut instance,
    )?);
    state.put(keys::instance(&id), &instance);
    Ok(events)
}

/// A party accepts; the hashes must match what the instance binds.
pub fn accept(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    id: &Hash32,
    hashes: [Hash32; 3],
) -> Outcome {
    let mut instance = load_instance(state, id)?;
    let contract = load_contract(state, &instance.contract)?;
    let position = instance
        .parties
        .iter()
        .position(|p| *p == ctx.signer)
        .ok_or(ContractError::NotParty(ctx.signer))?;
    if instance.status != InstanceStatus::Pending {
        return Err(ContractError::NotActive(*id).into());
    }
    if hashes
        != [
            contract.code_hash,
            contract.terms_hash,
            init_args_hash(&instance.init_args.0),
        ]
    {
        return Err(ContractError::AcceptanceMismatch.into());
    }
    instance.accepted[position] = true;
    let mut events = vec![Event::InstanceAccepted {
        instance: *id,
        party: ctx.signer,
    }];
    events.extend(activate_if_accepted(
        state,
        ctx,
        vm,
        &contract,
        &mut instance,
    )?);
    state.put(keys::instance(id), &instance);
    Ok(events)
}

/// Once every party accepted: run the optional `init` export with the init
/// arguments as input, and activate.
fn activate_if_accepted(
    state: &mut Overlay,
    ctx: &TxContext,
    vm: &Vm,
    contract: &Contract,
    instance: &mut Instance,
) -> Outcome {
    if !instance.accepted.iter().all(|a| *a) {
        return Ok(vec![]);
    }
    instance.status = InstanceStatus::Active;
    let mut events = vec![Event::InstanceActivated {
        instance: instance.id,
    }];
    let init_args = instance.init_args.clone();
    events.extend(run_outcome(
        state,
        ctx,
        vm,
        contract,
        instance,
        "init",
        init_args.0,
    )?);
    Ok(events)
}
