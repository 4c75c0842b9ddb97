//! Digital condominiums (Art. 35): founding with exact shares, shared objects no
//! single participant can move, share-weighted decisions taken exactly at their
//! threshold, pre-emption on share sales, admission and dissolution.

use super::*;
use crate::condo::{
    account_of, Action, Allotment, Condo, CondoStatus, Fraction, Governance, Proposal,
    ProposalStatus, Thresholds,
};
use crate::types::Founder;

pub(super) const DAVE: u8 = 8;
/// A legal entity managing shared objects as a representative.
pub(super) const MANAGER: u8 = 10;

pub(super) fn frac(num: u64, den: u64) -> Fraction {
    Fraction { num, den }
}

/// Use 1/2, lease or pledge 2/3, sale or termination 3/4, the rest unanimous.
pub(super) fn thresholds() -> Thresholds {
    Thresholds::default()
}

pub(super) fn voting() -> Governance {
    Governance::Voting {
        thresholds: thresholds(),
    }
}

pub(super) fn founding(
    founders: &[(u8, u64)],
    denominator: u64,
    governance: Governance,
) -> Payload {
    Payload::CondoCreate {
        agreement: "Joint ownership of the parking place at 5 Abai Ave.".into(),
        denominator,
        participants: founders
            .iter()
            .map(|&(seed, numerator)| Founder {
                subject: sid(seed),
                numerator,
            })
            .collect(),
        governance,
        preemption_blocks: 5,
    }
}

/// Founds a condominium, every founder signing; returns its id and the share
/// records in founder order.
pub(super) fn create(
    l: &mut Ledger,
    founders: &[(u8, u64)],
    denominator: u64,
    governance: Governance,
) -> (Hash32, Vec<Hash32>) {
    let mut cosigners: Vec<u8> = founders[1..].iter().map(|f| f.0).collect();
    if matches!(governance, Governance::Representative { .. }) {
        cosigners.push(MANAGER);
    }
    let payload = founding(founders, denominator, governance);
    let events = l.run(founders[0].0, payload, &cosigners).unwrap();
    let Event::CondoCreated { condo, .. } = events[0] else {
        panic!("{events:?}")
    };
    let shares = events[1..]
        .iter()
        .map(|e| match e {
            Event::Registered { record, .. } => *record,
            other => panic!("{other:?}"),
        })
        .collect();
    (condo, shares)
}

pub(super) fn condo(l: &Ledger, id: &Hash32) -> Condo {
    get_typed(&l.state as &dyn StateRead, &keys::condo(id))
        .unwrap()
        .unwrap()
}

pub(super) fn proposal(l: &Ledger, id: &Hash32, number: u64) -> Proposal {
    get_typed(
        &l.state as &dyn StateRead,
        &keys::condo_proposal(id, number),
    )
    .unwrap()
    .unwrap()
}

/// A digital object `owner` registers for itself.
pub(super) fn digital(l: &mut Ledger, owner: u8, description: &str) -> Hash32 {
    let payload = Payload::Register {
        category: Cat::Digital,
        description: description.into(),
        owner: sid(owner),
        national: false,
        quantity: None,
    };
    match l.run(owner, payload, &[]).unwrap().as_slice() {
        [Event::Registered { record, .. }] => *record,
        other => panic!("unexpected events {other:?}"),
    }
}

/// Alice, Bob and Carol hold 1/2, 1/3 and 1/6; Alice's building access-control
/// system (a digital object) is a shared object.
pub(super) fn with_shared_system(l: &mut Ledger, governance: Governance) -> (Hash32, Hash32) {
    let (id, _) = create(l, &[(ALICE, 3), (BOB, 2), (CAROL, 1)], 6, governance);
    let system = digital(l, ALICE, "Access-control system, 5 Abai Ave");
    let attach = Payload::CondoAttach {
        condo: id,
        record: system,
        shared: true,
    };
    l.run(ALICE, attach, &[]).unwrap();
    assert_eq!(l.record(&system).owner, account_of(&id));
    (id, system)
}

