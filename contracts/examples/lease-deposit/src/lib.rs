//! Lease security deposit, the arbitration example: the tenant deposits a security
//! (e.g. a money claim); the landlord may refund it at any time. After the lease
//! ends the landlord may claim it: the claim opens a window of `CLAIM_WINDOW`
//! blocks in which the tenant can dispute it (which freezes the contract until the
//! arbiters rule); after the window the landlord collects.
//!
//! Init arguments (72 bytes): landlord (32) ‖ tenant (32) ‖ lease end height (u64 LE).
//! Calls (input): `refund`, `claim`, `collect`. Query output: `[deposit in, claimed]`.

#![no_std]

use tamga_sdk::{self as sdk, Id};

const ARGS: &[u8] = b"args";
const DEPOSIT: &[u8] = b"deposit";
const CLAIMED_AT: &[u8] = b"claimed_at";
/// Blocks the tenant has to dispute a claim.
const CLAIM_WINDOW: u64 = 5;

struct Terms {
    landlord: Id,
    tenant: Id,
    end_height: u64,
}

fn terms() -> Terms {
    let mut buf = [0u8; 72];
    let args = sdk::storage_get(ARGS, &mut buf).unwrap_or_else(|| sdk::abort("not initialised"));
    Terms {
        landlord: sdk::id_at(args, 0),
        tenant: sdk::id_at(args, 32),
        end_height: sdk::u64_at(args, 64),
    }
}

fn deposit_or_abort() -> Id {
    sdk::storage_get_id(DEPOSIT).unwrap_or_else(|| sdk::abort("no deposit is held"))
}

#[no_mangle]
pub extern "C" fn init() {
    let mut buf = [0u8; 72];
    let args = sdk::input(&mut buf);
    if args.len() != 72 {
        sdk::abort("init arguments must be 72 bytes");
    }
    sdk::storage_set(ARGS, args);
}

#[no_mangle]
pub extern "C" fn on_deposit() {
    let terms = terms();
    let deposit = sdk::deposit();
    if deposit.depositor != terms.tenant || sdk::storage_has(DEPOSIT) {
        sdk::abort("only the tenant deposits the security, once");
    }
    sdk::storage_set(DEPOSIT, &deposit.record);
}

#[no_mangle]
pub extern "C" fn call() {
    let terms = terms();
    if sdk::caller() != terms.landlord {
        sdk::abort("only the landlord calls this contract; the tenant disputes");
    }
    let mut buf = [0u8; 16];
    let height = sdk::block_height();
    match sdk::input(&mut buf) {
        b"refund" => {
            sdk::transfer(&deposit_or_abort(), &terms.tenant, None);
            sdk::storage_remove(DEPOSIT);
            sdk::emit(b"refunded");
        }
        b"claim" => {
            if height <= terms.end_height {
                sdk::abort("the lease has not ended");
            }
            deposit_or_abort();
            sdk::storage_set(CLAIMED_AT, &height.to_le_bytes());
            sdk::emit(b"claimed");
        }
        b"collect" => {
            let mut at = [0u8; 8];
            let claimed_at = sdk::storage_get(CLAIMED_AT, &mut at).map(|b| sdk::u64_at(b, 0));
            match claimed_at {
                Some(at) if height > at + CLAIM_WINDOW => {}
                Some(_) => sdk::abort("the tenant's dispute window is still open"),
                None => sdk::abort("claim first"),
            }
            sdk::transfer(&deposit_or_abort(), &terms.landlord, None);
            sdk::storage_remove(DEPOSIT);
            sdk::emit(b"collected");
        }
        _ => sdk::abort("unknown call: expected refund, claim or collect"),
    }
}

#[no_mangle]
pub extern "C" fn query() {
    sdk::output(&[
        sdk::storage_has(DEPOSIT) as u8,
        sdk::storage_has(CLAIMED_AT) as u8,
    ]);
}
