//! Condominium governance by contract, the Art. 35 p.3 example: the participants
//! of a digital condominium are this instance's parties, and the condominium
//! names this instance as the one that decides. A participant votes for one of
//! the condominium's proposals (e.g. to lease the shared parking place); when the
//! voters' shares, as they stand at that moment, reach the threshold, the
//! contract approves the proposal and the ledger carries it out in the same
//! transaction. A dispute freezes the instance, and with it every decision,
//! until the arbiters rule.
//!
//! Init arguments (16 bytes): threshold numerator ‖ denominator (u64 LE each),
//! e.g. 2 ‖ 3 for two thirds. Calls (input): `vote` ‖ proposal number (u64 LE).
//! Query (input: proposal number, u64 LE): tally ‖ condominium denominator.

#![no_std]

use tamga_sdk::{self as sdk, Id};

const ARGS: &[u8] = b"args";
/// Voters of one proposal, at most this many (the ledger's participant limit).
const VOTERS_MAX: usize = 64;
const ID_BYTES: usize = 32;

struct Threshold {
    num: u64,
    den: u64,
}

fn threshold() -> Threshold {
    let mut buf = [0u8; 16];
    let args = sdk::storage_get(ARGS, &mut buf).unwrap_or_else(|| sdk::abort("not initialised"));
    Threshold {
        num: sdk::u64_at(args, 0),
        den: sdk::u64_at(args, 8),
    }
}

fn voters_key(proposal: u64) -> [u8; 9] {
    let mut key = [b'v'; 9];
    key[1..].copy_from_slice(&proposal.to_le_bytes());
    key
}

/// The share numerators of `voters` now: a voter who sold its share since it
/// voted counts for what it holds now.
fn tally(voters: &[u8]) -> u64 {
    voters
        .chunks_exact(ID_BYTES)
        .map(|chunk| sdk::condo_share(&sdk::id_at(chunk, 0)))
        .sum()
}

#[no_mangle]
pub extern "C" fn init() {
    let mut buf = [0u8; 16];
    let args = sdk::input(&mut buf);
    if args.len() != 16 {
        sdk::abort("init arguments must be 16 bytes: threshold numerator and denominator");
    }
    let (num, den) = (sdk::u64_at(args, 0), sdk::u64_at(args, 8));
    if num == 0 || den == 0 || num > den {
        sdk::abort("the threshold must be a fraction in (0, 1]");
    }
    sdk::storage_set(ARGS, args);
}

#[no_mangle]
pub extern "C" fn call() {
    let mut input = [0u8; 12];
    let input = sdk::input(&mut input);
    if input.len() != 12 || &input[..4] != b"vote" {
        sdk::abort("unknown call: expected `vote` and a proposal number (u64 LE)");
    }
    let proposal = sdk::u64_at(input, 4);
    if sdk::condo_proposal_kind(proposal).is_none() {
        sdk::abort("no such open proposal: a vote is for a proposal already made and still open");
    }
    let caller: Id = sdk::caller();
    if sdk::condo_share(&caller) == 0 {
        sdk::abort("only a participant holding a share votes");
    }
    let mut buf = [0u8; VOTERS_MAX * ID_BYTES + ID_BYTES];
    let key = voters_key(proposal);
    let held = sdk::storage_get(&key, &mut buf).map_or(0, |v| v.len());
    if buf[..held].chunks_exact(ID_BYTES).any(|v| v == caller) {
        sdk::abort("already voted: a vote is counted once");
    }
    if held >= VOTERS_MAX * ID_BYTES {
        sdk::abort("too many voters");
    }
    buf[held..held + ID_BYTES].copy_from_slice(&caller);
    let voters = &buf[..held + ID_BYTES];
    sdk::storage_set(&key, voters);
    let threshold = threshold();
    let denominator = sdk::condo_denominator();
    let reached = u128::from(tally(voters)) * u128::from(threshold.den)
        >= u128::from(threshold.num) * u128::from(denominator);
    if reached && denominator > 0 {
        if !sdk::condo_approve(proposal) {
            sdk::abort("this instance governs no condominium");
        }
        sdk::emit(b"approved");
    } else {
        sdk::emit(b"voted");
    }
}

#[no_mangle]
pub extern "C" fn query() {
    let mut input = [0u8; 8];
    let input = sdk::input(&mut input);
    if input.len() != 8 {
        sdk::abort("query input: a proposal number (u64 LE)");
    }
    let mut buf = [0u8; VOTERS_MAX * ID_BYTES];
    let voters = sdk::storage_get(&voters_key(sdk::u64_at(input, 0)), &mut buf).unwrap_or(&[]);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&tally(voters).to_le_bytes());
    out[8..].copy_from_slice(&sdk::condo_denominator().to_le_bytes());
    sdk::output(&out);
}
