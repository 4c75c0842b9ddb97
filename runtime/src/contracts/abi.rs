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
//! | `caller` | `(ptr)` | 32-byte public key of the caller |
//! | `parties_len` | `() -> i32` | number of parties |
//! | `party` | `(index, ptr) -> i32` | 32-byte key of party `index`; 0, or -1 if out of range |
//! | `block_height` | `() -> i64` | height of the executing block |
//! | `block_time_ms` | `() -> i64` | its BFT time |
//! | `emit` | `(ptr, len)` | an event; mutating |
//! | `transfer` | `(record_ptr, to_ptr, amount: i64) -> i32` | moves a held record (amount < 0: whole); 0, or -1 if not held; mutating |
//! | `log` | `(ptr, len)` | a debug line, never consensus state |
//!
//! Mutating functions trap in read-only queries.

use super::error::ContractError;
use super::model::Direction;
use super::vm::{limits, CallEnv, CallOutcome};
use crate::types::{Hash32, PublicKey};
use wasmtime::{Caller, Extern, Linker, StoreLimits};

/// Debug lines kept per call.
const LOG_LINES_MAX: usize = 32;

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
    pub logs: Vec<String>,
    pub aborted: Option<String>,
}

impl HostState {
    pub fn new(env: CallEnv, limits: StoreLimits) -> Self {
        HostState {
            env,
            limits,
            output: vec![],
            transfers: vec![],
            events: vec![],
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
            logs: self.logs,
            fuel_used,
        }
    }

    fn storage_bytes(&self) -> usize {
        self.env
            .storage
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }

    fn mutating(&self) -> Result<(), HostError> {
        if self.env.read_only {
            return Err(HostError::ReadOnly);
        }
        Ok(())
    }
}

type Ctx<'a> = Caller<'a, HostState>;

fn memory(caller: &mut Ctx<'_>) -> Result<wasmtime::Memory, HostError> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(HostError::Memory),
    }
}

fn read(caller: &mut Ctx<'_>, ptr: i32, len: i32) -> Result<Vec<u8>, HostError> {
    let (ptr, len) = (
        usize::try_from(ptr).map_err(|_| HostError::Memory)?,
        usize::try_from(len).map_err(|_| HostError::Memory)?,
    );
    if len > limits::HOST_IO_BYTES_MAX {
        return Err(HostError::Memory);
    }
    let memory = memory(caller)?;
    let mut bytes = vec![0u8; len];
    memory
        .read(&*caller, ptr, &mut bytes)
        .map_err(|_| HostError::Memory)?;
    Ok(bytes)
}

fn write(caller: &mut Ctx<'_>, ptr: i32, bytes: &[u8]) -> Result<(), HostError> {
    let ptr = usize::try_from(ptr).map_err(|_| HostError::Memory)?;
    let memory = memory(caller)?;
    memory
        .write(&mut *caller, ptr, bytes)
        .map_err(|_| HostError::Memory)
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
    linker.func_wrap(M, "input_len", |c: Ctx<'_>| c.data().env.input.len() as i32)?;
    linker.func_wrap(
        M,
        "input_read",
        |mut c: Ctx<'_>, ptr: i32| -> wasmtime::Result<()> {
            let input = c.data().env.input.clone();
            Ok(write(&mut c, ptr, &input)?)
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
    link_effects(linker)
}

fn link_storage(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const M: &str = "tamga_v1";
    linker.func_wrap(
        M,
        "storage_get",
        |mut c: Ctx<'_>, kptr: i32, klen: i32, vptr: i32, vcap: i32| -> wasmtime::Result<i32> {
            let key = read(&mut c, kptr, klen)?;
            let Some(value) = c.data().env.storage.get(&key).cloned() else {
                return Ok(-1);
            };
            let take = value.len().min(usize::try_from(vcap).unwrap_or(0));
            write(&mut c, vptr, &value[..take])?;
            Ok(value.len() as i32)
        },
    )?;
    linker.func_wrap(
        M,
        "storage_set",
        |mut c: Ctx<'_>, kptr: i32, klen: i32, vptr: i32, vlen: i32| -> wasmtime::Result<()> {
            c.data().mutating()?;
            let (key, value) = (read(&mut c, kptr, klen)?, read(&mut c, vptr, vlen)?);
            let state = c.data_mut();
            state.env.storage.insert(key, value);
            if state.storage_bytes() > limits::STORAGE_BYTES_MAX {
                return Err(HostError::StorageFull.into());
            }
            Ok(())
        },
    )?;
    linker.func_wrap(
        M,
        "storage_remove",
        |mut c: Ctx<'_>, kptr: i32, klen: i32| -> wasmtime::Result<()> {
            c.data().mutating()?;
            let key = read(&mut c, kptr, klen)?;
            c.data_mut().env.storage.remove(&key);
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
            let key = c.data().env.caller.0;
            Ok(write(&mut c, ptr, &key)?)
        },
    )?;
    linker.func_wrap(M, "parties_len", |c: Ctx<'_>| {
        c.data().env.parties.len() as i32
    })?;
    linker.func_wrap(
        M,
        "party",
        |mut c: Ctx<'_>, index: i32, ptr: i32| -> wasmtime::Result<i32> {
            let party = usize::try_from(index)
                .ok()
                .and_then(|i| c.data().env.parties.get(i).copied());
            let Some(party) = party else { return Ok(-1) };
            write(&mut c, ptr, &party.0)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(M, "block_height", |c: Ctx<'_>| c.data().env.height as i64)?;
    linker.func_wrap(M, "block_time_ms", |c: Ctx<'_>| c.data().env.time_ms as i64)?;
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
                PublicKey(read_32(&mut c, to_ptr)?),
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
