//! The stack meter, written into a module's code so that it counts the same
//! on every machine.
//!
//! wasmtime's own stack limit counts native bytes, which differ between
//! machines, compilers and builds; a call that overflowed on one validator and
//! not on another would split them. So every defined function adds its frame's
//! slots ([`Frame::slots`]) to a depth global on entry, traps when the depth
//! passes [`limits::STACK_SLOTS_MAX`], and takes them off on the way out. The
//! native limit is set far above what that depth can use, and reaching it is
//! this node's trouble, never a verdict (`vm.rs`).
//!
//! How: the body is wrapped in a block of the function's result types, every
//! `return` becomes a branch out of that block (so there is one way out, where
//! the depth is given back), and the global is added after the module's own
//! (no index moves) and exported under a [`RESERVED_EXPORT_PREFIX`] name so
//! the host can tell the meter's trap from the contract's own.

use super::error::ContractError;
use super::vm::limits;
use super::wasm_check::{self, Checked, Frame, RESERVED_EXPORT_PREFIX};
use wasm_encoder::reencode::{utils, Error, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, GlobalSection,
    GlobalType, Instruction, SectionId, TypeSection, ValType,
};
use wasmparser::{FuncType, Operator, Parser, Payload, TypeRef, Validator, WasmFeatures};

/// The rewrite knows blocks, loops and ifs as the only constructs that open a
/// label, and `return` as the only way out besides branches and the end:
/// exceptions (`try_table`), tail calls (`return_call`), typed function
/// references (`return_call_ref`) and stack switching would add others.
const _: () = assert!(!wasm_check::FEATURES.intersects(
    WasmFeatures::EXCEPTIONS
        .union(WasmFeatures::LEGACY_EXCEPTIONS)
        .union(WasmFeatures::TAIL_CALL)
        .union(WasmFeatures::FUNCTION_REFERENCES)
        .union(WasmFeatures::GC)
        .union(WasmFeatures::STACK_SWITCHING)
));
/// The export of the depth global (`i32`, slots in use).
pub const DEPTH_EXPORT: &str = "tamga:stack_slots";

/// The code every validator compiles for a deployed `code`: checked
/// ([`wasm_check::check`]), metered, and the metered module validated again.
/// Each step is a function of the bytes alone, so a failure of any is the same
/// refusal on every node; only compiling the result can fail for this node's
/// own reasons. (Validating the output turns a fault of the meter itself on
/// some unforeseen module into a refused deployment, not a module no node can
/// compile.)
pub fn prepare(code: &[u8]) -> Result<Vec<u8>, ContractError> {
    let invalid = ContractError::InvalidModule;
    let checked = wasm_check::check(code)?;
    let metered = instrument(code, &checked).map_err(|e| invalid(format!("metering: {e}")))?;
    Validator::new_with_features(wasm_check::FEATURES)
        .validate_all(&metered)
        .map_err(|e| invalid(format!("the metered module does not validate: {e}")))?;
    Ok(metered)
}

/// `code` (which passed [`wasm_check::check`] as `checked`) with the stack
/// meter written in. Custom sections (names, debug info) are left out: they do
/// not change what runs, and a malformed name section would otherwise stop the
/// rewrite.
fn instrument(code: &[u8], checked: &Checked) -> Result<Vec<u8>, String> {
    let mut meters = Meters::scan(code, checked).map_err(|e| e.to_string())?;
    let mut module = wasm_encoder::Module::new();
    meters
        .parse_core_module(&mut module, Parser::new(0), code)
        .map_err(|e| format!("{e:?}"))?;
    if meters.next_function != checked.frames.len() {
        return Err("the module's function bodies differ from the checked ones".into());
    }
    Ok(module.finish())
}

struct Meters<'c> {
    frames: &'c [Frame],
    types: Vec<FuncType>,
    /// Type index of each defined function.
    func_types: Vec<u32>,
    /// Per type index: the index of the added `[] -> results` type a
    /// multi-value function's wrapping block uses.
    block_types: Vec<Option<u32>>,
    added_types: Vec<Vec<wasmparser::ValType>>,
    /// Index of the depth global.
    depth_global: u32,
    next_function: usize,
    globals_added: bool,
    exports_added: bool,
}

