//! The host interface contracts import, module `tamga_v1` (versioned: a later
//! `tamga_v2` can change it without breaking deployed code). Pointers and lengths
//! are i32 into the contract's exported `memory`.
//!
//! | function | signature | effect |
//! |---|---|---|
//! | `input_len` | `() -> i32` | length of the call's input |
//! | `input_read` | `(ptr)` | copies the input to `ptr` |
//! | `output` | `(ptr, len)` | sets the call's return data |
//! | `abort` | `(ptr, len)` | fails the call with a UTF-8 message |
//! | `storage_get` | `(kptr, klen, vptr, vcap) -> i32` | value length (copies up to `vcap`), or -1 |
//! | `storage_set` | `(kptr, klen, vptr, vlen)` | mutating |
//! | `storage_remove` | `(kptr, klen)` | mutating |
//! | `caller` | `(ptr)` | 32-byte subject id of the caller (who its certified key speaks for) |
//! | `parties_len` | `() -> i32` | number of parties |
//! | `party` | `(index, ptr) -> i32` | 32-byte subject id of party `index`; 0, or -1 if out of range |
//! | `block_height` | `() -> i64` | height of the executing block |
//! | `block_time_ms` | `() -> i64` | its BFT time |
//! | `emit` | `(ptr, len)` | an event; mutating |
//! | `transfer` | `(record_ptr, to_ptr, amount: i64) -> i32` | moves a held record to subject `to` (amount < 0: whole); 0, or -1 if not held; mutating |
//! | `log` | `(ptr, len)` | a debug line, never consensus state |
//! | `condo_denominator` | `() -> i64` | the governed condominium's denominator, or 0 if none |
//! | `condo_share` | `(subject_ptr) -> i64` | that subject's share numerator now (0: not a participant) |
//! | `condo_proposal_kind` | `(number: i64) -> i32` | kind 0..=5 of that open proposal, or -1 |
//! | `condo_approve` | `(number: i64) -> i32` | approves that proposal, carried out after the call; 0, or -1 if governing none; mutating |
//!
//! Mutating functions trap in read-only queries.
//!
//! Every host function is paid for in the call's fuel, before it does any work:
//! [`HOST_CALL_FUEL`] per call plus [`HOST_BYTE_FUEL`] per byte it copies, reads or
//! stores. So a contract that loops over a host call burns its fuel as fast as one
//! that loops over instructions, and `storage_set` keeps a running size instead of
//! re-summing the storage.

use super::error::ContractError;
use super::model::Direction;
use super::vm::{limits, CallEnv, CallOutcome};
use crate::condo::DecisionKind;
use crate::types::{Hash32, SubjectId};
use wasmtime::{Caller, Extern, Linker, StoreLimits};

/// Debug lines kept per call.
const LOG_LINES_MAX: usize = 32;
/// Fuel every host call costs, whatever it does (a crossing costs tens of
/// instructions' worth of time).
pub const HOST_CALL_FUEL: u64 = 50;
/// Fuel per byte a host call moves between the sandbox and the node.
pub const HOST_BYTE_FUEL: u64 = 1;

/// Why a host function stopped the call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    #[error("aborted: {0}")]
    Aborted(String),
    #[error("state change in a read-only query")]
    ReadOnly,
    #[error("storage full")]
    StorageFull,
    #[error("bad memory access")]
    Memory,
    #[error("too many events or transfers in one call")]
    TooManyEffects,
    #[error("out of fuel in a host call")]
    OutOfFuel,
}

impl From<HostError> for ContractError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Aborted(message) => ContractError::Aborted(message),
            HostError::ReadOnly => ContractError::ReadOnly,
            HostError::StorageFull => ContractError::StorageFull {
                max: limits::STORAGE_BYTES_MAX,
            },
            HostError::Memory => ContractError::Trap("out-of-bounds host memory access".into()),
            HostError::TooManyEffects => ContractError::Trap(format!(
                "more than {} effects in one call",
                limits::EFFECTS_PER_CALL_MAX
            )),
            // The vm maps this to the per-call or the per-block limit.
            HostError::OutOfFuel => ContractError::OutOfFuel(limits::FUEL_PER_CALL),
        }
    }
}

