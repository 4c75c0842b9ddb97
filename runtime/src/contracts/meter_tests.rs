//! The meters written into every module (`instrument.rs`) and the
//! deterministic deployment check (`wasm_check.rs`): the same limits met at the
//! same point on every machine, and modules that mean what they meant.

use super::vm::{engine_config, limits};
use super::vm_tests::{env, hash_of, module, run, run_with};
use super::wasm_check::{self, Frame};
use super::*;

/// `call` reads n from its input and recurses n times through `$f`.
fn recursion() -> Vec<u8> {
    module(
        r#"(func $f (param i32)
             (if (local.get 0) (then (call $f (i32.sub (local.get 0) (i32.const 1))))))
           (func (export "call")
             (call $input_read (i32.const 0))
             (call $f (i32.load (i32.const 0))))"#,
    )
}

fn recurse(vm: &Vm, code: &[u8], depth: u32) -> Result<CallOutcome, ContractError> {
    let mut env = env(false);
    env.input = depth.to_le_bytes().to_vec();
    run_with(vm, code, env, &BlockFuel::block())
}

/// The stack limit is counted by the module itself: a recursion one frame
/// deeper than the slots allow is refused, one frame less runs, on any machine
/// (the native stack would allow far more: without the meter both run).
#[test]
fn recursion_stops_at_the_counted_stack_limit_exactly() {
    let code = recursion();
    let frames = wasm_check::check(&code).unwrap().frames;
    // $f: 8 base + 1 parameter + 4 values (two local.get, i32.const, i32.sub);
    // `call`: 8 + 0 + 3 values (two i32.const, i32.load).
    let slots = |frame: &Frame| frame.slots;
    assert_eq!(frames.iter().map(slots).collect::<Vec<_>>(), [13, 11]);
    // `call` once, then $f for n, n-1, ..., 0.
    let deepest = (limits::STACK_SLOTS_MAX - 11) / 13 - 1;
    let vm = Vm::new().unwrap();
    recurse(&vm, &code, deepest).unwrap();
    let error = recurse(&vm, &code, deepest + 1).unwrap_err();
    assert_eq!(
        error,
        ContractError::StackExhausted {
            max: limits::STACK_SLOTS_MAX
        }
    );
    assert_eq!(error.reason(), "contract.stack_exhausted");
    // Each call starts from an empty stack: the failed one left nothing behind.
    recurse(&vm, &code, deepest).unwrap();
}

/// A frame is charged for every value its body produces, not the Wasm
/// operand stack's height: the compiler keeps a value computed before a call
/// and used again after it (merged, not recomputed) in a spill slot of its
/// own, so this function's native frame is ~1,500 values deep while its
/// operand stack is 3 high. Charged by height it would recurse ~5,000 times,
/// some 60 MB of native stack: this node's failure on every node, a chain
/// halt for the cost of one call.
#[test]
fn values_kept_across_a_call_are_charged_to_the_frame() {
    let stores = |from: usize| -> String {
        (from..from + 1_500)
            .map(|k| {
                format!(
                    "(i64.store offset={} (i32.const 0) (i64.mul (local.get 0) (i64.const {})))",
                    8 * (k % 4_000),
                    k + 3
                )
            })
            .collect()
    };
    let code = module(&format!(
        r#"(func $f (param i64) {} (call $f (local.get 0)) {})
           (func (export "call") (call $f (i64.const 7)))"#,
        stores(0),
        stores(0)
    ));
    let frames = wasm_check::check(&code).unwrap().frames;
    assert!(frames[0].slots > 12_000, "{:?}", frames[0]);
    let error = run(&Vm::new().unwrap(), &code, false).unwrap_err();
    assert_eq!(error.reason(), "contract.stack_exhausted", "{error}");
}

/// Running out of native stack before the counted limit would mean this
/// node's compiled code is larger than the margin allows: its trouble, never a
/// verdict on the call.
#[test]
fn a_native_stack_overflow_is_this_nodes_failure_not_a_verdict() {
    let mut config = engine_config();
    config.max_wasm_stack(16 * 1024);
    let vm = Vm::with_engine_config(&config).unwrap();
    let code = recursion();
    let error = recurse(&vm, &code, 4_000).unwrap_err();
    assert_eq!(error.reason(), "node.local_failure", "{error}");
    assert!(error.to_string().contains("native stack"), "{error}");
}

