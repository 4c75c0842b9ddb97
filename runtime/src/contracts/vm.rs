//! The Wasm sandbox: one wasmtime engine configured for deterministic, bounded
//! execution, a cache of linked modules, and a fresh store per call.
//!
//! Determinism: NaNs canonicalised, no threads, SIMD or relaxed SIMD, fuel metering
//! (not time) bounds work. Bounds: fuel per call and per block ([`BlockFuel`]: calls
//! and deploy-time compiles draw on one budget), linear memory, the call stack
//! (counted by the module's own code, `instrument.rs`, and run on stacks the engine
//! allocates), module size and the counts `wasm_check.rs` bounds, contract
//! storage; instances come
//! from a pool, and a call waits for a free slot rather than fail for want of one
//! (a busy node is never a verdict on a transaction).
//! Everything a call changes is journaled in the store's host state and returned;
//! the caller applies it only if the call succeeded.

use super::abi::{self, HostError, HostState};
use super::error::ContractError;
use super::instrument;
use super::model::Direction;
use super::wasm_check::{self, WasmFeatures};
use crate::types::{Hash32, SubjectId};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use wasmtime::{
    Config, Engine, Instance, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store, StoreLimitsBuilder, Trap,
};

/// Consensus limits: every validator must use the same ones.
pub mod limits {
    /// Fuel (roughly, Wasm instructions) one call may burn.
    pub const FUEL_PER_CALL: u64 = 20_000_000;
    /// Linear memory one instance may grow to.
    pub const MEMORY_BYTES_MAX: usize = 16 * 1024 * 1024;
    /// Stack slots (8 bytes each) one call's frames may hold at once, counted
    /// by the module's own code (`instrument.rs`, [`super::wasm_check::Frame`]),
    /// the same on every machine: 512 KiB.
    pub const STACK_SLOTS_MAX: u32 = 65_536;
    /// Slots every frame takes besides its values: return address, frame
    /// pointer, saved registers.
    pub const FRAME_BASE_SLOTS: u32 = 8;
    /// Slots one function's frame may take (refused at deploy past it): the
    /// frame that crosses [`STACK_SLOTS_MAX`] has taken its native stack
    /// before its count is checked, so the native stack must hold both.
    pub const FRAME_SLOTS_MAX: u32 = 32_768;
    /// Defined tables, data segments, element segments, globals and types a
    /// module may declare: the engine sizes each instance's context from them,
    /// and a module past the pool's per-instance bounds would fail to compile
    /// on every node. Well above what a compiler emits for a contract.
    pub const TABLES_MAX: u32 = 1;
    pub const SEGMENTS_MAX: u32 = 1_024;
    pub const GLOBALS_MAX: u32 = 1_024;
    pub const TYPES_MAX: u32 = 1_024;
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

/// Native stack wasm code may use: eight times the bytes of the slots the
/// counted limit lets a call reach (the limit, plus the one frame that crosses
/// it), so the counted limit is met first.
const NATIVE_STACK_BYTES: usize =
    8 * 8 * (limits::STACK_SLOTS_MAX as usize + limits::FRAME_SLOTS_MAX as usize);
/// Native stack left for host functions above the deepest wasm frame.
const HOST_STACK_BYTES: usize = 1024 * 1024;
/// Instances the pool keeps ready; also the number of concurrent calls.
pub(super) const POOLED_INSTANCES: u32 = 16;
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
    /// Compiled at deploy validation, not yet written to the precompiled store
    /// (with the key to write them under): written at the first call (a
    /// refused deployment is never called).
    unsaved: HashMap<Hash32, String>,
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
/// compatibility hash and the hash of the metered code compiled (hex digits
/// and `-`: safe as a file name). The node keeps them on disk; the runtime
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

/// The engine accepts exactly the protocol's Wasm features
/// ([`wasm_check::FEATURES`]), so a module that passed the deterministic check
/// fails to compile only for this node's own reasons. Threads need wasmtime's
/// `threads` feature, which this build does not include; compilation runs on
/// the calling thread (no `parallel-compilation` feature).
///
/// Calls run on stacks the engine allocates (the `async` API, [`on_own_stack`]),
/// not on the calling thread's: contracts run on tokio's threads, scoped
/// admission threads and test threads alike, whose stacks this crate does not
/// size, and a wasm stack deeper than its thread's would crash the process.
pub(super) fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_features(WasmFeatures::all().difference(wasm_check::FEATURES), false)
        .wasm_features(wasm_check::FEATURES, true)
        .consume_fuel(true)
        .cranelift_nan_canonicalization(true)
        .max_wasm_stack(NATIVE_STACK_BYTES)
        .async_stack_size(NATIVE_STACK_BYTES + HOST_STACK_BYTES);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOLED_INSTANCES)
        .total_memories(POOLED_INSTANCES)
        .total_tables(POOLED_INSTANCES)
        .total_stacks(POOLED_INSTANCES)
        .max_memory_size(limits::MEMORY_BYTES_MAX)
        .table_elements(limits::TABLE_ELEMENTS_MAX);
    keep_slots_resident(&mut pool);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// After a call, a slot's first [`SLOT_RESIDENT_BYTES`] of linear memory and
