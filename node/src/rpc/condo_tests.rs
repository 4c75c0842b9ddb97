//! The condominium views over a real node's storage: transactions run through
//! the mempool into committed blocks, then each view is read back as JSON.

use super::*;
use crate::app::tests::{dev_subject, open_app, produce_one, register_digital, run};
use crate::keyring::dev_key;
use tamga_runtime::condo::Action;
use tamga_runtime::records::Event;
use tamga_runtime::types::{Founder, Payload};

fn empty_block(app: &App) {
    produce_one(app, &dev_key("validator")).unwrap();
}

/// The height views judge status at.
fn at(app: &App) -> u64 {
    app.tip().height + 1
}

fn register(app: &App, owner: &str) -> Hash32 {
    register_digital(app, owner, format!("parking access system of {owner}"))
}

fn thresholds() -> Thresholds {
    Thresholds::default()
}

/// alice 3/6, bob 2/6, bank 1/6; returns the id and the share records.
fn found(app: &App) -> (Hash32, Vec<Hash32>) {
    let f = |name, numerator| Founder {
        subject: dev_subject(name),
        numerator,
    };
    let payload = Payload::CondoCreate {
        agreement: "Joint ownership of the parking places at 5 Abai Ave.".into(),
        denominator: 6,
        participants: vec![f("alice", 3), f("bob", 2), f("bank", 1)],
        governance: Governance::Voting {
            thresholds: thresholds(),
        },
        preemption_blocks: 2,
    };
    let events = run(app, "alice", &["bob", "bank"], payload);
    let Event::CondoCreated { condo, .. } = events[0] else {
        panic!("{events:?}")
    };
    let shares = events[1..]
        .iter()
        .filter_map(|e| match e {
            Event::Registered { record, .. } => Some(*record),
            _ => None,
        })
        .collect();
    (condo, shares)
}

fn attach(app: &App, who: &str, condo: Hash32, record: Hash32, shared: bool) {
    let payload = Payload::CondoAttach {
        condo,
        record,
        shared,
    };
    run(app, who, &[], payload);
}

fn propose(app: &App, who: &str, condo: Hash32, action: Action, blocks: u64) {
    let deadline_height = at(app) + blocks;
    let payload = Payload::CondoPropose {
        condo,
        action,
        deadline_height,
    };
    run(app, who, &[], payload);
}

fn vote(app: &App, who: &str, condo: Hash32, proposal: u64) {
    run(app, who, &[], Payload::CondoVote { condo, proposal });
}

const ALL: Page = Page {
    after: 0,
    limit: PAGE_MAX,
};

#[test]
fn a_condominium_reads_back_with_its_shares_objects_and_governance() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let (condo, shares) = found(&app);
    let flat = register(&app, "alice");
    attach(&app, "alice", condo, flat, true);
    let car = register(&app, "bob");
    attach(&app, "bob", condo, car, false);

    let view = condo_view(&app.storage, &condo, at(&app)).unwrap();
    let account = tamga_runtime::condo::account_of(&condo);
    assert_eq!(view["id"], json!(condo));
    assert_eq!(view["account"], json!(account));
    assert_eq!(view["status"], "active");
    assert_eq!(view["denominator"], 6);
    assert_eq!(view["created_height"], 1);
    assert_eq!(view["preemption_blocks"], 2);
    let fractions: Vec<(Value, Value, Value)> = view["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subject"].clone(),
                p["share"].clone(),
                p["fraction"].clone(),
            )
        })
        .collect();
    assert_eq!(
        fractions,
        [
            (
                json!(dev_subject("alice")),
                json!({"num": 3, "den": 6}),
                json!("1/2")
            ),
            (
                json!(dev_subject("bob")),
                json!({"num": 2, "den": 6}),
                json!("1/3")
            ),
            (
                json!(dev_subject("bank")),
                json!({"num": 1, "den": 6}),
                json!("1/6")
            ),
        ]
    );
    assert_eq!(view["participants"][0]["records"], json!([shares[0]]));
    assert_eq!(view["shared"][0]["record"], json!(flat));
    assert_eq!(view["shared"][0]["owner"], json!(account));
    assert_eq!(view["individual"][0]["record"], json!(car));
    assert_eq!(view["individual"][0]["owner"], json!(dev_subject("bob")));
    let governance = &view["governance"];
    assert_eq!(governance["kind"], "voting");
    assert_eq!(governance["thresholds"]["use"], "1/2");
    assert_eq!(governance["thresholds"]["lease_or_pledge"], "2/3");
    assert_eq!(governance["thresholds"]["sale_or_termination"], "3/4");
    assert_eq!(governance["thresholds"]["dissolve"], "1/1");
    assert_eq!(view["open_proposals"], json!([]));
}