/// Every way out of a function gives its slots back — `return`, a branch to
/// the function's own label, falling off the end — and multi-value results
/// arrive unchanged: 3,000 rounds of each would pass the limit otherwise.
#[test]
fn every_way_out_of_a_function_keeps_its_results_and_gives_its_slots_back() {
    let code = module(
        r#"(func $pair (param i32) (result i32 i32)
             (if (i32.eqz (local.get 0)) (then (return (i32.const 1) (i32.const 2))))
             (if (i32.eq (local.get 0) (i32.const 1)) (then (br 1 (i32.const 3) (i32.const 4))))
             (block (result i32 i32)
               (br_table 0 1 (i32.const 5) (i32.const 6) (i32.sub (local.get 0) (i32.const 2)))))
           (func $put (param i32 i32 i32)
             (i32.store (local.get 0) (local.get 1))
             (i32.store (i32.add (local.get 0) (i32.const 4)) (local.get 2)))
           (func (export "call") (local $i i32)
             (loop $again
               (call $put (i32.const 0) (call $pair (i32.const 0)))
               (call $put (i32.const 8) (call $pair (i32.const 1)))
               (call $put (i32.const 16) (call $pair (i32.const 2)))
               (call $put (i32.const 24) (call $pair (i32.const 3)))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $again (i32.lt_u (local.get $i) (i32.const 3000))))
             (call $output (i32.const 0) (i32.const 32)))"#,
    );
    let output = run(&Vm::new().unwrap(), &code, false).unwrap().output;
    let words: Vec<u32> = output
        .chunks(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    // $pair(2) leaves the block by the br_table's first target and falls off
    // the end; $pair(3) branches to the function's own label.
    assert_eq!(words, [1, 2, 3, 4, 5, 6, 5, 6]);
}

fn fuel_of(body: &str) -> u64 {
    run(&Vm::new().unwrap(), &module(body), false)
        .unwrap()
        .fuel_used
}

/// wasmtime charges `memory.fill`/`copy` and `table.fill` one unit of fuel
/// per byte or element of their length, so their fuel bounds their work (a
/// flat unit each would make a loop of 64 KiB fills cost ~6 fuel per fill).
/// An engine upgrade that changed this would fail here.
#[test]
fn bulk_memory_and_table_instructions_pay_for_their_length() {
    let fill = |n: u32| {
        fuel_of(&format!(
            r#"(func (export "call") (memory.fill (i32.const 0) (i32.const 1) (i32.const {n})))"#
        ))
    };
    assert_eq!(fill(65_536) - fill(0), 65_536);
    let copy = |n: u32| {
        fuel_of(&format!(
            r#"(func (export "call") (memory.copy (i32.const 0) (i32.const 8) (i32.const {n})))"#
        ))
    };
    assert_eq!(copy(4_096) - copy(0), 4_096);
    let table = |n: u32| {
        fuel_of(&format!(
            r#"(table 1000 funcref)
               (func (export "call") (table.fill 0 (i32.const 0) (ref.null func) (i32.const {n})))"#
        ))
    };
    assert!(table(1_000) - table(0) >= 1_000);
}

/// The features the protocol accepts compile on the engine; the ones it does
/// not are refused by the deterministic check, and by the engine too.
#[test]
fn the_check_and_the_engine_accept_the_same_features() {
    let accepted = [
        r#"(func $two (result i32 i32) (i32.const 1) (i32.const 2))
           (func (export "call") (drop (i32.add (call $two))))"#,
        r#"(func (export "call") (drop (i32.extend8_s (i32.const 255))))"#,
        r#"(func (export "call") (drop (i32.trunc_sat_f32_s (f32.const 1e10))))"#,
        r#"(func (export "call") (memory.copy (i32.const 0) (i32.const 1) (i32.const 2)))"#,
        r#"(table 2 funcref) (elem declare func $g) (type $t (func))
           (func $g) (func (export "call") (table.set 0 (i32.const 1) (ref.func $g))
             (call_indirect (type $t) (i32.const 1)))"#,
    ];
    let vm = Vm::new().unwrap();
    for body in accepted {
        let code = module(body);
        vm.validate(&hash_of(&code), &code)
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        run(&vm, &code, false).unwrap_or_else(|e| panic!("{body}: {e}"));
    }
    let refused = [
        r#"(func (export "call") (drop (v128.const i64x2 0 0)))"#,
        r#"(func $f (return_call $f)) (func (export "call") (call $f))"#,
        r#"(memory $two 1) (func (export "call") (drop (i32.load $two (i32.const 0))))"#,
        r#"(func (export "call") (drop (i32.atomic.load (i32.const 0))))"#,
        r#"(tag $e) (func (export "call") (throw $e))"#,
        r#"(func (export "call") (local externref))"#,
    ];
    let engine = wasmtime::Engine::new(&engine_config()).unwrap();
    for body in refused {
        let code = module(body);
        let error = wasm_check::check(&code).unwrap_err();
        assert_eq!(error.reason(), "contract.invalid_module", "{body}");
        assert!(wasmtime::Module::new(&engine, &code).is_err(), "{body}");
    }
}

