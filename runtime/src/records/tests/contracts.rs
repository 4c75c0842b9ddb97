//! Contracts on the ledger (Art. 67): deployment needs an arbitration clause,
//! instances start on unanimous acceptance, custody and calls move assets under the
//! record rules, disputes freeze everything until a quorum of humans rules.

use super::*;
use crate::contracts::lifecycle::{code_hash, init_args_hash, terms_hash};
use crate::contracts::{
    account_of, ArbitrationClause, Decision, Direction, Instance, InstanceStatus,
};
use crate::state::get_typed;
use crate::types::Bytes;

const ARB1: u8 = 11;
const ARB2: u8 = 12;
const ARB3: u8 = 13;
const APPEAL: u8 = 14;

/// `init` stores its input under "init"; `on_deposit` stores its input under
/// "last"; `call` transfers record input[0..32] to input[32..64]; `query` returns
/// the value stored under the key given as input.
const TEST_CONTRACT: &str = r#"(module
  (import "tamga_v1" "input_len" (func $input_len (result i32)))
  (import "tamga_v1" "input_read" (func $input_read (param i32)))
  (import "tamga_v1" "output" (func $output (param i32 i32)))
  (import "tamga_v1" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i32)))
  (import "tamga_v1" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "tamga_v1" "transfer" (func $transfer (param i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1000) "init")
  (data (i32.const 1010) "last")
  (func (export "init")
    (call $input_read (i32.const 0))
    (call $storage_set (i32.const 1000) (i32.const 4) (i32.const 0) (call $input_len)))
  (func (export "on_deposit")
    (call $input_read (i32.const 0))
    (call $storage_set (i32.const 1010) (i32.const 4) (i32.const 0) (call $input_len)))
  (func (export "call")
    (call $input_read (i32.const 0))
    (if (i32.ne (call $transfer (i32.const 0) (i32.const 32) (i64.const -1)) (i32.const 0))
      (then unreachable)))
  (func (export "query")
    (local $len i32)
    (call $input_read (i32.const 0))
    (local.set $len (call $storage_get (i32.const 0) (call $input_len) (i32.const 2000) (i32.const 4096)))
    (if (i32.ge_s (local.get $len) (i32.const 0))
      (then (call $output (i32.const 2000) (local.get $len))))))"#;

fn clause(appeal: Option<u8>) -> ArbitrationClause {
    ArbitrationClause {
        arbiters: vec![sid(ARB1), sid(ARB2), sid(ARB3)],
        quorum: 2,
        deadline_blocks: 10,
        appeal: appeal.map(sid),
    }
}

fn deploy(l: &mut Ledger, clause: ArbitrationClause) -> Result<Vec<Event>, TxError> {
    let code = wat::parse_str(TEST_CONTRACT).unwrap();
    l.run(
        ALICE,
        Payload::Deploy {
            code: Bytes(code),
            terms: "Alice sells the flat to Bob for 1000 KZT.".into(),
            arbitration: clause,
        },
        &[],
    )
}

fn deployed(l: &mut Ledger, appeal: Option<u8>) -> Hash32 {
    match deploy(l, clause(appeal)).unwrap().as_slice() {
        [Event::ContractDeployed { contract, .. }] => *contract,
        other => panic!("{other:?}"),
    }
}

fn instance(l: &Ledger, id: &Hash32) -> Instance {
    get_typed(
        &l.state as &dyn crate::state::StateRead,
        &crate::state::keys::instance(id),
    )
    .unwrap()
    .unwrap()
}

