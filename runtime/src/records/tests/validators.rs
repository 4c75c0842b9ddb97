//! Validator set changes (Art. 26 p.3(2)): only > 2/3 of the current power may
//! change the set, the change waits two heights, and bad sets are refused.

use super::*;
use crate::validators::{promote, set_for_height, Validator, VALIDATOR_SET_DELAY};

fn set(members: &[(u8, u64)]) -> Payload {
    Payload::SetValidators {
        validators: members
            .iter()
            .map(|&(seed, power)| Validator {
                public_key: pk(seed),
                power,
            })
            .collect(),
    }
}

fn keys_of(validators: &[Validator]) -> Vec<PublicKey> {
    validators.iter().map(|v| v.public_key).collect()
}

#[test]
fn more_than_two_thirds_schedules_the_set_two_heights_later() {
    let mut ledger = Ledger::with_validators(&[(10, 1), (11, 1), (12, 1), (13, 1)]);
    ledger.height = 7;
    let five = set(&[(10, 1), (11, 1), (12, 1), (13, 1), (14, 1)]);
    let events = ledger.run(10, five, &[11, 12]).unwrap();
    let [Event::ValidatorSetScheduled {
        effective_height, ..
    }] = events.as_slice()
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(*effective_height, 7 + VALIDATOR_SET_DELAY);
    let state = &ledger.state as &dyn StateRead;
    assert_eq!(set_for_height(state, 8).unwrap().len(), 4);
    assert_eq!(set_for_height(state, 9).unwrap().len(), 5);
    // The block at the effective height makes it current.
    let mut overlay = Overlay::new(state);
    promote(&mut overlay, 9).unwrap();
    let after = overlay.into_writes();
    assert!(!after.is_empty(), "promotion must write the new set");
}

#[test]
fn exactly_two_thirds_is_not_enough() {
    let mut ledger = Ledger::with_validators(&[(10, 1), (11, 1), (12, 1)]);
    let payload = set(&[(10, 1), (11, 1)]);
    assert_eq!(
        reason(ledger.run(10, payload, &[11])),
        "validators.insufficient_power"
    );
    let heavy = Ledger::with_validators(&[(10, 2), (11, 1)]);
    let mut heavy = heavy;
    // 2 of 3 power is exactly 2/3: refused; signer plus the other: accepted.
    assert_eq!(
        reason(heavy.run(10, set(&[(10, 1)]), &[])),
        "validators.insufficient_power"
    );
    heavy.run(10, set(&[(10, 1)]), &[11]).unwrap();
}

#[test]
fn non_validators_signing_add_no_power() {
    let mut ledger = Ledger::with_validators(&[(10, 1), (11, 1), (12, 1), (13, 1)]);
    let payload = set(&[(10, 1)]);
    assert_eq!(
        reason(ledger.run(ALICE, payload, &[10, 11, BOB])),
        "validators.insufficient_power"
    );
}

#[test]
fn bad_sets_are_refused() {
    let mut ledger = Ledger::with_validators(&[(10, 1)]);
    assert_eq!(reason(ledger.run(10, set(&[]), &[])), "validators.count");
    assert_eq!(
        reason(ledger.run(10, set(&[(11, 0)]), &[])),
        "validators.power"
    );
    assert_eq!(
        reason(ledger.run(10, set(&[(11, 1), (11, 2)]), &[])),
        "validators.duplicate"
    );
}

#[test]
fn one_change_at_a_time() {
    let mut ledger = Ledger::with_validators(&[(10, 1)]);
    ledger.run(10, set(&[(11, 1)]), &[]).unwrap();
    assert_eq!(
        reason(ledger.run(10, set(&[(12, 1)]), &[])),
        "validators.already_scheduled"
    );
    let state = &ledger.state as &dyn StateRead;
    assert_eq!(keys_of(&set_for_height(state, 1).unwrap()), vec![pk(10)]);
}

/// Keys no vote could ever be checked against: a y-coordinate off the curve, and
/// points of small order (the identity; the order-2 point). Each would stop every
/// node at the height the set takes effect, so each is refused up front.
#[test]
fn keys_that_are_not_usable_curve_points_are_refused() {
    let mut off_curve = [0u8; 32];
    off_curve[0] = 2; // y = 2 has no x on edwards25519
    let identity = {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes
    };
    let order_two = {
        let mut bytes = [0xffu8; 32];
        bytes[0] = 0xec;
        bytes[31] = 0x7f;
        bytes
    };
    for bad in [off_curve, identity, order_two] {
        let mut ledger = Ledger::with_validators(&[(10, 1)]);
        let payload = Payload::SetValidators {
            validators: vec![
                Validator {
                    public_key: pk(10),
                    power: 1,
                },
                Validator {
                    public_key: PublicKey(bad),
                    power: 1,
                },
            ],
        };
        assert_eq!(
            reason(ledger.run(10, payload, &[])),
            "validators.invalid_key",
            "key {}",
            hex::encode(bad)
        );
        let state = &ledger.state as &dyn StateRead;
        assert_eq!(keys_of(&set_for_height(state, 5).unwrap()), vec![pk(10)]);
    }
}
