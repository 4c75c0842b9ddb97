//! `tamga-sdk`: the `tamga_v1` host interface for contracts written in Rust.
//!
//! A contract is a `cdylib` built for `wasm32-unknown-unknown` that exports
//! `call` (required) and optionally `init` (runs once, when every party has
//! accepted, with the init arguments as input), `on_deposit` (runs when a party
//! deposits an asset; see [`deposit`]) and `query` (read-only, over RPC). Every
//! export takes and returns nothing: input and output go through this interface.
//!
//! No allocator is needed: data is read into buffers the contract provides.

#![no_std]

mod sys {
    #[link(wasm_import_module = "tamga_v1")]
    extern "C" {
        pub fn input_len() -> i32;
        pub fn input_read(ptr: *mut u8);
        pub fn output(ptr: *const u8, len: i32);
        pub fn abort(ptr: *const u8, len: i32) -> !;
        pub fn storage_get(kptr: *const u8, klen: i32, vptr: *mut u8, vcap: i32) -> i32;
        pub fn storage_set(kptr: *const u8, klen: i32, vptr: *const u8, vlen: i32);
        pub fn storage_remove(kptr: *const u8, klen: i32);
        pub fn caller(ptr: *mut u8);
        pub fn parties_len() -> i32;
        pub fn party(index: i32, ptr: *mut u8) -> i32;
        pub fn block_height() -> i64;
        pub fn block_time_ms() -> i64;
        pub fn emit(ptr: *const u8, len: i32);
        pub fn transfer(record_ptr: *const u8, to_ptr: *const u8, amount: i64) -> i32;
        pub fn log(ptr: *const u8, len: i32);
        pub fn condo_denominator() -> i64;
        pub fn condo_share(subject_ptr: *const u8) -> i64;
        pub fn condo_proposal_kind(proposal: i64) -> i32;
        pub fn condo_approve(proposal: i64) -> i32;
    }
}

/// A 32-byte id: a subject (a party, the caller), a record id, a class id.
pub type Id = [u8; 32];

/// Fails the call with `message`; nothing the call did is kept.
pub fn abort(message: &str) -> ! {
    unsafe { sys::abort(message.as_ptr(), message.len() as i32) }
}

/// Reads the call's input into `buf`; aborts if it does not fit.
pub fn input(buf: &mut [u8]) -> &[u8] {
    let len = unsafe { sys::input_len() } as usize;
    if len > buf.len() {
        abort("input larger than the contract's buffer");
    }
    unsafe { sys::input_read(buf.as_mut_ptr()) };
    &buf[..len]
}

/// Sets the call's return data.
pub fn output(data: &[u8]) {
    unsafe { sys::output(data.as_ptr(), data.len() as i32) }
}

/// Reads `key` into `buf`; `None` if absent. Aborts if the value does not fit.
pub fn storage_get<'a>(key: &[u8], buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let len = unsafe {
        sys::storage_get(
            key.as_ptr(),
            key.len() as i32,
            buf.as_mut_ptr(),
            buf.len() as i32,
        )
    };
    if len < 0 {
        return None;
    }
    if len as usize > buf.len() {
        abort("stored value larger than the contract's buffer");
    }
    Some(&buf[..len as usize])
}

pub fn storage_set(key: &[u8], value: &[u8]) {
    unsafe {
        sys::storage_set(
            key.as_ptr(),
            key.len() as i32,
            value.as_ptr(),
            value.len() as i32,
        )
    }
}

pub fn storage_remove(key: &[u8]) {
    unsafe { sys::storage_remove(key.as_ptr(), key.len() as i32) }
}

/// Whether `key` is stored.
pub fn storage_has(key: &[u8]) -> bool {
    unsafe { sys::storage_get(key.as_ptr(), key.len() as i32, core::ptr::null_mut(), 0) >= 0 }
}

/// Reads a stored 32-byte id.
pub fn storage_get_id(key: &[u8]) -> Option<Id> {
    let mut buf = [0u8; 32];
    let value = storage_get(key, &mut buf)?;
    if value.len() != 32 {
        abort("stored id is not 32 bytes");
    }
    Some(buf)
}