/// Alice and Bob instantiate and accept; returns the active instance.
fn active_instance(l: &mut Ledger, appeal: Option<u8>) -> Hash32 {
    let contract = deployed(l, appeal);
    let payload = Payload::Instantiate {
        contract,
        parties: vec![sid(ALICE), sid(BOB)],
        init_args: Bytes(b"args".to_vec()),
    };
    let events = l.run(ALICE, payload, &[BOB]).unwrap();
    let Event::InstanceProposed { instance: id, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(instance(l, &id).status, InstanceStatus::Active);
    id
}

/// `by` opens a dispute on `id`, citing a reason document.
fn open_dispute(l: &mut Ledger, id: Hash32, by: u8) {
    l.run(
        by,
        Payload::Dispute {
            instance: id,
            reason: Hash32([9; 32]),
        },
        &[],
    )
    .unwrap();
}

#[test]
fn deployment_needs_a_valid_arbitration_clause_and_terms() {
    let mut l = Ledger::new();
    let mut c = clause(None);
    c.arbiters.clear();
    assert_eq!(reason(deploy(&mut l, c)), "contract.no_arbiters");
    let mut c = clause(None);
    c.quorum = 4;
    assert_eq!(reason(deploy(&mut l, c)), "contract.bad_quorum");
    let mut c = clause(None);
    c.arbiters.push(sid(ARB1));
    assert_eq!(reason(deploy(&mut l, c)), "contract.duplicate_arbiter");
    let mut c = clause(None);
    c.deadline_blocks = 0;
    assert_eq!(reason(deploy(&mut l, c)), "contract.no_deadline");
    let no_terms = Payload::Deploy {
        code: Bytes(wat::parse_str(TEST_CONTRACT).unwrap()),
        terms: " ".into(),
        arbitration: clause(None),
    };
    assert_eq!(reason(l.run(ALICE, no_terms, &[])), "contract.no_terms");
    let bad_code = Payload::Deploy {
        code: Bytes(b"not wasm".to_vec()),
        terms: "t".into(),
        arbitration: clause(None),
    };
    assert_eq!(
        reason(l.run(ALICE, bad_code, &[])),
        "contract.invalid_module"
    );
    deployed(&mut l, None);
}

#[test]
fn instance_starts_only_when_every_party_accepted_exactly_these_terms() {
    let mut l = Ledger::new();
    let contract = deployed(&mut l, None);
    let payload = Payload::Instantiate {
        contract,
        parties: vec![sid(ALICE), sid(BOB)],
        init_args: Bytes(b"args".to_vec()),
    };
    assert_eq!(
        reason(l.run(CAROL, payload.clone(), &[])),
        "contract.not_party"
    );
    let events = l.run(ALICE, payload, &[]).unwrap();
    let Event::InstanceProposed { instance: id, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(instance(&l, &id).status, InstanceStatus::Pending);
    assert_eq!(
        reason(l.run(
            ALICE,
            Payload::Call {
                instance: id,
                input: Bytes(vec![])
            },
            &[]
        )),
        "contract.not_active"
    );
    let code = wat::parse_str(TEST_CONTRACT).unwrap();
    let terms = "Alice sells the flat to Bob for 1000 KZT.";
    let wrong = Payload::Accept {
        instance: id,
        code_hash: code_hash(&code),
        terms_hash: terms_hash("other"),
        init_args_hash: init_args_hash(b"args"),
    };
    assert_eq!(
        reason(l.run(BOB, wrong, &[])),
        "contract.acceptance_mismatch"
    );
    let right = Payload::Accept {
        instance: id,
        code_hash: code_hash(&code),
        terms_hash: terms_hash(terms),
        init_args_hash: init_args_hash(b"args"),
    };
    assert_eq!(
        reason(l.run(CAROL, right.clone(), &[])),
        "contract.not_party"
    );
    l.run(BOB, right, &[]).unwrap();
    assert_eq!(instance(&l, &id).status, InstanceStatus::Active);
    let init = crate::contracts::query(
        &l.state,
        &shared_vm(),
        &id,
        sid(BOB),
        1,
        1,
        b"init".to_vec(),
    )
    .unwrap();
    assert_eq!(init, b"args", "init ran with the init arguments");
}

#[test]
fn deposit_then_call_moves_the_held_record() {
    let mut l = Ledger::new();
    let id = active_instance(&mut l, None);
    let flat = l.register_tangible(ALICE, false);
    let deposit = Payload::Deposit {
        instance: id,
        record: flat,
        amount: None,
    };
    assert_eq!(
        reason(l.run(CAROL, deposit.clone(), &[])),
        "contract.not_party"
    );
    l.run(ALICE, deposit, &[]).unwrap();
    assert_eq!(l.record(&flat).owner, account_of(&id));
    assert_eq!(instance(&l, &id).holdings, vec![flat]);
    let last = crate::contracts::query(
        &l.state,
        &shared_vm(),
        &id,
        sid(BOB),
        1,
        1,
        b"last".to_vec(),
    )
    .unwrap();
    assert_eq!(&last[..32], &sid(ALICE).0, "on_deposit saw the depositor");
    assert_eq!(&last[32..64], &flat.0, "and the record");
    // Nobody moves custody by hand: the instance account has no key.
    assert_eq!(
        reason(l.run(ALICE, transfer(flat, BOB), &[])),
        "record.not_owner"
    );
    let input = [flat.0.as_slice(), &sid(BOB).0].concat();
    l.run(
        BOB,
        Payload::Call {
            instance: id,
            input: Bytes(input),
        },
        &[],
    )
    .unwrap();
    assert_eq!(l.record(&flat).owner, sid(BOB));
    assert!(instance(&l, &id).holdings.is_empty());
    // A trapping call changes nothing.
    let input = [flat.0.as_slice(), &sid(ALICE).0].concat();
    assert_eq!(
        reason(l.run(
            BOB,
            Payload::Call {
                instance: id,
                input: Bytes(input)
            },
            &[]
        )),
        "contract.trap"
    );
}

#[test]
fn a_dispute_freezes_until_a_quorum_of_arbiters_rules() {
    let mut l = Ledger::new();
    let id = active_instance(&mut l, None);
    let flat = l.register_tangible(ALICE, false);
    l.run(
        ALICE,
        Payload::Deposit {
            instance: id,
            record: flat,
            amount: None,
        },
        &[],
    )
    .unwrap();
    let dispute = Payload::Dispute {
        instance: id,
        reason: Hash32([9; 32]),
    };
    assert_eq!(
        reason(l.run(CAROL, dispute.clone(), &[])),
        "contract.not_party"
    );
    l.run(BOB, dispute, &[]).unwrap();
    let input = [flat.0.as_slice(), &sid(BOB).0].concat();
    assert_eq!(
        reason(l.run(
            BOB,
            Payload::Call {
                instance: id,
                input: Bytes(input)
            },
            &[]
        )),
        "contract.frozen"
    );
    let other = l.register_tangible(ALICE, false);
    assert_eq!(
        reason(l.run(
            ALICE,
            Payload::Deposit {
                instance: id,
                record: other,
                amount: None
            },
            &[]
        )),
        "contract.frozen"
    );
    let back = Decision::Transfer(vec![Direction {
        record: flat,
        to: sid(ALICE),
        amount: None,
    }]);
    let ruling = Payload::Rule {
        instance: id,
        decision: back,
        decision_text: Hash32([8; 32]),
    };
    assert_eq!(
        reason(l.run(CAROL, ruling.clone(), &[])),
        "contract.quorum_not_met"
    );
    assert_eq!(
        reason(l.run(ARB1, ruling.clone(), &[])),
        "contract.quorum_not_met"
    );
    assert_eq!(
        reason(l.run(ARB1, ruling.clone(), &[CAROL])),
        "contract.quorum_not_met"
    );
    // ARB3 signs with a second key whose certificate has no arbiter role: it
    // does not count towards the quorum.
    let plain_key = Payload::IssueCertificate {
        subject: crate::pki::SubjectRef::Existing { subject: sid(ARB3) },
        key: pk(35),
        name: Hash32([35; 32]),
        roles: vec![],
        valid_from: None,
        valid_until: crate::pki::Point::Height(1_000),
    };
    l.run(ROOT, plain_key, &[]).unwrap();
    assert_eq!(
        reason(l.run(ARB1, ruling.clone(), &[35])),
        "contract.quorum_not_met"
    );
    assert_eq!(l.record(&flat).owner, account_of(&id), "nothing moved");
    l.run(ARB1, ruling.clone(), &[ARB3]).unwrap();
    assert_eq!(l.record(&flat).owner, sid(ALICE));
    assert_eq!(instance(&l, &id).status, InstanceStatus::Active);
    assert_eq!(reason(l.run(ARB1, ruling, &[ARB2])), "contract.no_dispute");
}

#[test]
fn arbiters_are_certified_as_arbiters_and_never_parties() {
    let mut l = Ledger::new();
    let mut c = clause(None);
    c.arbiters[0] = sid(CAROL);
    assert_eq!(
        reason(deploy(&mut l, c)),
        "contract.arbiter_not_certified",
        "carol is certified, but not as an arbiter"
    );
    assert_eq!(
        reason(deploy(&mut l, clause(Some(CAROL)))),
        "contract.arbiter_not_certified",
        "the appeal arbiter too"
    );
    let contract = deployed(&mut l, Some(APPEAL));
    for arbiter in [ARB1, APPEAL] {
        let payload = Payload::Instantiate {
            contract,
            parties: vec![sid(ALICE), sid(arbiter)],
            init_args: Bytes(vec![]),
        };
        assert_eq!(
            reason(l.run(ALICE, payload, &[])),
            "contract.arbiter_is_party"
        );
    }
}

#[test]
fn past_the_deadline_the_appeal_arbiter_rules() {
    let mut l = Ledger::new();
    let id = active_instance(&mut l, Some(APPEAL));
    open_dispute(&mut l, id, ALICE);
    let end = Payload::Rule {
        instance: id,
        decision: Decision::Terminate(vec![]),
        decision_text: Hash32([7; 32]),
    };
    assert_eq!(
        reason(l.run(APPEAL, end.clone(), &[])),
        "contract.quorum_not_met",
        "appeal waits for the deadline"
    );
    l.height = 1 + 10 + 1;
    assert_eq!(
        reason(l.run(ARB1, end.clone(), &[ARB2])),
        "contract.deadline_passed"
    );
    l.run(APPEAL, end, &[]).unwrap();
    assert_eq!(instance(&l, &id).status, InstanceStatus::Terminated);
}

#[test]
fn without_an_appeal_arbiter_the_dispute_stays_with_the_arbiters() {
    let mut l = Ledger::new();
    let id = active_instance(&mut l, None);
    open_dispute(&mut l, id, ALICE);
    l.height = 1_000;
    let input = vec![];
    assert_eq!(
        reason(l.run(
            ALICE,
            Payload::Call {
                instance: id,
                input: Bytes(input)
            },
            &[]
        )),
        "contract.frozen",
        "still frozen"
    );
    let resume = Payload::Rule {
        instance: id,
        decision: Decision::Resume,
        decision_text: Hash32([7; 32]),
    };
    l.run(ARB2, resume, &[ARB3]).unwrap();
    assert_eq!(instance(&l, &id).status, InstanceStatus::Active);
}
