//! Fungible classes and holdings: issue, partial transfer (split), categories.

use super::*;

fn grain_class(l: &mut Ledger, issuer: u8, category: Cat) -> Hash32 {
    let payload = Payload::RegisterClass {
        category,
        name: "wheat, class 3".into(),
        unit: "kg".into(),
        national: false,
    };
    match l.run(issuer, payload, &[]).unwrap().as_slice() {
        [Event::ClassRegistered { class, .. }] => *class,
        other => panic!("unexpected events {other:?}"),
    }
}

fn issue(
    l: &mut Ledger,
    issuer: u8,
    class: Hash32,
    owner: u8,
    amount: u64,
) -> Result<Vec<Event>, TxError> {
    let payload = Payload::Register {
        category: Cat::Tangible,
        description: "elevator receipt".into(),
        owner: sid(owner),
        national: false,
        quantity: Some(Quantity { class, amount }),
    };
    l.run(issuer, payload, &[])
}

#[test]
fn fungible_partial_transfer_splits_the_holding() {
    let mut l = Ledger::new();
    let class = grain_class(&mut l, REGISTRAR, Cat::Tangible);
    let id = match issue(&mut l, REGISTRAR, class, ALICE, 1000)
        .unwrap()
        .as_slice()
    {
        [Event::Registered { record, .. }] => *record,
        other => panic!("{other:?}"),
    };
    let part = |amount| Payload::Transfer {
        record: id,
        to: sid(BOB),
        amount: Some(amount),
    };
    assert_eq!(reason(l.run(ALICE, part(0), &[])), "record.invalid_amount");
    assert_eq!(
        reason(l.run(ALICE, part(1001), &[])),
        "record.invalid_amount"
    );
    let events = l.run(ALICE, part(300), &[]).unwrap();
    let Event::SplitOff { record: split, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(l.record(&id).asset, Asset::Fungible { class, amount: 700 });
    assert_eq!(
        l.record(&split).asset,
        Asset::Fungible { class, amount: 300 }
    );
    assert_eq!(l.record(&split).owner, sid(BOB));
    // A pledged holding moves only whole.
    l.run(ALICE, pledge(id, BANK), &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, part(100), &[BANK])),
        "record.encumbered_partial_transfer"
    );
    l.run(
        ALICE,
        Payload::Transfer {
            record: id,
            to: sid(BOB),
            amount: Some(700),
        },
        &[BANK],
    )
    .unwrap();
    assert_eq!(l.record(&id).owner, sid(BOB));
}

#[test]
fn only_the_class_issuer_issues_and_categories_match() {
    let mut l = Ledger::new();
    let class = grain_class(&mut l, REGISTRAR, Cat::Tangible);
    assert_eq!(
        reason(issue(&mut l, ALICE, class, ALICE, 5)),
        "record.not_class_issuer"
    );
    assert_eq!(
        reason(issue(&mut l, REGISTRAR, Hash32([0; 32]), ALICE, 5)),
        "record.class_not_found"
    );
    assert_eq!(
        reason(issue(&mut l, REGISTRAR, class, ALICE, 0)),
        "record.invalid_amount"
    );
    let claims = grain_class(&mut l, ALICE, Cat::Claim);
    assert_eq!(
        reason(issue(&mut l, ALICE, claims, ALICE, 5)),
        "record.category_mismatch"
    );
    let unique = l.register_tangible(ALICE, false);
    let split = Payload::Transfer {
        record: unique,
        to: sid(BOB),
        amount: Some(1),
    };
    assert_eq!(reason(l.run(ALICE, split, &[])), "record.not_fungible");
}

#[test]
fn tangible_classes_need_a_registrar() {
    let mut l = Ledger::new();
    let payload = Payload::RegisterClass {
        category: Cat::Tangible,
        name: "x".into(),
        unit: "t".into(),
        national: false,
    };
    assert_eq!(
        reason(l.run(ALICE, payload, &[])),
        "record.registrar_required"
    );
}
