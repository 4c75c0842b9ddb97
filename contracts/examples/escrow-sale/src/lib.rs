//! Escrow sale: the seller deposits a title record, the buyer deposits the price
//! (a fungible amount of an agreed class); when both are in, they swap. After the
//! deadline, if the swap has not happened, either party may reclaim: each gets back
//! what they deposited.
//!
//! Init arguments (112 bytes): seller (32) ‖ buyer (32) ‖ price class (32) ‖
//! price amount (u64 LE) ‖ deadline height (u64 LE).
//! Calls: input `reclaim`. Query: any input; output `[item in, price in, done]`.
//! Terms for people: see terms.md beside this file.

#![no_std]

use tamga_sdk::{self as sdk, Id};

const ARGS: &[u8] = b"args";
const ITEM: &[u8] = b"item";
const PRICE: &[u8] = b"price";
const DONE: &[u8] = b"done";

struct Terms {
    seller: Id,
    buyer: Id,
    price_class: Id,
    price_amount: u64,
    deadline_height: u64,
}

fn terms() -> Terms {
    let mut buf = [0u8; 112];
    let args = sdk::storage_get(ARGS, &mut buf).unwrap_or_else(|| sdk::abort("not initialised"));
    Terms {
        seller: sdk::id_at(args, 0),
        buyer: sdk::id_at(args, 32),
        price_class: sdk::id_at(args, 64),
        price_amount: sdk::u64_at(args, 96),
        deadline_height: sdk::u64_at(args, 104),
    }
}

#[no_mangle]
pub extern "C" fn init() {
    let mut buf = [0u8; 112];
    let args = sdk::input(&mut buf);
    if args.len() != 112 {
        sdk::abort("init arguments must be 112 bytes");
    }
    sdk::storage_set(ARGS, args);
}

#[no_mangle]
pub extern "C" fn on_deposit() {
    let terms = terms();
    let deposit = sdk::deposit();
    if sdk::storage_has(DONE) {
        sdk::abort("the sale is settled");
    }
    if deposit.depositor == terms.seller && deposit.class == [0; 32] && !sdk::storage_has(ITEM) {
        sdk::storage_set(ITEM, &deposit.record);
    } else if deposit.depositor == terms.buyer
        && deposit.class == terms.price_class
        && deposit.amount == terms.price_amount
        && !sdk::storage_has(PRICE)
    {
        sdk::storage_set(PRICE, &deposit.record);
    } else {
        sdk::abort(
            "this deposit is not the item from the seller or the exact price from the buyer",
        );
    }
    if let (Some(item), Some(price)) = (sdk::storage_get_id(ITEM), sdk::storage_get_id(PRICE)) {
        sdk::transfer(&item, &terms.buyer, None);
        sdk::transfer(&price, &terms.seller, None);
        sdk::storage_set(DONE, b"swapped");
        sdk::emit(b"swapped");
    }
}

#[no_mangle]
pub extern "C" fn call() {
    let terms = terms();
    let mut buf = [0u8; 16];
    if sdk::input(&mut buf) != b"reclaim" {
        sdk::abort("unknown call: expected `reclaim`");
    }
    if sdk::storage_has(DONE) {
        sdk::abort("the sale is settled");
    }
    if sdk::block_height() <= terms.deadline_height {
        sdk::abort("the deadline has not passed");
    }
    if let Some(item) = sdk::storage_get_id(ITEM) {
        sdk::transfer(&item, &terms.seller, None);
    }
    if let Some(price) = sdk::storage_get_id(PRICE) {
        sdk::transfer(&price, &terms.buyer, None);
    }
    sdk::storage_set(DONE, b"reclaimed");
    sdk::emit(b"reclaimed");
}

#[no_mangle]
pub extern "C" fn query() {
    let state = [
        sdk::storage_has(ITEM) as u8,
        sdk::storage_has(PRICE) as u8,
        sdk::storage_has(DONE) as u8,
    ];
    sdk::output(&state);
}