/// first [`TABLE_RESIDENT_BYTES`] of table (or all of either, if smaller) stay
/// mapped and are reset by rewriting every byte of them (the module's initial
/// image, zeros elsewhere); only what lies past them goes back to the kernel
/// (`madvise`). Either way the next call sees the module's initial memory
/// whatever the kernel did with the pages meanwhile (swapped, migrated): the
/// rewrite does not ask which pages were written. Wasmtime's `PAGEMAP_SCAN` reset, which
/// would rewrite only the written pages, is held off explicitly: in 48.0.8 it
/// skips a written page that is not present at the scan (wasmtime PR 14357).
///
/// Why: `madvise` in a process whose threads run on several cores makes the
/// kernel flush the other cores' TLBs (an interrupt each), and the next call
/// faults its pages back in; a profile of a node committing escrow calls
/// (2026-12-06) had that decommit at about 8 % of the node's CPU.
fn keep_slots_resident(pool: &mut PoolingAllocationConfig) {
    pool.pagemap_scan(wasmtime::Enabled::No)
        .linear_memory_keep_resident(SLOT_RESIDENT_BYTES)
        .table_keep_resident(TABLE_RESIDENT_BYTES);
}

/// Linear memory a slot keeps mapped: one Wasm page, so a contract built with
/// the workspace's 32 KiB stack (`.cargo/config.toml`) and up to 32 KiB of data
/// is reset in place. Every call pays a rewrite of up to this much, used or
/// not: a contract built with rustc's default 1 MiB stack rarely touches the
/// bottom of it and pays the rewrite and the `madvise` of the rest, 11-13 %
/// more time per sandbox call than with no page kept (2026-12-06, interleaved:
/// 83,995 and 83,293 calls/s against 94,751 and 92,523; 15-17 % at two pages).
pub const SLOT_RESIDENT_BYTES: usize = 65_536;
/// Table bytes a slot keeps mapped: one host page, 512 function references.
const TABLE_RESIDENT_BYTES: usize = 4096;

#[cfg(test)]
impl Vm {
    /// Bytes of linear memory the pool's idle slots keep mapped.
    pub(super) fn idle_memory_bytes_resident(&self) -> usize {
        self.engine
            .pooling_allocator_metrics()
            .map_or(0, |pool| pool.unused_memory_bytes_resident())
    }

    /// Bytes of table the pool's idle slots keep mapped.
    pub(super) fn idle_table_bytes_resident(&self) -> usize {
        self.engine
            .pooling_allocator_metrics()
            .map_or(0, |pool| pool.unused_table_bytes_resident())
    }
}

impl Vm {
    pub fn new() -> Result<Vm, String> {
        Vm::with_engine_config(&engine_config())
    }

