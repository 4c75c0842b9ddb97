//! The sandbox against hostile and ordinary modules, without a ledger around it.

use super::abi::HOST_BYTE_FUEL;
use super::vm::{deploy_fuel, limits};
use super::*;
use crate::types::{Hash32, SubjectId};
use std::collections::BTreeMap;

pub(super) const PRELUDE: &str = r#"
  (import "tamga_v1" "input_len" (func $input_len (result i32)))
  (import "tamga_v1" "input_read" (func $input_read (param i32)))
  (import "tamga_v1" "output" (func $output (param i32 i32)))
  (import "tamga_v1" "abort" (func $abort (param i32 i32)))
  (import "tamga_v1" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i32)))
  (import "tamga_v1" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "tamga_v1" "transfer" (func $transfer (param i32 i32 i64) (result i32)))
  (import "tamga_v1" "block_height" (func $block_height (result i64)))
  (memory (export "memory") 1)
"#;

pub(super) fn module(body: &str) -> Vec<u8> {
    wat::parse_str(format!("(module {PRELUDE} {body})")).expect("test WAT parses")
}

pub(super) fn env(read_only: bool) -> CallEnv {
    CallEnv {
        caller: SubjectId([1; 32]),
        parties: vec![SubjectId([1; 32])],
        height: 7,
        time_ms: 1,
        input: b"hello".to_vec(),
        storage: BTreeMap::new(),
        holdings: vec![Hash32([5; 32])],
        read_only,
        condo: None,
    }
}

pub(super) fn hash_of(code: &[u8]) -> Hash32 {
    Hash32(*blake3::hash(code).as_bytes())
}

pub(super) fn run(vm: &Vm, code: &[u8], read_only: bool) -> Result<CallOutcome, ContractError> {
    run_with(vm, code, env(read_only), &BlockFuel::block())
}

pub(super) fn run_with(
    vm: &Vm,
    code: &[u8],
    env: CallEnv,
    fuel: &BlockFuel,
) -> Result<CallOutcome, ContractError> {
    let hash = hash_of(code);
    vm.validate(&hash, code)?;
    vm.invoke(&hash, || Some(code.to_vec()), "call", env, fuel)
}

