//! Who decides in a condominium besides the participants' vote: a representative
//! within its written mandate (Art. 35 p.4), or a contract instance whose parties
//! are the participants (Art. 35 p.3, Art. 67), frozen by a dispute like any other.

use super::condo::{create, proposal, propose, thresholds, with_shared_system, DAVE, MANAGER};
use super::*;
use crate::condo::{account_of, Action, DecisionKind, Governance, Mandate, ProposalStatus};
use crate::contracts::ArbitrationClause;
use crate::types::Bytes;

fn representative(kinds: Vec<DecisionKind>) -> Governance {
    Governance::Representative {
        mandate: Mandate {
            representative: sid(MANAGER),
            text: "The manager leases the parking place for up to 1,000 KZT a month.".into(),
            kinds,
            value_max: 1_000,
        },
        thresholds: thresholds(),
    }
}

#[test]
fn a_representative_acts_alone_only_within_its_mandate() {
    let mut l = Ledger::new();
    let (id, system) =
        with_shared_system(&mut l, representative(vec![DecisionKind::LeaseOrPledge]));
    let lease = |value| Action::Lease {
        object: system,
        lessee: sid(DAVE),
        value,
        document: None,
    };
    let act = |action| Payload::CondoAct { condo: id, action };
    assert_eq!(
        reason(l.run(MANAGER, act(lease(5_000)), &[])),
        "condo.outside_mandate"
    );
    let sale = Action::Sell {
        object: system,
        buyer: sid(DAVE),
        value: 10,
    };
    assert_eq!(
        reason(l.run(MANAGER, act(sale), &[])),
        "condo.outside_mandate"
    );
    assert_eq!(
        reason(l.run(ALICE, act(lease(500)), &[])),
        "condo.not_representative"
    );
    let to_itself = Action::Lease {
        object: system,
        lessee: sid(MANAGER),
        value: 1,
        document: None,
    };
    assert_eq!(
        reason(l.run(MANAGER, act(to_itself), &[])),
        "condo.self_dealing"
    );
    assert_eq!(l.record(&system).encumbrances.len(), 0);
    let events = l.run(MANAGER, act(lease(500)), &[]).unwrap();
    assert!(matches!(
        events.last(),
        Some(Event::CondoDecided { proposal: None, .. })
    ));
    assert_eq!(l.record(&system).encumbrances[0].kind, Kind::Lease);
    assert_eq!(l.record(&system).encumbrances[0].holder, sid(DAVE));
    assert_eq!(l.record(&system).owner, account_of(&id));
}

#[test]
fn a_mandate_covers_only_decisions_on_shared_objects() {
    let mut l = Ledger::new();
    let founders = [(ALICE, 1), (BOB, 1)];
    let admit = super::condo::founding(&founders, 2, representative(vec![DecisionKind::Admit]));
    let error = l.run(ALICE, admit, &[BOB, MANAGER]);
    assert_eq!(reason(error), "condo.mandate_not_on_objects");
    let unsigned = super::condo::founding(&founders, 2, representative(vec![DecisionKind::Use]));
    let error = l.run(ALICE, unsigned, &[BOB]);
    assert_eq!(reason(error), "condo.representative_signature_missing");
}

/// `call` approves the proposal whose number is its 8-byte input.
const APPROVER: &str = r#"(module
  (import "tamga_v1" "input_read" (func $input_read (param i32)))
  (import "tamga_v1" "condo_approve" (func $approve (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "call")
    (call $input_read (i32.const 0))
    (if (i32.ne (call $approve (i64.load (i32.const 0))) (i32.const 0))
      (then unreachable))))"#;

/// Alice, Bob and Carol run an active instance of [`APPROVER`].
fn governing_instance(l: &mut Ledger) -> Hash32 {
    let clause = ArbitrationClause {
        arbiters: vec![sid(11), sid(12)],
        quorum: 1,
        deadline_blocks: 10,
        appeal: None,
    };
    let deploy = Payload::Deploy {
        code: Bytes(wat::parse_str(APPROVER).unwrap()),
        terms: "The contract approves the proposals the participants agree on.".into(),
        arbitration: clause,
    };
    let Event::ContractDeployed { contract, .. } = l.run(ALICE, deploy, &[]).unwrap()[0] else {
        panic!()
    };
    let parties = vec![sid(ALICE), sid(BOB), sid(CAROL)];
    let payload = Payload::Instantiate {
        contract,
        parties,
        init_args: Bytes(vec![]),
    };
    let events = l.run(ALICE, payload, &[BOB, CAROL]).unwrap();
    let Event::InstanceProposed { instance, .. } = events[0] else {
        panic!("{events:?}")
    };
    instance
}