/// A deployment's verdict never depends on whether this node's compiler
/// managed: what passes the check and fails to compile here is this node's
/// failure.
#[test]
fn a_compile_failure_after_the_check_is_this_nodes_not_a_verdict() {
    // An engine without bulk memory compiles less than the protocol accepts,
    // as a node whose compiler fails for its own reasons would.
    let mut config = engine_config();
    config.wasm_bulk_memory(false);
    let vm = Vm::with_engine_config(&config).unwrap();
    let code =
        module(r#"(func (export "call") (memory.fill (i32.const 0) (i32.const 0) (i32.const 1)))"#);
    wasm_check::check(&code).unwrap();
    let error = vm.validate(&hash_of(&code), &code).unwrap_err();
    assert_eq!(error.reason(), "node.local_failure", "{error}");
}

#[test]
fn start_functions_and_the_meters_export_names_are_refused() {
    let invalid = |body: &str| wasm_check::check(&module(body)).unwrap_err().to_string();
    let start = invalid(r#"(func $s) (start $s) (func (export "call"))"#);
    assert!(start.contains("start function"), "{start}");
    let reserved =
        invalid(r#"(global (export "tamga:x") i32 (i32.const 0)) (func (export "call"))"#);
    assert!(reserved.contains("tamga:"), "{reserved}");
}

/// Custom sections do not change what runs: a malformed name section (which
/// validation does not read) is left out of the metered module rather than
/// stop its rewrite.
#[test]
fn a_malformed_name_section_does_not_stop_a_deployment() {
    let mut code = module(r#"(func (export "call"))"#);
    let payload = [4, b'n', b'a', b'm', b'e', 1, 0x7f, 0xff, 0xff];
    code.push(0);
    code.push(payload.len() as u8);
    code.extend_from_slice(&payload);
    wasm_check::check(&code).unwrap();
    run(&Vm::new().unwrap(), &code, false).unwrap();
}

/// A call runs on a stack the engine allocates, not its thread's: the deepest
/// recursion the counted limit allows runs on a thread with 128 KiB of stack
/// (on the thread's own stack it would overflow it and abort the process).
#[test]
fn calls_run_on_the_engines_stack_not_the_threads() {
    let code = recursion();
    let deepest = (limits::STACK_SLOTS_MAX - 11) / 13 - 1;
    let vm = Vm::new().unwrap();
    vm.validate(&hash_of(&code), &code).unwrap();
    let ran = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn_scoped(scope, || recurse(&vm, &code, deepest).map(|_| ()))
            .unwrap()
            .join()
            .unwrap()
    });
    ran.unwrap();
}

/// One function's frame is bounded at deploy: the frame that crosses the
/// call's limit has its native stack before its count is checked.
#[test]
fn a_function_whose_frame_alone_passes_the_bound_is_refused() {
    let chain = "i32.eqz ".repeat(limits::FRAME_SLOTS_MAX as usize);
    let code = module(&format!(
        r#"(func (export "call") i32.const 0 {chain} drop)"#
    ));
    let error = wasm_check::check(&code).unwrap_err().to_string();
    assert!(error.contains("stack slots"), "{error}");
}

/// The largest module the check lets through in every dimension compiles
/// and runs on the engine: what the pool bounds (tables, segments, globals,
/// types, functions, imports, memory) can never fail a checked module on
/// every node.
#[test]
fn the_largest_module_the_check_allows_compiles_and_runs() {
    let imports: String = (0..limits::IMPORTS_MAX)
        .map(|i| format!(r#"(import "tamga_v1" "input_len" (func $i{i} (result i32)))"#))
        .collect();
    // One type fewer than the limit: the imports' `[] -> [i32]` is the last.
    let types: String = (1..limits::TYPES_MAX)
        .map(|i| format!("(type $t{i} (func))"))
        .collect();
    let half = limits::SEGMENTS_MAX / 2;
    let data: String = (0..half).map(|_| r#"(data "x")"#).collect();
    let elems: String = (0..half).map(|_| "(elem func $f)").collect();
    let globals: String = (0..limits::GLOBALS_MAX)
        .map(|i| format!("(global $g{i} (mut i64) (i64.const {i}))"))
        .collect();
    let functions: String = (1..limits::FUNCTIONS_MAX).map(|_| "(func)").collect();
    let code = wat::parse_str(format!(
        r#"(module {imports} {types}
             (memory (export "memory") {})
             (table {} funcref)
             {globals} {data} {elems}
             (func $f (export "call") (drop (call $i0)))
             {functions})"#,
        limits::MEMORY_PAGES_MAX,
        limits::TABLE_ELEMENTS_MAX
    ))
    .unwrap();
    assert!(code.len() <= limits::MODULE_BYTES_MAX, "{}", code.len());
    let vm = Vm::new().unwrap();
    vm.validate(&hash_of(&code), &code)
        .unwrap_or_else(|e| panic!("{e}"));
    run(&vm, &code, false).unwrap();
    let two_tables = module(r#"(table 1 funcref) (table 1 funcref) (func (export "call"))"#);
    let error = wasm_check::check(&two_tables).unwrap_err().to_string();
    assert!(error.contains("tables"), "{error}");
}
