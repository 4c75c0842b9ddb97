//! The Wasm sandbox: one wasmtime engine configured for deterministic, bounded
//! execution, a cache of linked modules, and a fresh store per call.
//!
//! Determinism: NaNs canonicalised, no threads, SIMD or relaxed SIMD, fuel metering
//! (not time) bounds work. Bounds: fuel per call and per block ([`BlockFuel`]: calls
//! and deploy-time compiles draw on one budget), linear memory, wasm stack, module
//! size, function, body, local and import counts, contract storage; instances come
//! from a pool, and a call waits for a free slot rather than fail for want of one
//! (a busy node is never a verdict on a transaction).
//! Everything a call changes is journaled in the store's host state and returned;
//! the caller applies it only if the call succeeded.

use super::abi::{self, HostError, HostState};
use super::error::ContractError;
use super::model::Direction;
use crate::types::{Hash32, SubjectId};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
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
    /// Fuel all the contract work of one block may burn: calls, and the compile
    /// work of deployments. About ten maximal calls; a validator executes a block
    /// before voting, so this bounds how long that takes whatever the block holds.
    pub const BLOCK_FUEL_MAX: u64 = 10 * FUEL_PER_CALL;
    /// Fuel a deployment costs per byte of code: the price of compiling it (on
    /// every validator), drawn from the block's budget like a call's fuel.
    pub const DEPLOY_FUEL_PER_BYTE: u64 = 200;
    /// Bytes of one function body: compile work grows faster than linearly in a
    /// function's size, so no single function may be large.
    pub const FUNCTION_BODY_BYTES_MAX: usize = 64 * 1024;
    /// Locals one function may declare (each is a value the compiler must place).
    pub const LOCALS_PER_FUNCTION_MAX: u32 = 2_048;
    /// Initial linear memory, in 64 KiB pages (the cap, so instantiation cannot fail on it).
    pub const MEMORY_PAGES_MAX: u64 = (MEMORY_BYTES_MAX / 65_536) as u64;
}

/// What is left of a block's fuel budget ([`limits::BLOCK_FUEL_MAX`]). Every
/// call and every deployment in the block draws on it; one that would overdraw
/// it fails with [`ContractError::BlockFuelExhausted`], which is the block's limit,
/// not the transaction's fault: a proposer closes its block there, and a
/// validator refuses a block that went past it.
#[derive(Debug)]
pub struct BlockFuel {
    left: Cell<u64>,
}

impl BlockFuel {
    pub fn new(budget: u64) -> Self {
        BlockFuel {
            left: Cell::new(budget),
        }
    }

    /// A whole block's budget.
    pub fn block() -> Self {
        BlockFuel::new(limits::BLOCK_FUEL_MAX)
    }

    pub fn left(&self) -> u64 {
        self.left.get()
    }

    /// Spends `amount`, or fails (spending nothing) if the budget cannot cover it.
    pub fn spend(&self, amount: u64) -> Result<(), ContractError> {
        let left = self.left.get();
        if amount > left {
            return Err(ContractError::BlockFuelExhausted {
                max: limits::BLOCK_FUEL_MAX,
            });
        }
        self.left.set(left - amount);
        Ok(())
    }
}

/// Instances the pool keeps ready; also the number of concurrent calls.
const POOLED_INSTANCES: u32 = 16;
/// Linked modules kept compiled in memory.
const CACHED_MODULES_MAX: usize = 128;

/// Everything a call may see.
pub struct CallEnv {
    pub caller: SubjectId,
    pub parties: Vec<SubjectId>,
    pub height: u64,
    pub time_ms: u64,
    pub input: Vec<u8>,
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub holdings: Vec<Hash32>,
    /// Queries: any host call that would change state traps.
    pub read_only: bool,
    /// The condominium this instance governs, if any (Art. 35 p.3).
    pub condo: Option<crate::condo::GovernedView>,
}

/// What a successful call produced, to be applied by the caller.
#[derive(Debug, Default)]
pub struct CallOutcome {
    pub output: Vec<u8>,
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub transfers: Vec<Direction>,
    pub events: Vec<Vec<u8>>,
    /// Proposals of the governed condominium the call approved, in order.
    pub condo_approvals: Vec<u64>,
    /// Debug log lines: for developers, never part of consensus state.
    pub logs: Vec<String>,
    pub fuel_used: u64,
}

struct Cache {
    modules: HashMap<Hash32, InstancePre<HostState>>,
    order: VecDeque<Hash32>,
    /// Compiled at deploy validation, not yet written to the precompiled store:
    /// written at the first call (a refused deployment is never called).
    unsaved: std::collections::HashSet<Hash32>,
}

/// Free instance slots: a call takes one before instantiating and gives it back
/// when its store is dropped, so the pool is never asked for more than it has.
struct Slots {
    free: Mutex<u32>,
    returned: Condvar,
}

