//! The Wasm sandbox: one wasmtime engine configured for deterministic, bounded
//! execution, a cache of linked modules, and a fresh store per call.
//!
//! Determinism: NaNs canonicalised, no threads, SIMD or relaxed SIMD, fuel metering
//! (not time) bounds work. Bounds: fuel per call, linear memory, wasm stack, module
//! size, function and import counts, contract storage; instances come from a pool.
//! Everything a call changes is journaled in the store's host state and returned;
//! the caller applies it only if the call succeeded.

use super::abi::{self, HostError, HostState};
use super::error::ContractError;
use super::model::Direction;
use crate::types::{Hash32, PublicKey};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store, StoreLimitsBuilder, Trap,
};

/// Consensus limits: every validator must use the same ones.
pub mod limits {
    /// Fuel (roughly, Wasm instructions) one call may burn.
    pub const FUEL_PER_CALL: u64 = 20_000_000;
    /// Linear memory one instance may grow to.
    pub const MEMORY_BYTES_MAX: usize = 16 * 1024 * 1024;
    /// Wasm stack per call.
    pub const STACK_BYTES_MAX: usize = 512 * 1024;
    /// Deployed module size.
    pub const MODULE_BYTES_MAX: usize = 256 * 1024;
    pub const FUNCTIONS_MAX: u32 = 4_096;
    pub const IMPORTS_MAX: u32 = 32;
    pub const TABLE_ELEMENTS_MAX: usize = 10_000;
    /// Bytes of keys and values one instance may store.
    pub const STORAGE_BYTES_MAX: usize = 64 * 1024;
    /// Bytes one host call may read from or write to linear memory.
    pub const HOST_IO_BYTES_MAX: usize = 64 * 1024;
    /// Events and transfers one call may emit.
    pub const EFFECTS_PER_CALL_MAX: usize = 64;
}

/// Instances the pool keeps ready; also the number of concurrent calls.
const POOLED_INSTANCES: u32 = 16;
/// Linked modules kept compiled in memory.
const CACHED_MODULES_MAX: usize = 128;

/// Everything a call may see.
pub struct CallEnv {
    pub caller: PublicKey,
    pub parties: Vec<PublicKey>,
    pub height: u64,
    pub time_ms: u64,
    pub input: Vec<u8>,
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub holdings: Vec<Hash32>,
    /// Queries: any host call that would change state traps.
    pub read_only: bool,
}

/// What a successful call produced, to be applied by the caller.
#[derive(Debug, Default)]
pub struct CallOutcome {
    pub output: Vec<u8>,
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub transfers: Vec<Direction>,
    pub events: Vec<Vec<u8>>,
    /// Debug log lines: for developers, never part of consensus state.
    pub logs: Vec<String>,
    pub fuel_used: u64,
}

struct Cache {
    modules: HashMap<Hash32, InstancePre<HostState>>,
    order: VecDeque<Hash32>,
}

/// Where compiled modules persist between runs, keyed by the engine's
/// compatibility hash and the code hash. The node keeps them on disk; the runtime
/// itself does no I/O.
pub trait PrecompiledStore: Send + Sync {
    fn load(&self, key: &str) -> Option<Vec<u8>>;
    fn save(&self, key: &str, bytes: &[u8]);
}

pub struct Vm {
    engine: Engine,
    linker: Linker<HostState>,
    cache: Mutex<Cache>,
    precompiled: Option<Box<dyn PrecompiledStore>>,
    /// Hex of the engine's compatibility hash: a different wasmtime or config
    /// never reads another's compiled code.
    compatibility: String,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vm")
    }
}

/// Threads need wasmtime's `threads` feature, which this build does not include, so
/// shared memories cannot be enabled at all; likewise compilation runs on the
/// calling thread (no `parallel-compilation` feature).
fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .cranelift_nan_canonicalization(true)
        .wasm_relaxed_simd(false)
        .wasm_simd(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .max_wasm_stack(limits::STACK_BYTES_MAX);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOLED_INSTANCES)
        .total_memories(POOLED_INSTANCES)
        .total_tables(POOLED_INSTANCES)
        .max_memory_size(limits::MEMORY_BYTES_MAX)
        .table_elements(limits::TABLE_ELEMENTS_MAX);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

