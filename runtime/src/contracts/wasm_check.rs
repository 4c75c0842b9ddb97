//! What a deployed module must be, decided the same way on every validator.
//! Art. 67 p.2 lets terms be "expressed in software code, provided that such
//! code allows for the unambiguous determination of the parties' rights and
//! obligations": code whose acceptance, or whose call's outcome, depended on
//! the machine running it would not.
//!
//! A deployment's verdict is a consensus rule, so it comes only from checks
//! whose answer depends on the bytes alone: size and count bounds read before
//! anything else (compile work grows with them), then full validation against
//! the protocol's fixed Wasm feature set ([`FEATURES`]) with the wasmparser
//! version pinned in Cargo.lock, then the exports the ABI needs. Whether this
//! node's compiler then manages to compile the module (memory, a W^X policy) is
//! this node's trouble and never a verdict (see `vm.rs`).
//!
//! Validation also measures, for each function, the stack slots one frame of it
//! takes ([`Frame::slots`]), which the stack meter (`instrument.rs`) charges
//! the same way on every machine.

use super::error::ContractError;
use super::vm::limits;
use wasmparser::{FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator};

pub use wasmparser::WasmFeatures;

/// The Wasm features the protocol accepts, and exactly those the engine is
/// configured with: Wasm 1.0 (floats, mutable globals) and what Rust's wasm32
/// target emits by default — multi-value, sign extension, non-trapping
/// float-to-int, bulk memory, reference types (`funcref` tables). No SIMD,
/// threads, tail calls, exceptions, GC types, memory64 or multi-memory.
pub const FEATURES: WasmFeatures = WasmFeatures::FLOATS
    .union(WasmFeatures::MUTABLE_GLOBAL)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::REFERENCE_TYPES);

/// Export names the stack meter uses; a module may not export any of its own.
pub const RESERVED_EXPORT_PREFIX: &str = "tamga:";

/// One defined function, as the stack meter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Stack slots (8 bytes each) one activation may take: a fixed
    /// [`limits::FRAME_BASE_SLOTS`] for the return address and saved
    /// registers, one per parameter and local, and one per value any
    /// instruction of the body produces. Not the operand stack's highest
    /// point: the compiler merges equal expressions and hoists them out of
    /// loops, so a value may live far longer than on the Wasm stack, and each
    /// value kept across a call takes a native spill slot of its own. Every
    /// value having a slot of its own is the bound that holds whatever the
    /// compiler does.
    pub slots: u32,
}

/// A module that passed: the frames of its defined functions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub frames: Vec<Frame>,
}

fn invalid(why: impl std::fmt::Display) -> ContractError {
    ContractError::InvalidModule(why.to_string())
}

/// Checks `code` for deployment; see the module doc.
pub fn check(code: &[u8]) -> Result<Checked, ContractError> {
    if code.len() > limits::MODULE_BYTES_MAX {
        return Err(invalid(format!(
            "{} bytes; the limit is {}",
            code.len(),
            limits::MODULE_BYTES_MAX
        )));
    }
    check_shape(code)?;
    let mut validator = Validator::new_with_features(FEATURES);
    let mut frames = Vec::new();
    let mut allocations = FuncValidatorAllocations::default();
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(invalid)?;
        match &payload {
            Payload::StartSection { .. } => {
                return Err(invalid(
                    "a start function; a contract's setup runs in its `init` export",
                ))
            }
            Payload::ExportSection(section) => check_exports(section.clone())?,
            _ => {}
        }
        match validator.payload(&payload).map_err(invalid)? {
            ValidPayload::Func(func, body) => {
                let (frame, reused) = measure(func, &body, allocations)?;
                allocations = reused;
                frames.push(frame);
            }
            ValidPayload::Parser(_) => return Err(invalid("a nested module or component")),
            ValidPayload::Ok | ValidPayload::End(_) => {}
        }
    }
    Ok(Checked { frames })
}