pub(super) fn propose(
    l: &mut Ledger,
    by: u8,
    id: Hash32,
    action: Action,
) -> Result<Vec<Event>, TxError> {
    let deadline_height = l.height + 10;
    l.run(
        by,
        Payload::CondoPropose {
            condo: id,
            action,
            deadline_height,
        },
        &[],
    )
}

fn vote(l: &mut Ledger, by: u8, id: Hash32, number: u64) -> Result<Vec<Event>, TxError> {
    l.run(
        by,
        Payload::CondoVote {
            condo: id,
            proposal: number,
        },
        &[],
    )
}

#[test]
fn founding_with_exact_shares_mints_a_participation_record_each() {
    let mut l = Ledger::new();
    let (id, shares) = create(&mut l, &[(ALICE, 3), (BOB, 2), (CAROL, 1)], 6, voting());
    for (record, (seed, numerator)) in shares.iter().zip([(ALICE, 3), (BOB, 2), (CAROL, 1)]) {
        let record = l.record(record);
        assert_eq!(record.owner, sid(seed));
        assert_eq!(
            record.asset,
            Asset::Share {
                condo: id,
                numerator
            }
        );
    }
    assert_eq!(condo(&l, &id).denominator, 6);
    let (thirds, shares) = create(&mut l, &[(ALICE, 1), (BOB, 1), (CAROL, 1)], 3, voting());
    assert_eq!(shares.len(), 3);
    assert_eq!(condo(&l, &thirds).status, CondoStatus::Active);
}

#[test]
fn founding_refuses_bad_shares_and_missing_founders_naming_article_35() {
    let mut l = Ledger::new();
    type Case<'a> = (&'a [(u8, u64)], u64, &'a [u8], &'a str);
    let cases: [Case; 5] = [
        (
            &[(ALICE, 3), (BOB, 2), (CAROL, 2)],
            6,
            &[BOB, CAROL],
            "condo.shares_not_whole",
        ),
        (
            &[(ALICE, 3), (BOB, 2), (CAROL, 0)],
            5,
            &[BOB, CAROL],
            "condo.zero_share",
        ),
        (
            &[(ALICE, 3), (BOB, 2), (ALICE, 1)],
            6,
            &[BOB],
            "condo.duplicate_participant",
        ),
        (
            &[(ALICE, 3), (BOB, 2), (CAROL, 1)],
            6,
            &[BOB],
            "condo.founder_signature_missing",
        ),
        (&[], 0, &[], "condo.participant_count"),
    ];
    for (founders, denominator, cosigners, expected) in cases {
        let payload = founding(founders, denominator, voting());
        let error = l.run(ALICE, payload, cosigners).unwrap_err();
        assert_eq!(error.reason(), expected);
        if expected != "condo.participant_count" {
            assert!(error.to_string().contains("Art. 35"), "{error}");
        }
    }
    let mut bad = thresholds();
    bad.admit = frac(4, 3);
    let payload = founding(
        &[(ALICE, 1), (BOB, 1)],
        2,
        Governance::Voting { thresholds: bad },
    );
    assert_eq!(reason(l.run(ALICE, payload, &[BOB])), "condo.bad_threshold");
    let alone = founding(&[(ALICE, 1)], 1, voting());
    assert_eq!(reason(l.run(ALICE, alone, &[])), "condo.participant_count");
}

#[test]
fn a_sale_executes_exactly_when_its_threshold_is_reached() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    let sale = Action::Sell {
        object: system,
        buyer: sid(DAVE),
        value: 1_000_000,
    };
    propose(&mut l, ALICE, id, sale).unwrap();
    // 1/2 + 1/6 = 2/3 < 3/4: not yet.
    let events = vote(&mut l, CAROL, id, 1).unwrap();
    assert!(
        matches!(events[..], [Event::CondoVoted { tally: 4, .. }]),
        "{events:?}"
    );
    assert_eq!(l.record(&system).owner, account_of(&id));
    assert_eq!(reason(vote(&mut l, CAROL, id, 1)), "condo.already_voted");
    assert_eq!(reason(vote(&mut l, DAVE, id, 1)), "condo.not_participant");
    assert_eq!(proposal(&l, &id, 1).voters, vec![sid(ALICE), sid(CAROL)]);
    assert_eq!(l.record(&system).owner, account_of(&id));
    vote(&mut l, BOB, id, 1).unwrap();
    assert_eq!(l.record(&system).owner, sid(DAVE));
    assert_eq!(
        proposal(&l, &id, 1).status,
        ProposalStatus::Executed { height: l.height }
    );
    assert!(condo(&l, &id).shared.is_empty());
    assert_eq!(reason(vote(&mut l, BOB, id, 1)), "condo.proposal_executed");
}