impl<'c> Meters<'c> {
    /// What the rewrite needs to know before the sections it rewrites.
    fn scan(code: &[u8], checked: &'c Checked) -> wasmparser::Result<Meters<'c>> {
        let (mut types, mut func_types, mut globals) = (Vec::new(), Vec::new(), 0u32);
        for payload in Parser::new(0).parse_all(code) {
            match payload? {
                Payload::TypeSection(section) => {
                    for ty in section.into_iter_err_on_gc_types() {
                        types.push(ty?);
                    }
                }
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        globals += matches!(import?.ty, TypeRef::Global(_)) as u32;
                    }
                }
                Payload::FunctionSection(section) => {
                    for ty in section {
                        func_types.push(ty?);
                    }
                }
                Payload::GlobalSection(section) => globals += section.count(),
                _ => {}
            }
        }
        let (mut block_types, mut added_types) = (Vec::new(), Vec::new());
        for ty in &types {
            let results = ty.results();
            block_types.push((results.len() > 1).then(|| {
                added_types.push(results.to_vec());
                (types.len() + added_types.len() - 1) as u32
            }));
        }
        Ok(Meters {
            frames: &checked.frames,
            types,
            func_types,
            block_types,
            added_types,
            depth_global: globals,
            next_function: 0,
            globals_added: false,
            exports_added: false,
        })
    }

    fn add_globals(&mut self, globals: &mut GlobalSection) {
        let depth = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(depth, &ConstExpr::i32_const(0));
        self.globals_added = true;
    }

    fn add_exports(&mut self, exports: &mut ExportSection) {
        assert!(DEPTH_EXPORT.starts_with(RESERVED_EXPORT_PREFIX));
        exports.export(DEPTH_EXPORT, ExportKind::Global, self.depth_global);
        self.exports_added = true;
    }

    fn block_type(&mut self, type_index: u32) -> Result<BlockType, Error<String>> {
        let ty = self
            .types
            .get(type_index as usize)
            .ok_or(Error::UserError("a function's type is out of range".into()))?;
        Ok(
            match (ty.results(), self.block_types[type_index as usize]) {
                ([], _) => BlockType::Empty,
                ([one], _) => BlockType::Result(self.val_type(*one)?),
                (_, Some(added)) => BlockType::FunctionType(added),
                (_, None) => unreachable!("every multi-value type has an added block type"),
            },
        )
    }
}

/// Where a section sits in a module (the order the binary format requires).
fn rank(id: SectionId) -> u8 {
    use SectionId::*;
    match id {
        Custom => 0,
        Type => 1,
        Import => 2,
        Function => 3,
        Table => 4,
        Memory => 5,
        Tag => 6,
        Global => 7,
        Export => 8,
        Start => 9,
        Element => 10,
        DataCount => 11,
        Code => 12,
        Data => 13,
    }
}

impl Reencode for Meters<'_> {
    type Error = String;

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        Ok(())
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        utils::parse_type_section(self, types, section)?;
        for results in self.added_types.clone() {
            let results: Vec<ValType> = results
                .into_iter()
                .map(|ty| self.val_type(ty))
                .collect::<Result<_, _>>()?;
            types.ty().function([], results);
        }
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        utils::parse_global_section(self, globals, section)?;
        self.add_globals(globals);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        utils::parse_export_section(self, exports, section)?;
        self.add_exports(exports);
        Ok(())
    }

    /// A module without a global or export section gets one where it belongs.
    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), Error<String>> {
        let past = |id| before.is_none_or(|before| rank(before) > rank(id));
        if !self.globals_added && past(SectionId::Global) {
            let mut globals = GlobalSection::new();
            self.add_globals(&mut globals);
            module.section(&globals);
        }
        if !self.exports_added && past(SectionId::Export) {
            let mut exports = ExportSection::new();
            self.add_exports(&mut exports);
            module.section(&exports);
        }
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), Error<String>> {
        let index = self.next_function;
        self.next_function += 1;
        let (Some(frame), Some(&type_index)) = (self.frames.get(index), self.func_types.get(index))
        else {
            return Err(Error::UserError(
                "more bodies than checked functions".into(),
            ));
        };
        let mut function = self.new_function_with_parsed_locals(&body)?;
        let depth = self.depth_global;
        enter(&mut function, depth, frame.slots);
        function.instruction(&Instruction::Block(self.block_type(type_index)?));
        let mut nesting = 0u32;
        let mut operators = body.get_operators_reader()?;
        while !operators.eof() {
            let operator = operators.read()?;
            match &operator {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    nesting += 1
                }
                Operator::End if nesting == 0 => {
                    function.instruction(&Instruction::End);
                    leave(&mut function, depth, frame.slots);
                    function.instruction(&Instruction::End);
                    continue;
                }
                Operator::End => nesting -= 1,
                Operator::Return => {
                    function.instruction(&Instruction::Br(nesting));
                    continue;
                }
                _ => {}
            }
            function.instruction(&self.instruction(operator)?);
        }
        code.function(&function);
        Ok(())
    }
}

/// Adds the frame's slots to the depth; traps past the limit.
fn enter(function: &mut Function, depth: u32, slots: u32) {
    use Instruction::*;
    let limit = limits::STACK_SLOTS_MAX as i32;
    for instruction in [
        GlobalGet(depth),
        I32Const(slots as i32),
        I32Add,
        GlobalSet(depth),
        GlobalGet(depth),
        I32Const(limit),
        I32GtU,
        If(BlockType::Empty),
        Unreachable,
        End,
    ] {
        function.instruction(&instruction);
    }
}

/// Gives the frame's slots back on the way out.
fn leave(function: &mut Function, depth: u32, slots: u32) {
    use Instruction::*;
    for instruction in [
        GlobalGet(depth),
        I32Const(slots as i32),
        I32Sub,
        GlobalSet(depth),
    ] {
        function.instruction(&instruction);
    }
}