/// The store's data: the call's environment and its journaled effects.
pub struct HostState {
    pub env: CallEnv,
    pub limits: StoreLimits,
    pub output: Vec<u8>,
    pub transfers: Vec<Direction>,
    pub events: Vec<Vec<u8>>,
    pub condo_approvals: Vec<u64>,
    pub logs: Vec<String>,
    pub aborted: Option<String>,
    /// Bytes of keys and values in `env.storage`, kept as it changes.
    storage_bytes: usize,
}

impl HostState {
    pub fn new(env: CallEnv, limits: StoreLimits) -> Self {
        let storage_bytes = env.storage.iter().map(|(k, v)| k.len() + v.len()).sum();
        HostState {
            storage_bytes,
            env,
            limits,
            output: vec![],
            transfers: vec![],
            events: vec![],
            condo_approvals: vec![],
            logs: vec![],
            aborted: None,
        }
    }

    pub fn into_outcome(self, fuel_used: u64) -> CallOutcome {
        CallOutcome {
            output: self.output,
            storage: self.env.storage,
            transfers: self.transfers,
            events: self.events,
            condo_approvals: self.condo_approvals,
            logs: self.logs,
            fuel_used,
        }
    }

    fn mutating(&self) -> Result<(), HostError> {
        if self.env.read_only {
            return Err(HostError::ReadOnly);
        }
        Ok(())
    }
}

type Ctx<'a> = Caller<'a, HostState>;

/// Takes the fuel a host call costs for moving `bytes`, before it does the work.
fn charge(caller: &mut Ctx<'_>, bytes: usize) -> Result<(), HostError> {
    let cost = HOST_CALL_FUEL.saturating_add((bytes as u64).saturating_mul(HOST_BYTE_FUEL));
    let left = caller.get_fuel().map_err(|_| HostError::OutOfFuel)?;
    if left < cost {
        let _ = caller.set_fuel(0);
        return Err(HostError::OutOfFuel);
    }
    caller
        .set_fuel(left - cost)
        .map_err(|_| HostError::OutOfFuel)
}

/// A host function with no bytes to move: the base charge, then `value`.
fn flat<T>(caller: &mut Ctx<'_>, value: impl FnOnce(&HostState) -> T) -> wasmtime::Result<T> {
    charge(caller, 0)?;
    Ok(value(caller.data()))
}

fn memory(caller: &mut Ctx<'_>) -> Result<wasmtime::Memory, HostError> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(HostError::Memory),
    }
}

/// Copies `len` bytes out of the sandbox, paying for them first.
fn read(caller: &mut Ctx<'_>, ptr: i32, len: i32) -> Result<Vec<u8>, HostError> {
    let (ptr, len) = (
        usize::try_from(ptr).map_err(|_| HostError::Memory)?,
        usize::try_from(len).map_err(|_| HostError::Memory)?,
    );
    if len > limits::HOST_IO_BYTES_MAX {
        return Err(HostError::Memory);
    }
    charge(caller, len)?;
    let memory = memory(caller)?;
    let mut bytes = vec![0u8; len];
    memory
        .read(&*caller, ptr, &mut bytes)
        .map_err(|_| HostError::Memory)?;
    Ok(bytes)
}

/// Copies bytes the host state holds into the sandbox at `ptr`, paying for them
/// first; `pick` chooses them (and their length) without cloning anything.
fn write_from(
    caller: &mut Ctx<'_>,
    ptr: i32,
    len: usize,
    pick: impl FnOnce(&HostState) -> &[u8],
) -> Result<(), HostError> {
    let ptr = usize::try_from(ptr).map_err(|_| HostError::Memory)?;
    charge(caller, len)?;
    let memory = memory(caller)?;
    let (data, state) = memory.data_and_store_mut(&mut *caller);
    let bytes = pick(state);
    let end = ptr.checked_add(bytes.len()).ok_or(HostError::Memory)?;
    data.get_mut(ptr..end)
        .ok_or(HostError::Memory)?
        .copy_from_slice(bytes);
    Ok(())
}