#[test]
fn echo_storage_and_transfer_are_journaled() {
    let vm = Vm::new().unwrap();
    let code = module(
        r#"(data (i32.const 100) "k")
           (data (i32.const 200) "\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05")
           (func (export "call")
             (call $input_read (i32.const 0))
             (call $storage_set (i32.const 100) (i32.const 1) (i32.const 0) (call $input_len))
             (drop (call $transfer (i32.const 200) (i32.const 0) (i64.const -1)))
             (call $output (i32.const 0) (call $input_len)))"#,
    );
    let outcome = run(&vm, &code, false).unwrap();
    assert_eq!(outcome.output, b"hello");
    assert_eq!(
        outcome.storage.get(b"k".as_slice()),
        Some(&b"hello".to_vec())
    );
    assert_eq!(outcome.transfers.len(), 1);
    assert_eq!(outcome.transfers[0].record, Hash32([5; 32]));
    assert!(outcome.fuel_used > 0);
    assert_eq!(
        run(&vm, &code, true).unwrap_err().reason(),
        "contract.read_only"
    );
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let vm = Vm::new().unwrap();
    let code = module(r#"(func (export "call") (loop $l (br $l)))"#);
    assert_eq!(
        run(&vm, &code, false).unwrap_err(),
        ContractError::OutOfFuel(limits::FUEL_PER_CALL)
    );
}

#[test]
fn memory_growth_is_capped() {
    let vm = Vm::new().unwrap();
    // Grows until refused, then traps on purpose if growth ever exceeded the cap.
    let code = module(&format!(
        r#"(func (export "call")
             (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
             (if (i32.gt_u (memory.size) (i32.const {})) (then unreachable)))"#,
        limits::MEMORY_BYTES_MAX / 65536
    ));
    run(&vm, &code, false).unwrap();
    // A module that asks for more memory up front is refused at deploy.
    let huge_initial =
        wat::parse_str(r#"(module (memory (export "memory") 60000) (func (export "call")))"#)
            .unwrap();
    assert_eq!(
        run(&vm, &huge_initial, false).unwrap_err().reason(),
        "contract.invalid_module"
    );
}

#[test]
fn bad_modules_are_refused_at_deploy() {
    let vm = Vm::new().unwrap();
    let invalid = |code: &[u8]| vm.validate(&hash_of(code), code).unwrap_err().reason();
    assert_eq!(invalid(b"\0asm garbage"), "contract.invalid_module");
    assert_eq!(
        invalid(&vec![0u8; limits::MODULE_BYTES_MAX + 1]),
        "contract.invalid_module"
    );
    let no_call = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
    assert!(vm
        .validate(&hash_of(&no_call), &no_call)
        .unwrap_err()
        .to_string()
        .contains("call"));
    let no_memory = wat::parse_str(r#"(module (func (export "call")))"#).unwrap();
    assert!(vm
        .validate(&hash_of(&no_memory), &no_memory)
        .unwrap_err()
        .to_string()
        .contains("memory"));
    let foreign = wat::parse_str(r#"(module (import "env" "clock" (func)) (memory (export "memory") 1) (func (export "call")))"#).unwrap();
    assert_eq!(invalid(&foreign), "contract.invalid_module");
    let simd = module(r#"(func (export "call") (drop (v128.const i64x2 0 0)))"#);
    assert_eq!(invalid(&simd), "contract.invalid_module");
    let many: String = (0..=limits::FUNCTIONS_MAX).map(|_| "(func)").collect();
    assert_eq!(
        invalid(&module(&format!(r#"{many} (func (export "call"))"#))),
        "contract.invalid_module"
    );
}

#[test]
fn abort_carries_its_message() {
    let vm = Vm::new().unwrap();
    let code = module(
        r#"(data (i32.const 0) "no deal") (func (export "call") (call $abort (i32.const 0) (i32.const 7)))"#,
    );
    assert_eq!(
        run(&vm, &code, false).unwrap_err(),
        ContractError::Aborted("no deal".into())
    );
}

#[test]
fn nan_results_are_canonical() {
    let vm = Vm::new().unwrap();
    // 0/0 yields a NaN whose bits would be platform-specific without
    // canonicalisation; store the raw bits as output.
    let code = module(
        r#"(func (export "call")
             (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0)))
             (f32.store (i32.const 8) (f32.sqrt (f32.const -1)))
             (call $output (i32.const 0) (i32.const 12)))"#,
    );
    let output = run(&vm, &code, false).unwrap().output;
    assert_eq!(&output[..8], &0x7ff8_0000_0000_0000u64.to_le_bytes());
    assert_eq!(&output[8..], &0x7fc0_0000u32.to_le_bytes());
}

#[derive(Default, Clone)]
struct MemoryStore(
    std::sync::Arc<std::sync::Mutex<BTreeMap<String, Vec<u8>>>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
);

impl PrecompiledStore for MemoryStore {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        let found = self.0.lock().unwrap().get(key).cloned();
        if found.is_some() {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        found
    }
    fn save(&self, key: &str, bytes: &[u8]) {
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
        self.0
            .lock()
            .unwrap()
            .insert(key.to_owned(), bytes.to_vec());
    }
}

#[test]
fn compiled_modules_persist_in_the_precompiled_store() {
    let store = MemoryStore::default();
    let code = module(r#"(func (export "call") (call $output (i32.const 0) (i32.const 2)))"#);
    let hash = Hash32([3; 32]);
    let first = Vm::new().unwrap().with_precompiled(Box::new(store.clone()));
    first.validate(&hash, &code).unwrap();
    assert!(
        store.0.lock().unwrap().is_empty(),
        "validation writes nothing: a refused deployment leaves nothing on disk"
    );
    let call = |vm: &Vm| {
        vm.invoke(
            &hash,
            || Some(code.clone()),
            "call",
            env(false),
            &BlockFuel::block(),
        )
        .unwrap()
    };
    call(&first);
    assert_eq!(store.0.lock().unwrap().len(), 1, "compiled once, saved");
    // A new engine (a restarted node) runs it without compiling: from the
    // store, keyed by the metered code it compiled.
    let second = Vm::new().unwrap().with_precompiled(Box::new(store.clone()));
    assert_eq!(call(&second).output.len(), 2);
    assert_eq!(store.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    let metered = super::instrument::prepare(&code).unwrap();
    let metered_hash = blake3::hash(&metered).to_hex().to_string();
    assert!(store
        .0
        .lock()
        .unwrap()
        .keys()
        .all(|k| k.ends_with(&metered_hash)));
}

/// A three-instruction loop over a host call that copies a large input: every
/// call is paid for by the byte, so it runs out of fuel like any other loop, in
/// milliseconds, instead of copying for ever on a budget that counts only
/// instructions.
#[test]
fn a_loop_over_a_host_call_pays_for_every_byte_it_copies() {
    let vm = Vm::new().unwrap();
    let code =
        module(r#"(func (export "call") (loop $l (call $input_read (i32.const 0)) (br $l)))"#);
    let mut big = env(false);
    big.input = vec![7; limits::HOST_IO_BYTES_MAX];
    let fuel = BlockFuel::block();
    let error = run_with(&vm, &code, big, &fuel).unwrap_err();
    assert_eq!(error, ContractError::OutOfFuel(limits::FUEL_PER_CALL));
    assert_eq!(
        fuel.left(),
        limits::BLOCK_FUEL_MAX - limits::FUEL_PER_CALL,
        "the failed call's fuel is spent from the block's budget"
    );
    // Copies per call, bounded by the byte price: at most FUEL_PER_CALL / input bytes.
    let copies_max = limits::FUEL_PER_CALL / (limits::HOST_IO_BYTES_MAX as u64 * HOST_BYTE_FUEL);
    assert!(copies_max < 400, "{copies_max} copies of 64 KiB per call");
}

#[test]
fn storage_size_is_kept_as_it_changes_and_capped() {
    let vm = Vm::new().unwrap();
    // Overwrites one key with 60,000 bytes many times (fits: the old value is
    // replaced, not added), then writes a second key that does not fit.
    let code = module(
        r#"(data (i32.const 0) "ab")
           (func (export "call") (local $i i32)
             (loop $l
               (call $storage_set (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 60000))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get $i) (i32.const 50))))
             (call $storage_set (i32.const 1) (i32.const 1) (i32.const 8) (i32.const 8000)))"#,
    );
    assert_eq!(
        run(&vm, &code, false).unwrap_err().reason(),
        "contract.storage_full"
    );
    let fits = module(
        r#"(func (export "call") (local $i i32)
             (loop $l
               (call $storage_set (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 60000))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get $i) (i32.const 50)))))"#,
    );
    let outcome = run(&vm, &fits, false).unwrap();
    assert_eq!(outcome.storage.len(), 1);
    assert!(
        outcome.fuel_used > 50 * 60_000 * HOST_BYTE_FUEL,
        "each write paid for its bytes: {}",
        outcome.fuel_used
    );
}

/// The block's budget, not the call's own limit, ends a call that would overdraw
/// it: a distinct error, so a proposer closes its block there instead of
/// refusing the transaction.
#[test]
fn a_call_past_the_blocks_fuel_budget_is_the_blocks_limit_not_the_calls() {
    let vm = Vm::new().unwrap();
    let spin = module(r#"(func (export "call") (loop $l (br $l)))"#);
    let fuel = BlockFuel::new(1_000_000);
    assert_eq!(
        run_with(&vm, &spin, env(false), &fuel)
            .unwrap_err()
            .reason(),
        "contract.block_fuel_exhausted"
    );
    assert_eq!(fuel.left(), 0);
    let cheap = module(r#"(func (export "call"))"#);
    assert_eq!(
        run_with(&vm, &cheap, env(false), &fuel)
            .unwrap_err()
            .reason(),
        "contract.block_fuel_exhausted",
        "nothing runs on an empty budget"
    );
}

/// Compile work is bounded before anything is compiled: one huge function, or
/// one with a huge number of locals, is refused from the bytes alone.
#[test]
fn modules_whose_compile_would_be_costly_are_refused_before_compiling() {
    let vm = Vm::new().unwrap();
    let nops = "(nop)".repeat(limits::FUNCTION_BODY_BYTES_MAX + 1);
    let huge_body = module(&format!(r#"(func (export "call") {nops})"#));
    let error = vm.validate(&hash_of(&huge_body), &huge_body).unwrap_err();
    assert!(error.to_string().contains("function body"), "{error}");
    let locals = format!(
        r#"(func (export "call") (local {}))"#,
        "i64 ".repeat(limits::LOCALS_PER_FUNCTION_MAX as usize + 1)
    );
    let many_locals = module(&locals);
    let error = vm
        .validate(&hash_of(&many_locals), &many_locals)
        .unwrap_err();
    assert!(error.to_string().contains("locals"), "{error}");
    assert!(deploy_fuel(&vec![0; limits::MODULE_BYTES_MAX]) < limits::BLOCK_FUEL_MAX);
}

/// With every instance slot taken, a call waits for one to be given back
/// instead of failing (a busy node must never turn into a verdict on a call);
/// once one is free it runs.
#[test]
fn a_call_waits_for_a_free_instance_slot_instead_of_failing() {
    let vm = std::sync::Arc::new(Vm::new().unwrap());
    let code = module(r#"(func (export "call"))"#);
    let hash = hash_of(&code);
    vm.validate(&hash, &code).unwrap();
    let held = vm.hold_every_slot();
    let caller = vm.clone();
    let call = std::thread::spawn(move || {
        caller
            .invoke(&hash, || None, "call", env(false), &BlockFuel::block())
            .map(|_| ())
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !call.is_finished(),
        "the call must wait while no slot is free"
    );
    drop(held);
    assert_eq!(call.join().unwrap(), Ok(()));
}

/// Each call starts from the module's own memory, whatever the calls before it
/// wrote or grew in the pool's slot it reuses: a guard on the pool's settings.
/// (Keeping slots mapped and resetting only the pages the kernel's
/// `PAGEMAP_SCAN` reports written was measured and not adopted: the scan skips
/// a written page that is swapped out or migrating at that moment, so a later
/// call could read an earlier call's bytes, and a validator compute another
/// result than the others.)
#[test]
fn a_call_sees_the_modules_initial_memory_whatever_earlier_calls_wrote() {
    let vm = Vm::new().unwrap();
    let code = wat::parse_str(
        r#"(module
             (import "tamga_v1" "output" (func $output (param i32 i32)))
             (memory (export "memory") 2)
             (data (i32.const 100) "k")
             (func (export "call")
               (i32.store8 (i32.const 300) (i32.load8_u (i32.const 100)))
               (i32.store8 (i32.const 301) (i32.load8_u (i32.const 70000)))
               (i32.store8 (i32.const 302) (memory.size))
               (i32.store8 (i32.const 303) (i32.load8_u (i32.const 304)))
               (drop (memory.grow (i32.const 1)))
               (i32.store8 (i32.const 305) (i32.load8_u (i32.const 131077)))
               (call $output (i32.const 300) (i32.const 6))
               (i32.store8 (i32.const 100) (i32.const 88))
               (i32.store8 (i32.const 70000) (i32.const 9))
               (i32.store8 (i32.const 304) (i32.const 5))
               (i32.store8 (i32.const 131077) (i32.const 7))))"#,
    )
    .expect("test WAT parses");
    let slots = super::vm::POOLED_INSTANCES as usize;
    for call in 0..3 * slots {
        let outcome = run(&vm, &code, false).unwrap();
        assert_eq!(outcome.output, [b'k', 0, 2, 0, 0, 0], "call {call}");
    }
}

/// After a call its slot keeps the module's memory and table mapped, up to
/// [`super::vm::SLOT_RESIDENT_BYTES`] and one page of table, rather than
/// handing them back to the kernel: `madvise` after every call flushes every
/// other core's TLB. (Linux only: elsewhere wasmtime keeps no memory.)
#[cfg(target_os = "linux")]
#[test]
fn a_slot_keeps_up_to_its_resident_bytes_of_memory_mapped_after_a_call() {
    let one_page = module(r#"(table 3 funcref) (func (export "call"))"#);
    let vm = Vm::new().unwrap();
    assert_eq!(vm.idle_memory_bytes_resident(), 0, "no call yet");
    run(&vm, &one_page, false).unwrap();
    assert_eq!(
        vm.idle_memory_bytes_resident(),
        65_536,
        "the one page stays"
    );
    assert_eq!(
        vm.idle_table_bytes_resident(),
        4096,
        "the table's page stays"
    );

    let grown = module(r#"(func (export "call") (drop (memory.grow (i32.const 7))))"#);
    let vm = Vm::new().unwrap();
    run(&vm, &grown, false).unwrap();
    assert_eq!(
        vm.idle_memory_bytes_resident(),
        super::vm::SLOT_RESIDENT_BYTES,
        "of eight pages, only the resident one stays"
    );
}