pub(super) struct Slot<'a>(&'a Slots);

impl Slots {
    fn take(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.returned.notify_one();
    }
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
    slots: Slots,
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
            unsaved: Default::default(),
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
            slots: Slots {
                free: Mutex::new(POOLED_INSTANCES),
                returned: Condvar::new(),
            },
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

    /// Deploy-time validation: size, counts and compile-cost bounds read from the
    /// bytes before anything is compiled, then a compile and link, imports only
    /// from `tamga_v1`, and exported `memory` and `call`. A module that passes is
    /// kept in the memory cache (the first call does not compile it again); none
    /// is written to disk here, so refused deployments leave nothing behind. The
    /// caller charges the compile's fuel ([`deploy_fuel`]) first.
    pub fn validate(&self, code_hash: &Hash32, code: &[u8]) -> Result<(), ContractError> {
        let invalid = |why: String| ContractError::InvalidModule(why);
        if code.len() > limits::MODULE_BYTES_MAX {
            return Err(invalid(format!(
                "{} bytes; the limit is {}",
                code.len(),
                limits::MODULE_BYTES_MAX
            )));
        }
        check_shape(code)?;
        let cached = self.cache().modules.get(code_hash).cloned();
        let pre = match cached {
            Some(pre) => pre,
            None => {
                let module =
                    Module::new(&self.engine, code).map_err(|e| invalid(format!("{e:#}")))?;
                self.linker
                    .instantiate_pre(&module)
                    .map_err(|e| invalid(format!("{e:#}")))?
            }
        };
        for export in ["memory", "call"] {
            if pre.module().get_export(export).is_none() {
                return Err(invalid(format!("missing export {export:?}")));
            }
        }
        self.keep(code_hash, pre, true);
        Ok(())
    }

    /// A deployed module, compiled and linked: from the cache, else from the
    /// precompiled store or compiled (outside the cache lock, so a long compile
    /// does not hold up calls of other contracts). It passed validation at deploy,
    /// so failing now is this node's trouble, never a verdict.
    fn linked(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Result<InstancePre<HostState>, ContractError> {
        let hit = {
            let mut cache = self.cache();
            let pre = cache.modules.get(code_hash).cloned();
            let unsaved = cache.unsaved.remove(code_hash);
            pre.map(|pre| (pre, unsaved))
        };
        if let Some((pre, unsaved)) = hit {
            if let (true, Some(store)) = (unsaved, self.precompiled.as_ref()) {
                if let Ok(compiled) = pre.module().serialize() {
                    store.save(&format!("{}-{code_hash}", self.compatibility), &compiled);
                }
            }
            return Ok(pre);
        }
        let local = |e: ContractError| {
            ContractError::NodeLocal(format!("loading deployed code {code_hash}: {e}"))
        };
        let module = self.module(code_hash, code).map_err(local)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| local(ContractError::InvalidModule(format!("{e:#}"))))?;
        self.keep(code_hash, pre.clone(), false);
        Ok(pre)
    }

    /// Keeps a linked module in the bounded memory cache (`unsaved`: not yet in
    /// the precompiled store).
    fn keep(&self, code_hash: &Hash32, pre: InstancePre<HostState>, unsaved: bool) {
        let mut cache = self.cache();
        if cache.modules.contains_key(code_hash) {
            return;
        }
        if cache.order.len() >= CACHED_MODULES_MAX {
            if let Some(old) = cache.order.pop_front() {
                cache.modules.remove(&old);
                cache.unsaved.remove(&old);
            }
        }
        cache.order.push_back(*code_hash);
        cache.modules.insert(*code_hash, pre);
        if unsaved {
            cache.unsaved.insert(*code_hash);
        }
    }

    /// Tests: takes every instance slot, as that many running calls would.
    #[cfg(test)]
    pub(super) fn hold_every_slot(&self) -> Vec<Slot<'_>> {
        (0..POOLED_INSTANCES).map(|_| self.slots.take()).collect()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `export` (`() -> ()`) in a fresh store with at most
    /// [`limits::FUEL_PER_CALL`] fuel, or what is left of the block's `fuel` if
    /// less, and spends what it burned (also when it fails). A missing optional
    /// hook (`init`, `on_deposit`) is a successful no-op; any other missing export
    /// fails.
    pub fn invoke(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
        export: &str,
        env: CallEnv,
        fuel: &BlockFuel,
    ) -> Result<CallOutcome, ContractError> {
        let limit = limits::FUEL_PER_CALL.min(fuel.left());
        if limit == 0 {
            return Err(ContractError::BlockFuelExhausted {
                max: limits::BLOCK_FUEL_MAX,
            });
        }
        let pre = self.linked(code_hash, code)?;
        let _slot = self.slots.take();
        let mut store = self.store(env);
        store.set_fuel(limit).expect("fuel is enabled");
        let result = run_export(&pre, &mut store, export);
        let used = limit - store.get_fuel().unwrap_or(0);
        fuel.spend(used).expect("a call burns at most its limit");
        match result {
            Ok(()) => Ok(store.into_data().into_outcome(used)),
            Err(ContractError::OutOfFuel(_)) if limit < limits::FUEL_PER_CALL => {
                Err(ContractError::BlockFuelExhausted {
                    max: limits::BLOCK_FUEL_MAX,
                })
            }
            Err(error) => Err(error),
        }
    }