/// The subject calling: the one its certified key speaks for (rights belong to
/// subjects, not keys, so a party keeps its place when its key is replaced).
pub fn caller() -> Id {
    let mut key = [0u8; 32];
    unsafe { sys::caller(key.as_mut_ptr()) };
    key
}

pub fn parties_len() -> usize {
    unsafe { sys::parties_len() as usize }
}

pub fn party(index: usize) -> Option<Id> {
    let mut key = [0u8; 32];
    let found = unsafe { sys::party(index as i32, key.as_mut_ptr()) } == 0;
    found.then_some(key)
}

pub fn block_height() -> u64 {
    unsafe { sys::block_height() as u64 }
}

pub fn block_time_ms() -> u64 {
    unsafe { sys::block_time_ms() as u64 }
}

/// Emits an event, indexed with the transaction.
pub fn emit(data: &[u8]) {
    unsafe { sys::emit(data.as_ptr(), data.len() as i32) }
}

/// Moves a record the instance holds to `to` (`amount` of a fungible holding, or
/// the whole record). Applied after the call succeeds, under the record rules.
/// Returns false if the instance does not hold `record`.
pub fn transfer(record: &Id, to: &Id, amount: Option<u64>) -> bool {
    let amount = amount.map(|a| a as i64).unwrap_or(-1);
    unsafe { sys::transfer(record.as_ptr(), to.as_ptr(), amount) == 0 }
}

/// The denominator of the condominium this instance governs (every share is a
/// numerator over it), or 0 if it governs none.
pub fn condo_denominator() -> u64 {
    unsafe { sys::condo_denominator() as u64 }
}

/// The numerator of `subject`'s share in the governed condominium now (0 for a
/// non-participant).
pub fn condo_share(subject: &Id) -> u64 {
    unsafe { sys::condo_share(subject.as_ptr()) as u64 }
}

/// The kind of open proposal `number` of the governed condominium (0 use, 1
/// lease or pledge, 2 sale or termination, 3 admission, 4 change of the
/// agreement, 5 dissolution), or `None` if it is not open (never made, carried
/// out, or past its deadline).
pub fn condo_proposal_kind(number: u64) -> Option<u8> {
    let kind = unsafe { sys::condo_proposal_kind(number as i64) };
    u8::try_from(kind).ok()
}

/// Approves proposal `number` of the governed condominium: the ledger carries
/// the decision out after the call succeeds (the call fails if it cannot).
/// Returns false if this instance governs no condominium.
pub fn condo_approve(number: u64) -> bool {
    unsafe { sys::condo_approve(number as i64) == 0 }
}

/// A debug line for developers; never part of consensus state.
pub fn log(message: &str) {
    unsafe { sys::log(message.as_ptr(), message.len() as i32) }
}

/// What `on_deposit` receives.
pub struct Deposit {
    pub depositor: Id,
    pub record: Id,
    /// All zeros for a unique object.
    pub class: Id,
    /// 1 for a unique object.
    pub amount: u64,
}

/// Parses the input of `on_deposit`.
pub fn deposit() -> Deposit {
    let mut buf = [0u8; 104];
    let data = input(&mut buf);
    if data.len() != 104 {
        abort("on_deposit input must be 104 bytes");
    }
    Deposit {
        depositor: id_at(data, 0),
        record: id_at(data, 32),
        class: id_at(data, 64),
        amount: u64_at(data, 96),
    }
}

/// The 32-byte id at `offset` of `data`; aborts if out of range.
pub fn id_at(data: &[u8], offset: usize) -> Id {
    match data.get(offset..offset + 32) {
        Some(bytes) => {
            let mut id = [0u8; 32];
            id.copy_from_slice(bytes);
            id
        }
        None => abort("input too short for an id"),
    }
}

/// The little-endian u64 at `offset` of `data`; aborts if out of range.
pub fn u64_at(data: &[u8], offset: usize) -> u64 {
    match data.get(offset..offset + 8) {
        Some(bytes) => {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(bytes);
            u64::from_le_bytes(raw)
        }
        None => abort("input too short for a u64"),
    }
}

#[cfg(all(feature = "panic-handler", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    abort("contract panicked")
}