/// Validates one function body operator by operator, measuring its frame.
fn measure(
    func: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    body: &wasmparser::FunctionBody<'_>,
    allocations: FuncValidatorAllocations,
) -> Result<(Frame, FuncValidatorAllocations), ContractError> {
    let mut validator = func.into_validator(allocations);
    validator
        .read_locals(&mut body.get_binary_reader())
        .map_err(invalid)?;
    let mut operators = body.get_operators_reader().map_err(invalid)?;
    let mut values = 0u32;
    while !operators.eof() {
        let (operator, offset) = operators.read_with_offset().map_err(invalid)?;
        let pushed = operator
            .operator_arity(&validator.visitor(offset))
            .map_or(1, |(_, results)| results);
        values = values.saturating_add(pushed);
        validator.op(offset, &operator).map_err(invalid)?;
    }
    operators.finish().map_err(invalid)?;
    if validator.control_stack_height() != 0 {
        return Err(invalid("a function body ends inside a block"));
    }
    let slots = limits::FRAME_BASE_SLOTS
        .saturating_add(validator.len_locals())
        .saturating_add(values);
    if slots > limits::FRAME_SLOTS_MAX {
        return Err(invalid(format!(
            "a function whose frame takes {slots} stack slots; the limit is {}",
            limits::FRAME_SLOTS_MAX
        )));
    }
    Ok((Frame { slots }, validator.into_allocations()))
}

/// The ABI's exports (`memory`, and `call` of type `[] -> []` is checked at
/// the call) are present; no export takes a name the stack meter uses.
fn check_exports(section: wasmparser::ExportSectionReader<'_>) -> Result<(), ContractError> {
    let mut found = [false; 2];
    for export in section {
        let export = export.map_err(invalid)?;
        if export.name.starts_with(RESERVED_EXPORT_PREFIX) {
            return Err(invalid(format!(
                "export {:?}: names starting {RESERVED_EXPORT_PREFIX:?} are the sandbox's",
                export.name
            )));
        }
        let kind = (export.name, export.kind);
        found[0] |= kind == ("memory", wasmparser::ExternalKind::Memory);
        found[1] |= kind == ("call", wasmparser::ExternalKind::Func);
    }
    for (name, found) in ["memory", "call"].into_iter().zip(found) {
        if !found {
            return Err(invalid(format!("missing export {name:?}")));
        }
    }
    Ok(())
}

/// Reads the module's sections before anything is validated or compiled:
/// function and import counts, each body's size and locals (what compile work
/// grows with), the counts the engine sizes an instance from, and the initial
/// memory and table sizes (so a valid module always compiles and
/// instantiates within the engine's pool).
fn check_shape(code: &[u8]) -> Result<(), ContractError> {
    let (mut functions, mut imports, mut exports) = (0u32, 0u32, false);
    let (mut tables, mut segments, mut globals, mut types) = (0u32, 0u32, 0u32, 0u32);
    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(invalid)? {
            Payload::FunctionSection(section) => {
                functions = functions.saturating_add(section.count())
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.map_err(invalid)?;
                    if !matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                        return Err(invalid(format!(
                            "import {:?} is not a function: tamga_v1 provides functions only",
                            import.name
                        )));
                    }
                    imports = imports.saturating_add(1);
                }
            }
            Payload::DataSection(section) => segments = segments.saturating_add(section.count()),
            Payload::ElementSection(section) => segments = segments.saturating_add(section.count()),
            Payload::GlobalSection(section) => globals = globals.saturating_add(section.count()),
            Payload::TypeSection(section) => types = types.saturating_add(section.count()),
            Payload::ExportSection(_) => exports = true,
            Payload::CodeSectionEntry(body) => check_body(&body)?,
            Payload::MemorySection(section) => {
                for memory in section {
                    let memory = memory.map_err(invalid)?;
                    if memory.initial > limits::MEMORY_PAGES_MAX {
                        return Err(invalid(format!(
                            "initial memory of {} pages; the limit is {}",
                            memory.initial,
                            limits::MEMORY_PAGES_MAX
                        )));
                    }
                }
            }
            Payload::TableSection(section) => {
                tables = tables.saturating_add(section.count());
                for table in section {
                    let table = table.map_err(invalid)?;
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
        ("tables", tables, limits::TABLES_MAX),
        ("data and element segments", segments, limits::SEGMENTS_MAX),
        ("globals", globals, limits::GLOBALS_MAX),
        ("types", types, limits::TYPES_MAX),
    ];
    for (what, count, max) in counted {
        if count > max {
            return Err(invalid(format!("{count} {what}; the limit is {max}")));
        }
    }
    if !exports {
        return Err(invalid("missing export \"call\""));
    }
    Ok(())
}

fn check_body(body: &wasmparser::FunctionBody<'_>) -> Result<(), ContractError> {
    let bytes = body.range().len();
    if bytes > limits::FUNCTION_BODY_BYTES_MAX {
        return Err(invalid(format!(
            "a function body of {bytes} bytes; the limit is {}",
            limits::FUNCTION_BODY_BYTES_MAX
        )));
    }
    let mut locals = 0u32;
    for entry in body.get_locals_reader().map_err(invalid)? {
        let (count, _) = entry.map_err(invalid)?;
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