    fn store(&self, env: CallEnv) -> Store<HostState> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(limits::MEMORY_BYTES_MAX)
            .instances(1)
            .tables(1)
            .table_elements(limits::TABLE_ELEMENTS_MAX)
            .build();
        let mut store = Store::new(&self.engine, HostState::new(env, limits));
        store.limiter(|state| &mut state.limits);
        store
    }
}

/// The fuel a deployment of `code` costs: its compile work, on every validator.
pub fn deploy_fuel(code: &[u8]) -> u64 {
    (code.len() as u64).saturating_mul(limits::DEPLOY_FUEL_PER_BYTE)
}

/// Instantiates and runs `export`; a missing optional hook does nothing.
fn run_export(
    pre: &InstancePre<HostState>,
    store: &mut Store<HostState>,
    export: &str,
) -> Result<(), ContractError> {
    let instance = pre
        .instantiate(&mut *store)
        .map_err(|e| classify(e, store))?;
    let Some(func) = instance.get_func(&mut *store, export) else {
        return match export {
            "init" | "on_deposit" => Ok(()),
            _ => Err(ContractError::InvalidModule(format!(
                "missing export {export:?}"
            ))),
        };
    };
    let func = func
        .typed::<(), ()>(&*store)
        .map_err(|e| ContractError::InvalidModule(format!("export {export:?}: {e}")))?;
    func.call(&mut *store, ()).map_err(|e| classify(e, store))
}

/// Maps a failed instantiation or call to the rule it broke. Traps and host
/// refusals are the contract's doing, the same on every node; anything else (no
/// memory to map, say) is this node's trouble and never a verdict.
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
        None => ContractError::NodeLocal(format!("{error:#}")),
    }
}

/// Reads the module's sections before anything is compiled: function and import
/// counts, each body's size and locals (what compile work grows with), and the
/// initial memory and table sizes (so a valid module always instantiates).
fn check_shape(code: &[u8]) -> Result<(), ContractError> {
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
            wasmparser::Payload::CodeSectionEntry(body) => check_body(&body)?,
            wasmparser::Payload::MemorySection(section) => {
                for memory in section {
                    let memory = memory.map_err(|e| invalid(e.to_string()))?;
                    if memory.initial > limits::MEMORY_PAGES_MAX {
                        return Err(invalid(format!(
                            "initial memory of {} pages; the limit is {}",
                            memory.initial,
                            limits::MEMORY_PAGES_MAX
                        )));
                    }
                }
            }
            wasmparser::Payload::TableSection(section) => {
                for table in section {
                    let table = table.map_err(|e| invalid(e.to_string()))?;
                    if table.ty.initial > limits::TABLE_ELEMENTS_MAX as u64 {
                        return Err(invalid(format!(
                            "initial table of {} elements; the limit is {}",
                            table.ty.initial,
                            limits::TABLE_ELEMENTS_MAX
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    let counted = [
        ("functions", functions, limits::FUNCTIONS_MAX),
        ("imports", imports, limits::IMPORTS_MAX),
    ];
    for (what, count, max) in counted {
        if count > max {
            return Err(invalid(format!("{count} {what}; the limit is {max}")));
        }
    }
    Ok(())
}

fn check_body(body: &wasmparser::FunctionBody<'_>) -> Result<(), ContractError> {
    let invalid = |why: String| ContractError::InvalidModule(why);
    let bytes = body.range().len();
    if bytes > limits::FUNCTION_BODY_BYTES_MAX {
        return Err(invalid(format!(
            "a function body of {bytes} bytes; the limit is {}",
            limits::FUNCTION_BODY_BYTES_MAX
        )));
    }
    let mut locals = 0u32;
    let reader = body
        .get_locals_reader()
        .map_err(|e| invalid(e.to_string()))?;
    for entry in reader {
        let (count, _) = entry.map_err(|e| invalid(e.to_string()))?;
        locals = locals.saturating_add(count);
        if locals > limits::LOCALS_PER_FUNCTION_MAX {
            return Err(invalid(format!(
                "a function with more than {} locals",
                limits::LOCALS_PER_FUNCTION_MAX
            )));
        }
    }
    Ok(())
}