    /// A sandbox on an engine configured otherwise (tests: a small native stack).
    pub(super) fn with_engine_config(config: &Config) -> Result<Vm, String> {
        let engine = Engine::new(config).map_err(|e| format!("wasm engine: {e}"))?;
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

    /// Where a module's compiled code is kept: the engine and the very bytes
    /// compiled (the metered module), so a change to the meter, its limits or
    /// the check never loads code compiled under the old ones.
    fn precompiled_key(&self, metered: &[u8]) -> String {
        format!("{}-{}", self.compatibility, blake3::hash(metered).to_hex())
    }

    /// Compiles prepared code ([`instrument::prepare`]). A failure here is
    /// this node's (see [`Vm::validate`]).
    fn compile(&self, metered: &[u8]) -> Result<Module, String> {
        Module::new(&self.engine, metered).map_err(|e| format!("{e:#}"))
    }

    /// A compiled module: its code from state, prepared again (a few linear
    /// passes), then from the precompiled store if it holds these metered
    /// bytes for this engine, else compiled and saved there.
    fn module(
        &self,
        code_hash: &Hash32,
        code: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Result<Module, ContractError> {
        let bytes = code().ok_or_else(|| {
            ContractError::InvalidModule(format!("code {code_hash} missing from state"))
        })?;
        let metered = instrument::prepare(&bytes)?;
        let key = self.precompiled_key(&metered);
        if let Some(bytes) = self.precompiled.as_ref().and_then(|store| store.load(&key)) {
            // SAFETY: the bytes were produced by `Module::serialize` on an engine with
            // the same compatibility hash (it is in the key) and kept in the node's own
            // data directory; wasmtime re-checks the header before using them.
            if let Ok(module) = unsafe { Module::deserialize(&self.engine, &bytes) } {
                return Ok(module);
            }
        }
        let module = self
            .compile(&metered)
            .map_err(ContractError::InvalidModule)?;
        if let (Some(store), Ok(compiled)) = (self.precompiled.as_ref(), module.serialize()) {
            store.save(&key, &compiled);
        }
        Ok(module)
    }

    /// Deploy-time validation. The verdict comes from [`instrument::prepare`]
    /// ([`wasm_check::check`]: bounds, validation against the protocol's
    /// features, exports; then the stack meter written in and the result
    /// validated), the same on every validator. Then it is compiled, which can fail
    /// only for this node's reasons (memory, a W^X policy): that is
    /// [`ContractError::NodeLocal`], never a refusal. Last, its imports are
    /// linked against `tamga_v1`, whose names and types this release fixes: an
    /// import it does not define is a refusal, the same on every node. A
    /// module that passes is kept in the memory cache (the first call does not
    /// compile it again); none is written to disk here, so refused deployments
    /// leave nothing behind. The caller charges the compile's fuel
    /// ([`deploy_fuel`]) first.
    pub fn validate(&self, code_hash: &Hash32, code: &[u8]) -> Result<(), ContractError> {
        let metered = instrument::prepare(code)?;
        if self.cache().modules.contains_key(code_hash) {
            return Ok(());
        }
        let local = |why: String| {
            ContractError::NodeLocal(format!("compiling a checked module {code_hash}: {why}"))
        };
        let module = self.compile(&metered).map_err(local)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| ContractError::InvalidModule(format!("{e:#}")))?;
        self.keep(code_hash, pre, Some(self.precompiled_key(&metered)));
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
            if let (Some(key), Some(store)) = (unsaved, self.precompiled.as_ref()) {
                if let Ok(compiled) = pre.module().serialize() {
                    store.save(&key, &compiled);
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
        self.keep(code_hash, pre.clone(), None);
        Ok(pre)
    }

    /// Keeps a linked module in the bounded memory cache (`unsaved`: not yet in
    /// the precompiled store, and the key to save it under).
    fn keep(&self, code_hash: &Hash32, pre: InstancePre<HostState>, unsaved: Option<String>) {
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
        if let Some(key) = unsaved {
            cache.unsaved.insert(*code_hash, key);
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
    /// less, and spends what it burned (also when it fails). wasmtime charges
    /// bulk instructions (`memory.fill`, `table.copy`, ...) per unit of their
    /// length, so their fuel bounds their work too. A missing optional hook
    /// (`init`, `on_deposit`) is a successful no-op; any other missing export
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

/// Instantiates and runs `export` on a stack of the engine's; a missing
/// optional hook does nothing. A trap while the stack meter's count is past
/// its limit is that limit.
fn run_export(
    pre: &InstancePre<HostState>,
    store: &mut Store<HostState>,
    export: &str,
) -> Result<(), ContractError> {
    on_own_stack(async {
        let instance = pre
            .instantiate_async(&mut *store)
            .await
            .map_err(|e| classify(e, store))?;
        let slots = instance
            .get_global(&mut *store, instrument::DEPTH_EXPORT)
            .ok_or_else(|| {
                ContractError::NodeLocal("a compiled module without its stack meter".into())
            })?;
        let result = call_export(&instance, store, export).await;
        let used = slots.get(&mut *store).i32().unwrap_or(0);
        match result {
            Err(ContractError::Trap(_)) if used > limits::STACK_SLOTS_MAX as i32 => {
                Err(ContractError::StackExhausted {
                    max: limits::STACK_SLOTS_MAX,
                })
            }
            result => result,
        }
    })
}

/// Drives a call to the end on this thread. wasmtime runs the wasm inside on
/// a fiber with a stack of [`NATIVE_STACK_BYTES`] + [`HOST_STACK_BYTES`]; no
/// host function is async and fuel never yields, so the first poll finishes it.
fn on_own_stack<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

async fn call_export(
    instance: &Instance,
    store: &mut Store<HostState>,
    export: &str,
) -> Result<(), ContractError> {
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
    func.call_async(&mut *store, ())
        .await
        .map_err(|e| classify(e, store))
}

/// Maps a failed instantiation or call to the rule it broke. Traps and host
/// refusals are the contract's doing, the same on every node; anything else (no
/// memory to map, say) is this node's trouble and never a verdict. So is the
/// native stack running out: the counted stack ([`limits::STACK_SLOTS_MAX`])
/// is met long before it on every machine, so reaching it means this node's
/// compiled code uses more than the margin allows.
fn classify(error: wasmtime::Error, store: &Store<HostState>) -> ContractError {
    if let Some(host) = error.downcast_ref::<HostError>() {
        return host.clone().into();
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ContractError::OutOfFuel(limits::FUEL_PER_CALL),
        Some(Trap::StackOverflow) => ContractError::NodeLocal(format!(
            "the native stack ran out before the counted limit: {error:#}"
        )),
        Some(trap) => ContractError::Trap(trap.to_string()),
        None if store.data().aborted.is_some() => {
            ContractError::Aborted(store.data().aborted.clone().unwrap_or_default())
        }
        None => ContractError::NodeLocal(format!("{error:#}")),
    }
}