#[test]
fn an_expired_proposal_cannot_execute() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    let sale = Action::Sell {
        object: system,
        buyer: sid(DAVE),
        value: 1,
    };
    propose(&mut l, ALICE, id, sale).unwrap();
    vote(&mut l, CAROL, id, 1).unwrap();
    l.height += 11;
    assert_eq!(reason(vote(&mut l, BOB, id, 1)), "condo.proposal_expired");
    assert_eq!(l.record(&system).owner, account_of(&id));
}

#[test]
fn no_single_participant_moves_a_shared_object_outside_a_decision() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    assert_eq!(
        reason(l.run(ALICE, transfer(system, BOB), &[BOB, CAROL])),
        "record.not_owner"
    );
    assert_eq!(
        reason(l.run(ALICE, pledge(system, BANK), &[BANK])),
        "record.owner_consent_missing"
    );
    let end = Payload::Terminate { record: system };
    assert_eq!(reason(l.run(BOB, end, &[ALICE, CAROL])), "record.not_owner");
    assert_eq!(l.record(&system).owner, account_of(&id));
    assert!(l.record(&system).encumbrances.is_empty());
    // Nor does anything reach the condominium except by attaching it.
    let car = l.register_tangible(BOB, false);
    let into = Payload::Transfer {
        record: car,
        to: account_of(&id),
        amount: None,
    };
    assert_eq!(reason(l.run(BOB, into, &[])), "pki.unknown_subject");
}

#[test]
fn a_share_moves_only_under_the_agreement() {
    let mut l = Ledger::new();
    let (_, shares) = create(&mut l, &[(ALICE, 1), (BOB, 1)], 2, voting());
    let moved = l.run(ALICE, transfer(shares[0], DAVE), &[]);
    assert_eq!(reason(moved), "record.share_under_agreement");
    let end = Payload::Terminate { record: shares[0] };
    assert_eq!(
        reason(l.run(ALICE, end, &[])),
        "record.share_under_agreement"
    );
    l.run(ALICE, pledge(shares[0], BANK), &[BANK]).unwrap();
    assert_eq!(
        l.record(&shares[0]).encumbrances.len(),
        1,
        "a share is pledged like any record"
    );
}

fn offer(
    l: &mut Ledger,
    by: u8,
    id: Hash32,
    record: Hash32,
    numerator: u64,
    cosigners: &[u8],
) -> u64 {
    let payload = Payload::CondoOffer {
        condo: id,
        record,
        numerator,
        terms: "500,000 KZT on transfer".into(),
        open_blocks: 20,
    };
    match l.run(by, payload, cosigners).unwrap().as_slice() {
        [Event::CondoShareOffered { offer, .. }] => *offer,
        other => panic!("{other:?}"),
    }
}

fn take(
    l: &mut Ledger,
    by: u8,
    id: Hash32,
    offer: u64,
    cosigners: &[u8],
) -> Result<Vec<Event>, TxError> {
    l.run(by, Payload::CondoTake { condo: id, offer }, cosigners)
}