fn read_32(caller: &mut Ctx<'_>, ptr: i32) -> Result<[u8; 32], HostError> {
    let bytes = read(caller, ptr, 32)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// Registers every `tamga_v1` function.
pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(M, "input_len", |mut c: Ctx<'_>| {
        flat(&mut c, |s| s.env.input.len() as i32)
    })?;
    linker.func_wrap(
        M,
        "input_read",
        |mut c: Ctx<'_>, ptr: i32| -> wasmtime::Result<()> {
            let len = c.data().env.input.len();
            Ok(write_from(&mut c, ptr, len, |s| &s.env.input)?)
        },
    )?;
    linker.func_wrap(
        M,
        "output",
        |mut c: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            c.data_mut().output = read(&mut c, ptr, len)?;
            Ok(())
        },
    )?;
    linker.func_wrap(
        M,
        "abort",
        |mut c: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let message = String::from_utf8_lossy(&read(&mut c, ptr, len.min(1024))?).into_owned();
            c.data_mut().aborted = Some(message.clone());
            Err(HostError::Aborted(message).into())
        },
    )?;
    link_storage(linker)?;
    link_context(linker)?;
    link_condo(linker)?;
    link_effects(linker)
}

fn link_storage(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(
        M,
        "storage_get",
        |mut c: Ctx<'_>, kptr: i32, klen: i32, vptr: i32, vcap: i32| -> wasmtime::Result<i32> {
            let key = read(&mut c, kptr, klen)?;
            let Some(len) = c.data().env.storage.get(&key).map(Vec::len) else {
                return Ok(-1);
            };
            let take = len.min(usize::try_from(vcap).unwrap_or(0));
            write_from(&mut c, vptr, take, |s| &s.env.storage[&key][..take])?;
            Ok(len as i32)
        },
    )?;
    linker.func_wrap(
        M,
        "storage_set",
        |mut c: Ctx<'_>, kptr: i32, klen: i32, vptr: i32, vlen: i32| -> wasmtime::Result<()> {
            c.data().mutating()?;
            let (key, value) = (read(&mut c, kptr, klen)?, read(&mut c, vptr, vlen)?);
            let state = c.data_mut();
            let added = key.len() + value.len();
            let removed = state
                .env
                .storage
                .get(&key)
                .map_or(0, |v| key.len() + v.len());
            if state.storage_bytes - removed + added > limits::STORAGE_BYTES_MAX {
                return Err(HostError::StorageFull.into());
            }
            state.storage_bytes = state.storage_bytes - removed + added;
            state.env.storage.insert(key, value);
            Ok(())
        },
    )?;
    linker.func_wrap(
        M,
        "storage_remove",
        |mut c: Ctx<'_>, kptr: i32, klen: i32| -> wasmtime::Result<()> {
            c.data().mutating()?;
            let key = read(&mut c, kptr, klen)?;
            let state = c.data_mut();
            if let Some(value) = state.env.storage.remove(&key) {
                state.storage_bytes -= key.len() + value.len();
            }
            Ok(())
        },
    )?;
    Ok(())
}

fn link_context(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(
        M,
        "caller",
        |mut c: Ctx<'_>, ptr: i32| -> wasmtime::Result<()> {
            Ok(write_from(&mut c, ptr, 32, |s| &s.env.caller.0)?)
        },
    )?;
    linker.func_wrap(M, "parties_len", |mut c: Ctx<'_>| {
        flat(&mut c, |s| s.env.parties.len() as i32)
    })?;
    linker.func_wrap(
        M,
        "party",
        |mut c: Ctx<'_>, index: i32, ptr: i32| -> wasmtime::Result<i32> {
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            if index >= c.data().env.parties.len() {
                charge(&mut c, 0)?;
                return Ok(-1);
            }
            write_from(&mut c, ptr, 32, |s| &s.env.parties[index].0)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(M, "block_height", |mut c: Ctx<'_>| {
        flat(&mut c, |s| s.env.height as i64)
    })?;
    linker.func_wrap(M, "block_time_ms", |mut c: Ctx<'_>| {
        flat(&mut c, |s| s.env.time_ms as i64)
    })?;
    Ok(())
}