#[test]
fn proposals_show_their_tally_against_the_threshold_and_whether_open_expired_or_executed() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let (condo, _) = found(&app);
    let flat = register(&app, "alice");
    attach(&app, "alice", condo, flat, true);
    let bank = dev_subject("bank");
    let sale = Action::Sell {
        object: flat,
        buyer: bank,
        value: 1_000,
    };
    propose(&app, "alice", condo, sale, 20);
    let terms = "one car at a time".to_string();
    propose(
        &app,
        "bob",
        condo,
        Action::Use {
            object: flat,
            terms,
        },
        1,
    );
    empty_block(&app);
    empty_block(&app);
    vote(&app, "bank", condo, 1);

    let listed = proposals_view(&app.storage, &condo, ALL, at(&app)).unwrap();
    let [sale, rule] = listed["proposals"].as_array().unwrap().as_slice() else {
        panic!("{listed}")
    };
    assert_eq!(sale["number"], 1);
    assert_eq!(sale["kind"], "sale_or_termination");
    assert_eq!(sale["status"], "open", "4/6 is short of 3/4");
    assert_eq!(sale["tally"], json!({"num": 4, "den": 6}));
    assert_eq!(sale["tally_fraction"], "2/3");
    assert_eq!(sale["threshold"], "3/4");
    assert_eq!(sale["voters"], json!([dev_subject("alice"), bank]));
    assert_eq!(sale["action"]["sell"]["buyer"], json!(bank));
    assert_eq!(rule["status"], "expired", "its deadline has passed");
    assert_eq!(rule["tally"], json!({"num": 2, "den": 6}));
    let view = condo_view(&app.storage, &condo, at(&app)).unwrap();
    assert_eq!(
        view["open_proposals"],
        json!([1]),
        "the expired one is not open"
    );

    vote(&app, "bob", condo, 1);
    let executed_at = app.tip().height;
    let listed = proposals_view(&app.storage, &condo, ALL, at(&app)).unwrap();
    let sale = &listed["proposals"][0];
    assert_eq!(sale["status"], "executed");
    assert_eq!(sale["executed_height"], executed_at);
    assert_eq!(app.storage.record(&flat).unwrap().unwrap().owner, bank);
    let view = condo_view(&app.storage, &condo, at(&app)).unwrap();
    assert_eq!(view["shared"], json!([]));

    let first = Page { after: 0, limit: 1 };
    let page = proposals_view(&app.storage, &condo, first, at(&app)).unwrap();
    assert_eq!(page["proposals"].as_array().unwrap().len(), 1);
    assert_eq!(page["next"], 1);
    let second = Page { after: 1, limit: 1 };
    let page = proposals_view(&app.storage, &condo, second, at(&app)).unwrap();
    assert_eq!(page["proposals"][0]["number"], 2);
    assert_eq!(page["next"], Value::Null);
}

#[test]
fn offers_show_their_windows_and_who_took_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let (condo, shares) = found(&app);
    let offer = |numerator| Payload::CondoOffer {
        condo,
        record: shares[0],
        numerator,
        terms: "500 000 tenge, paid at once".into(),
        open_blocks: 4,
    };
    run(&app, "alice", &[], offer(1));
    run(&app, "bob", &[], Payload::CondoTake { condo, offer: 1 });
    let taken_at = app.tip().height;
    run(&app, "alice", &[], offer(1));

    let listed = offers_view(&app.storage, &condo, ALL, at(&app)).unwrap();
    let first = &listed["offers"][0];
    assert_eq!(first["status"], "taken");
    assert_eq!(
        first["taken"],
        json!({ "by": dev_subject("bob"), "height": taken_at })
    );
    let second = &listed["offers"][1];
    assert_eq!(second["status"], "preemption");
    assert_eq!(second["seller"], json!(dev_subject("alice")));
    assert_eq!(second["share"], json!({"num": 1, "den": 6}));
    let opened = second["opened_height"].as_u64().unwrap();
    assert_eq!(second["preemption_until"], opened + 2);
    assert_eq!(second["open_until"], opened + 4);
    empty_block(&app);
    empty_block(&app);
    let listed = offers_view(&app.storage, &condo, ALL, at(&app)).unwrap();
    assert_eq!(listed["offers"][1]["status"], "open");
    empty_block(&app);
    empty_block(&app);
    let listed = offers_view(&app.storage, &condo, ALL, at(&app)).unwrap();
    assert_eq!(listed["offers"][1]["status"], "closed");

    // bob holds 2/6 founded and 1/6 bought: 1/2 in all, whatever the records.
    let view = condo_view(&app.storage, &condo, at(&app)).unwrap();
    let bob = &view["participants"][1];
    assert_eq!(bob["subject"], json!(dev_subject("bob")));
    assert_eq!(bob["share"], json!({"num": 3, "den": 6}));
    assert_eq!(bob["fraction"], "1/2");
    assert!(!bob["records"].as_array().unwrap().is_empty());
    assert_eq!(view["participants"][0]["fraction"], "1/3");
}

#[test]
fn an_unknown_condominium_is_not_found_with_a_stable_reason() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let unknown = Hash32([7; 32]);
    for result in [
        condo_view(&app.storage, &unknown, 1),
        proposals_view(&app.storage, &unknown, ALL, 1),
        offers_view(&app.storage, &unknown, ALL, 1),
    ] {
        let error = result.unwrap_err();
        assert_eq!(error.code(), NOT_FOUND);
        let data: Value = serde_json::from_str(error.data().unwrap().get()).unwrap();
        assert_eq!(data["reason"], "condo.not_found");
        assert!(error.message().contains(&unknown.to_hex()));
    }
}

#[test]
fn fractions_print_in_lowest_terms() {
    assert_eq!(fraction_text(3, 6), "1/2");
    assert_eq!(fraction_text(4, 6), "2/3");
    assert_eq!(fraction_text(6, 6), "1/1");
    assert_eq!(fraction_text(0, 6), "0/1");
    assert_eq!(fraction_text(7, 13), "7/13");
}