#[test]
fn participants_have_pre_emption_then_an_outsider_may_buy() {
    let mut l = Ledger::new();
    let (id, shares) = create(&mut l, &[(ALICE, 3), (BOB, 2), (CAROL, 1)], 6, voting());
    let first = offer(&mut l, BOB, id, shares[1], 2, &[]);
    assert_eq!(
        reason(take(&mut l, DAVE, id, first, &[])),
        "condo.preemption_window"
    );
    assert_eq!(reason(take(&mut l, BOB, id, first, &[])), "condo.own_offer");
    take(&mut l, CAROL, id, first, &[]).unwrap();
    assert_eq!(l.record(&shares[1]).owner, sid(CAROL));
    assert_eq!(
        reason(take(&mut l, ALICE, id, first, &[])),
        "condo.offer_taken"
    );
    // Carol offers one sixth of her three; no participant takes it in the window.
    let second = offer(&mut l, CAROL, id, shares[1], 1, &[]);
    l.height += 6;
    let alone = take(&mut l, DAVE, id, second, &[]);
    assert_eq!(reason(alone), "condo.seller_consent_missing");
    let events = take(&mut l, DAVE, id, second, &[CAROL]).unwrap();
    let Event::SplitOff { record: split, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        l.record(&split).asset,
        Asset::Share {
            condo: id,
            numerator: 1
        }
    );
    assert_eq!(
        l.record(&shares[1]).asset,
        Asset::Share {
            condo: id,
            numerator: 1
        }
    );
    assert_eq!(l.record(&split).owner, sid(DAVE));
    assert_eq!(condo(&l, &id).shares.len(), 4);
    // A second part Dave buys joins his own share record: records do not pile up.
    let third = offer(&mut l, ALICE, id, shares[0], 1, &[]);
    l.height += 6;
    take(&mut l, DAVE, id, third, &[ALICE]).unwrap();
    assert_eq!(
        l.record(&split).asset,
        Asset::Share {
            condo: id,
            numerator: 2
        }
    );
    assert_eq!(condo(&l, &id).shares.len(), 4);
    l.height += 30;
    let late = offer(&mut l, ALICE, id, shares[0], 2, &[]);
    l.height += 21;
    assert_eq!(
        reason(take(&mut l, DAVE, id, late, &[])),
        "condo.offer_closed"
    );
}

#[test]
fn a_pledged_share_does_not_move_without_the_pledgee() {
    let mut l = Ledger::new();
    let (id, shares) = create(&mut l, &[(ALICE, 1), (BOB, 1)], 2, voting());
    l.run(ALICE, pledge(shares[0], BANK), &[BANK]).unwrap();
    let number = offer(&mut l, ALICE, id, shares[0], 1, &[]);
    let refused = take(&mut l, BOB, id, number, &[]);
    assert_eq!(reason(refused), "record.encumbrance_consent_missing");
    assert_eq!(l.record(&shares[0]).owner, sid(ALICE));
    take(&mut l, BOB, id, number, &[BANK]).unwrap();
    assert_eq!(l.record(&shares[0]).owner, sid(BOB));
    assert_eq!(
        l.record(&shares[0]).encumbrances[0].holder,
        sid(BANK),
        "the pledge follows"
    );
}

#[test]
fn admission_needs_the_admitted_and_dilutes_every_share() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    let admit = Action::Admit {
        subject: sid(DAVE),
        numerator: 6,
    };
    assert_eq!(
        reason(propose(&mut l, ALICE, id, admit.clone())),
        "condo.admittee_signature_missing"
    );
    let deadline_height = l.height + 10;
    let payload = Payload::CondoPropose {
        condo: id,
        action: admit,
        deadline_height,
    };
    l.run(ALICE, payload, &[DAVE]).unwrap();
    vote(&mut l, BOB, id, 1).unwrap();
    assert_eq!(condo(&l, &id).denominator, 6, "unanimity not reached yet");
    vote(&mut l, CAROL, id, 1).unwrap();
    assert_eq!(condo(&l, &id).denominator, 12);
    // Dave now holds half: a lease (2/3) needs him or all three others.
    let lease = Action::Lease {
        object: system,
        lessee: sid(BANK),
        value: 10,
        document: None,
    };
    propose(&mut l, DAVE, id, lease).unwrap();
    vote(&mut l, CAROL, id, 2).unwrap();
    assert!(
        l.record(&system).encumbrances.is_empty(),
        "6/12 + 1/12 < 2/3"
    );
    vote(&mut l, BOB, id, 2).unwrap();
    assert_eq!(l.record(&system).encumbrances[0].kind, Kind::Lease);
}