impl Vm {
    pub fn new() -> Result<Vm, String> {
        let engine = Engine::new(&engine_config()).map_err(|e| format!("wasm engine: {e}"))?;
        let mut linker = Linker::new(&engine);
        abi::link(&mut linker).map_err(|e| format!("linking tamga_v1: {e}"))?;
        let cache = Mutex::new(Cache {
            modules: HashMap::new(),
            order: VecDeque::new(),
        });
        let compatibility = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            format!("{:016x}", hasher.finish())
        };
        Ok(Vm {
            engine,
            linker,
            cache,
            precompiled: None,
            compatibility,
        })
    }

    /// Keeps compiled modules in `store` across restarts.
    pub fn with_precompiled(mut self, store: Box<dyn PrecompiledStore>) -> Vm {
        self.precompiled = Some(store);
        self
    }

    /// A compiled module: from the precompiled store if it has one for this engine,
    /// else compiled from the code and saved there.
    fn module(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Result<Module, ContractError> {
        let key = format!("{}-{code_hash}", self.compatibility);
        if let Some(bytes) = self.precompiled.as_ref().and_then(|store| store.load(&key)) {
            // SAFETY: the bytes were produced by `Module::serialize` on an engine with
            // the same compatibility hash (it is in the key) and kept in the node's own
            // data directory; wasmtime re-checks the header before using them.
            if let Ok(module) = unsafe { Module::deserialize(&self.engine, &bytes) } {
                return Ok(module);
            }
        }
        let bytes = code().ok_or_else(|| {
            ContractError::InvalidModule(format!("code {code_hash} missing from state"))
        })?;
        let module = Module::new(&self.engine, &bytes)
            .map_err(|e| ContractError::InvalidModule(format!("{e:#}")))?;
        if let (Some(store), Ok(compiled)) = (self.precompiled.as_ref(), module.serialize()) {
            store.save(&key, &compiled);
        }
        Ok(module)
    }

    /// Deploy-time validation: size, counts, imports only from `tamga_v1`, an
    /// exported `memory` and `call`, and a successful compile and link.
    pub fn validate(&self, code: &[u8]) -> Result<(), ContractError> {
        let invalid = |why: String| ContractError::InvalidModule(why);
        if code.len() > limits::MODULE_BYTES_MAX {
            return Err(invalid(format!(
                "{} bytes; the limit is {}",
                code.len(),
                limits::MODULE_BYTES_MAX
            )));
        }
        count_items(code)?;
        let module = Module::new(&self.engine, code).map_err(|e| invalid(format!("{e:#}")))?;
        for export in ["memory", "call"] {
            if module.get_export(export).is_none() {
                return Err(invalid(format!("missing export {export:?}")));
            }
        }
        self.linker
            .instantiate_pre(&module)
            .map_err(|e| invalid(format!("{e:#}")))?;
        Ok(())
    }

    fn linked(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Result<InstancePre<HostState>, ContractError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pre) = cache.modules.get(code_hash) {
            return Ok(pre.clone());
        }
        let module = self.module(code_hash, code)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| ContractError::InvalidModule(format!("{e:#}")))?;
        if cache.order.len() >= CACHED_MODULES_MAX {
            if let Some(old) = cache.order.pop_front() {
                cache.modules.remove(&old);
            }
        }
        cache.order.push_back(*code_hash);
        cache.modules.insert(*code_hash, pre.clone());
        Ok(pre)
    }

    /// Runs `export` (`() -> ()`) in a fresh store. A missing optional hook
    /// (`init`, `on_deposit`) is a successful no-op; any other missing export fails.
    pub fn invoke(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
        export: &str,
        env: CallEnv,
    ) -> Result<CallOutcome, ContractError> {
        let pre = self.linked(code_hash, code)?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(limits::MEMORY_BYTES_MAX)
            .instances(1)
            .tables(1)
            .table_elements(limits::TABLE_ELEMENTS_MAX)
            .build();
        let mut store = Store::new(&self.engine, HostState::new(env, limits));
        store.limiter(|state| &mut state.limits);
        store
            .set_fuel(limits::FUEL_PER_CALL)
            .expect("fuel is enabled");
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| classify(e, &store))?;
        let Some(func) = instance.get_func(&mut store, export) else {
            return match export {
                "init" | "on_deposit" => Ok(store.into_data().into_outcome(0)),
                _ => Err(ContractError::InvalidModule(format!(
                    "missing export {export:?}"
                ))),
            };
        };
        let func = func
            .typed::<(), ()>(&store)
            .map_err(|e| ContractError::InvalidModule(format!("export {export:?}: {e}")))?;
        func.call(&mut store, ()).map_err(|e| classify(e, &store))?;
        let used = limits::FUEL_PER_CALL - store.get_fuel().unwrap_or(0);
        Ok(store.into_data().into_outcome(used))
    }
}

/// Maps a failed call to the rule it broke.
fn classify(error: wasmtime::Error, store: &Store<HostState>) -> ContractError {
    if let Some(host) = error.downcast_ref::<HostError>() {
        return host.clone().into();
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ContractError::OutOfFuel(limits::FUEL_PER_CALL),
        Some(trap) => ContractError::Trap(trap.to_string()),
        None if store.data().aborted.is_some() => {
            ContractError::Aborted(store.data().aborted.clone().unwrap_or_default())
        }
        None => ContractError::Trap(format!("{error:#}")),
    }
}

/// Counts functions and imports before compiling anything.
fn count_items(code: &[u8]) -> Result<(), ContractError> {
    let invalid = |why: String| ContractError::InvalidModule(why);
    let (mut functions, mut imports) = (0u32, 0u32);
    for payload in wasmparser::Parser::new(0).parse_all(code) {
        match payload.map_err(|e| invalid(e.to_string()))? {
            wasmparser::Payload::FunctionSection(section) => {
                functions = functions.saturating_add(section.count())
            }
            wasmparser::Payload::ImportSection(section) => {
                imports = imports.saturating_add(section.count())
            }
            _ => {}
        }
    }
    if functions > limits::FUNCTIONS_MAX {
        return Err(invalid(format!(
            "{functions} functions; the limit is {}",
            limits::FUNCTIONS_MAX
        )));
    }
    if imports > limits::IMPORTS_MAX {
        return Err(invalid(format!(
            "{imports} imports; the limit is {}",
            limits::IMPORTS_MAX
        )));
    }
    Ok(())
}