fn approve(l: &mut Ledger, instance: Hash32, number: u64) -> Result<Vec<Event>, TxError> {
    let input = Bytes(number.to_le_bytes().to_vec());
    l.run(BOB, Payload::Call { instance, input }, &[])
}

#[test]
fn a_governing_contract_decides_a_lease_and_a_dispute_freezes_it() {
    let mut l = Ledger::new();
    let instance = governing_instance(&mut l);
    let (id, system) = with_shared_system(&mut l, Governance::Contract { instance });
    let other = Governance::Contract { instance };
    let again = super::condo::founding(&[(ALICE, 1), (BOB, 1), (CAROL, 1)], 3, other);
    assert_eq!(
        reason(l.run(ALICE, again, &[BOB, CAROL])),
        "condo.bad_governing_instance"
    );
    let lease = Action::Lease {
        object: system,
        lessee: sid(DAVE),
        value: 1,
        document: None,
    };
    propose(&mut l, ALICE, id, lease.clone()).unwrap();
    let vote = Payload::CondoVote {
        condo: id,
        proposal: 1,
    };
    assert_eq!(reason(l.run(BOB, vote, &[])), "condo.decided_by_contract");
    assert_eq!(
        reason(approve(&mut l, instance, 7)),
        "condo.proposal_not_found"
    );
    assert!(l.record(&system).encumbrances.is_empty());
    approve(&mut l, instance, 1).unwrap();
    assert_eq!(l.record(&system).encumbrances[0].holder, sid(DAVE));
    assert!(matches!(
        proposal(&l, &id, 1).status,
        ProposalStatus::Executed { .. }
    ));
    propose(&mut l, ALICE, id, lease).unwrap();
    let dispute = Payload::Dispute {
        instance,
        reason: Hash32([9; 32]),
    };
    l.run(CAROL, dispute, &[]).unwrap();
    assert_eq!(reason(approve(&mut l, instance, 2)), "contract.frozen");
    assert_eq!(l.record(&system).encumbrances.len(), 1);
}

#[test]
fn a_contract_that_governs_nothing_approves_nothing() {
    let mut l = Ledger::new();
    let instance = governing_instance(&mut l);
    let _ = create(
        &mut l,
        &[(ALICE, 1), (BOB, 1)],
        2,
        Governance::Voting {
            thresholds: thresholds(),
        },
    );
    assert_eq!(reason(approve(&mut l, instance, 1)), "contract.trap");
}

#[test]
fn a_participant_who_bought_in_later_may_call_the_governing_contract() {
    let mut l = Ledger::new();
    let instance = governing_instance(&mut l);
    let (id, system) = with_shared_system(&mut l, Governance::Contract { instance });
    let lease = Action::Lease {
        object: system,
        lessee: sid(BANK),
        value: 1,
        document: None,
    };
    propose(&mut l, ALICE, id, lease).unwrap();
    let call = |number: u64| Payload::Call {
        instance,
        input: Bytes(number.to_le_bytes().to_vec()),
    };
    assert_eq!(reason(l.run(DAVE, call(1), &[])), "contract.not_party");
    let bobs = super::condo::condo(&l, &id).shares[1];
    let offer = Payload::CondoOffer {
        condo: id,
        record: bobs,
        numerator: 2,
        terms: "at cost".into(),
        open_blocks: 20,
    };
    l.run(BOB, offer, &[]).unwrap();
    l.height += 6;
    l.run(
        DAVE,
        Payload::CondoTake {
            condo: id,
            offer: 1,
        },
        &[BOB],
    )
    .unwrap();
    l.run(DAVE, call(1), &[]).unwrap();
    assert_eq!(l.record(&system).encumbrances[0].holder, sid(BANK));
    // Bob sold out: he no longer calls the instance or disputes on it.
    assert_eq!(reason(l.run(BOB, call(1), &[])), "contract.not_party");
    let dispute = Payload::Dispute {
        instance,
        reason: Hash32([9; 32]),
    };
    assert_eq!(reason(l.run(BOB, dispute, &[])), "contract.not_party");
}