/// What an instance governing a condominium sees of it, and how it decides
/// (Art. 35 p.3): each participant's share now, which proposals are open and of
/// what kind (0..=5: use, lease or pledge, sale or termination, admit, change of
/// the agreement, dissolution; -1 if not open), and approving a proposal, which
/// the ledger carries out after the call succeeds.
/// What approving a condominium proposal costs, in bytes of host I/O.
const CONDO_APPROVE_BYTES: usize = 100_000;

fn link_condo(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(M, "condo_denominator", |mut c: Ctx<'_>| {
        flat(&mut c, |s| {
            s.env.condo.as_ref().map_or(0, |v| v.denominator as i64)
        })
    })?;
    linker.func_wrap(
        M,
        "condo_proposal_kind",
        |mut c: Ctx<'_>, number: i64| -> wasmtime::Result<i32> {
            charge(&mut c, 0)?;
            let view = c.data().env.condo.as_ref();
            let kind = view
                .and_then(|v| v.open.iter().find(|(n, _)| i64::try_from(*n) == Ok(number)))
                .and_then(|(_, kind)| DecisionKind::ALL.iter().position(|k| k == kind));
            Ok(kind.map_or(-1, |index| index as i32))
        },
    )?;
    linker.func_wrap(
        M,
        "condo_share",
        |mut c: Ctx<'_>, subject_ptr: i32| -> wasmtime::Result<i64> {
            let subject = SubjectId(read_32(&mut c, subject_ptr)?);
            let view = c.data().env.condo.as_ref();
            let weight = view
                .and_then(|v| v.weights.iter().find(|(who, _)| *who == subject))
                .map_or(0, |(_, n)| *n);
            Ok(weight as i64)
        },
    )?;
    linker.func_wrap(
        M,
        "condo_approve",
        |mut c: Ctx<'_>, proposal: i64| -> wasmtime::Result<i32> {
            c.data().mutating()?;
            // Paid up front for what a decision may do: up to a dissolution's
            // transfers and terminations.
            charge(&mut c, CONDO_APPROVE_BYTES)?;
            let state = c.data_mut();
            let Some(proposal) = u64::try_from(proposal)
                .ok()
                .filter(|_| state.env.condo.is_some())
            else {
                return Ok(-1);
            };
            if state.condo_approvals.len() >= limits::EFFECTS_PER_CALL_MAX {
                return Err(HostError::TooManyEffects.into());
            }
            state.condo_approvals.push(proposal);
            Ok(0)
        },
    )?;
    Ok(())
}

fn link_effects(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(
        M,
        "emit",
        |mut c: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            c.data().mutating()?;
            let event = read(&mut c, ptr, len)?;
            let state = c.data_mut();
            if state.events.len() >= limits::EFFECTS_PER_CALL_MAX {
                return Err(HostError::TooManyEffects.into());
            }
            state.events.push(event);
            Ok(())
        },
    )?;
    linker.func_wrap(
        M,
        "transfer",
        |mut c: Ctx<'_>, record_ptr: i32, to_ptr: i32, amount: i64| -> wasmtime::Result<i32> {
            c.data().mutating()?;
            let (record, to) = (
                Hash32(read_32(&mut c, record_ptr)?),
                SubjectId(read_32(&mut c, to_ptr)?),
            );
            let state = c.data_mut();
            if !state.env.holdings.contains(&record) {
                return Ok(-1);
            }
            if state.transfers.len() >= limits::EFFECTS_PER_CALL_MAX {
                return Err(HostError::TooManyEffects.into());
            }
            let amount = u64::try_from(amount).ok();
            state.transfers.push(Direction { record, to, amount });
            Ok(0)
        },
    )?;
    linker.func_wrap(
        M,
        "log",
        |mut c: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let line = String::from_utf8_lossy(&read(&mut c, ptr, len.min(1024))?).into_owned();
            let logs = &mut c.data_mut().logs;
            if logs.len() < LOG_LINES_MAX {
                logs.push(line);
            }
            Ok(())
        },
    )?;
    Ok(())
}