#[test]
fn dissolution_distributes_shared_objects_and_ends_participation() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    let shares = condo(&l, &id).shares;
    let wrong = Action::Dissolve {
        distribution: vec![],
    };
    assert_eq!(
        reason(propose(&mut l, ALICE, id, wrong)),
        "condo.bad_distribution"
    );
    let distribution = vec![Allotment {
        object: system,
        to: sid(BOB),
    }];
    propose(&mut l, ALICE, id, Action::Dissolve { distribution }).unwrap();
    vote(&mut l, BOB, id, 1).unwrap();
    l.run(CAROL, pledge(shares[2], BANK), &[BANK]).unwrap();
    assert_eq!(reason(vote(&mut l, CAROL, id, 1)), "condo.share_encumbered");
    let with_bank = Payload::CondoVote {
        condo: id,
        proposal: 1,
    };
    l.run(CAROL, with_bank, &[BANK]).unwrap();
    assert_eq!(l.record(&system).owner, sid(BOB));
    for share in &shares {
        assert_eq!(l.record(share).status, RecordStatus::Terminated);
    }
    assert!(matches!(
        condo(&l, &id).status,
        CondoStatus::Dissolved { .. }
    ));
    let use_rule = Action::Use {
        object: system,
        terms: "x".into(),
    };
    assert_eq!(
        reason(propose(&mut l, ALICE, id, use_rule)),
        "condo.dissolved"
    );
}

#[test]
fn a_threshold_reached_by_shares_bought_after_voting_executes_on_a_revote() {
    let mut l = Ledger::new();
    let (id, shares) = create(&mut l, &[(ALICE, 1), (BOB, 1), (CAROL, 1)], 3, voting());
    propose(
        &mut l,
        ALICE,
        id,
        Action::Dissolve {
            distribution: vec![],
        },
    )
    .unwrap();
    vote(&mut l, BOB, id, 1).unwrap();
    let number = offer(&mut l, CAROL, id, shares[2], 1, &[]);
    take(&mut l, ALICE, id, number, &[]).unwrap();
    assert_eq!(reason(vote(&mut l, CAROL, id, 1)), "condo.not_participant");
    vote(&mut l, ALICE, id, 1).unwrap();
    assert!(matches!(
        condo(&l, &id).status,
        CondoStatus::Dissolved { .. }
    ));
}

#[test]
fn one_participant_cannot_fill_the_open_proposals() {
    let mut l = Ledger::new();
    let (id, system) = with_shared_system(&mut l, voting());
    let rule = |n: u32| Action::Use {
        object: system,
        terms: format!("rule {n}"),
    };
    for n in 0..4 {
        propose(&mut l, CAROL, id, rule(n)).unwrap();
    }
    assert_eq!(
        reason(propose(&mut l, CAROL, id, rule(4))),
        "condo.too_many_own_proposals"
    );
    propose(&mut l, BOB, id, rule(5)).unwrap();
    l.height += 11;
    propose(&mut l, CAROL, id, rule(6)).unwrap();
    let unknown = Action::Sell {
        object: system,
        buyer: sid(STRANGER),
        value: 1,
    };
    assert_eq!(
        reason(propose(&mut l, BOB, id, unknown)),
        "pki.unknown_subject"
    );
}

#[test]
fn only_digital_objects_join_a_digital_condominium() {
    let mut l = Ledger::new();
    let (id, _) = create(&mut l, &[(ALICE, 1), (BOB, 1)], 2, voting());
    let flat = l.register_tangible(ALICE, false);
    for shared in [true, false] {
        let attach = Payload::CondoAttach {
            condo: id,
            record: flat,
            shared,
        };
        assert_eq!(reason(l.run(ALICE, attach, &[])), "condo.not_digital");
    }
    let own = digital(&mut l, BOB, "Bob's storage quota");
    let attach = Payload::CondoAttach {
        condo: id,
        record: own,
        shared: false,
    };
    assert_eq!(
        reason(l.run(ALICE, attach.clone(), &[])),
        "record.not_owner"
    );
    l.run(BOB, attach, &[]).unwrap();
    assert_eq!(l.record(&own).owner, sid(BOB));
    assert_eq!(condo(&l, &id).individual, vec![own]);
}
