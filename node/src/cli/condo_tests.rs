//! The condominium CLI without a node: shares as fractions become one exact
//! denominator or are refused naming Art. 35 p.5, thresholds and governance
//! flags parse into one rule, the command shapes parse, every condominium
//! payload reads in plain words for `tx show`, and committed results lift the
//! new ids for scripts.

use super::super::condo_create::{
    common_denominator, create_payload, default_thresholds, founders, governance_draft,
    parse_fraction, thresholds, GovernanceDraft,
};
use super::super::condo_show::{
    created_condo, describe, lift_results, offers_text, proposals_text,
};
use super::super::tx::TxCommand;
use super::super::{Cli, Command, Globals, Output};
use super::*;
use crate::config::Home;
use clap::Parser;
use serde_json::{json, Value};
use tamga_runtime::condo::{DecisionKind, Fraction, Governance, Mandate};
use tamga_runtime::types::{hashing, Founder};

const ID: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn parse(args: &[&str]) -> Result<CondoCommand, clap::Error> {
    let cli = Cli::try_parse_from([&["tamga", "tx", "condo"][..], args].concat())?;
    match cli.command {
        Command::Tx(TxCommand::Condo(command)) => Ok(command),
        _ => panic!("not a condo command"),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn fractions_with_their_own_denominators_become_one_exactly() {
    let (names, den, nums) = founders(&strings(&["alice:1/2", "bob:1/3", "carol:1/6"])).unwrap();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert_eq!((den, nums), (6, vec![3, 2, 1]));
    assert_eq!(
        common_denominator(&[(2, 4), (1, 2)]).unwrap(),
        (2, vec![1, 1])
    );
    assert_eq!(common_denominator(&[(1, 1)]).unwrap(), (1, vec![1]));
    assert_eq!(
        common_denominator(&[(1, 4), (1, 6), (7, 12)]).unwrap(),
        (12, vec![3, 2, 7])
    );
    // A subject id contains no colon; the share is after the last one.
    let hex = format!("{ID}:1/1");
    assert_eq!(founders(&[hex]).unwrap().0, [ID]);
}

#[test]
fn shares_that_do_not_make_the_whole_are_refused_naming_the_article() {
    for (items, sum) in [
        (&["alice:1/2", "bob:1/3"][..], "5/6"),
        (&["alice:1/2", "bob:2/3"][..], "7/6"),
        (&["alice:3/2"][..], "3/2"),
    ] {
        let error = founders(&strings(items)).unwrap_err().to_string();
        assert!(error.contains(sum), "{error}");
        assert!(error.contains("not 1"), "{error}");
        assert!(error.contains("Art. 35 p.5"), "{error}");
    }
    for bad in [
        "alice:0/2",
        "alice:1/0",
        "alice:half",
        "alice",
        "alice:1/-2",
    ] {
        assert!(founders(&strings(&[bad])).is_err(), "{bad}");
    }
    let twice = founders(&strings(&["alice:1/2", "alice:1/2"])).unwrap_err();
    assert!(twice.to_string().contains("named twice"), "{twice}");
    let huge = 1u64 << 41;
    let error = common_denominator(&[(1, huge), (huge - 1, huge)]).unwrap_err();
    assert!(error.to_string().contains("limit"), "{error}");
    assert!(parse_fraction("1/3").is_ok());
}

#[test]
fn thresholds_default_to_the_statutory_set_and_each_can_be_overridden() {
    let f = |num, den| Fraction { num, den };
    let defaults = thresholds(&[]).unwrap();
    assert_eq!(defaults, default_thresholds());
    assert_eq!(defaults.use_object, f(1, 2));
    assert_eq!(defaults.lease_or_pledge, f(2, 3));
    assert_eq!(defaults.sale_or_termination, f(3, 4));
    assert_eq!(defaults.admit, f(1, 1));
    assert_eq!(defaults.change_agreement, f(1, 1));
    assert_eq!(defaults.dissolve, f(1, 1));
    let set = thresholds(&strings(&["sale=2/3", "pledge=1/2", "agreement=3/4"])).unwrap();
    assert_eq!(set.sale_or_termination, f(2, 3));
    assert_eq!(set.lease_or_pledge, f(1, 2));
    assert_eq!(set.change_agreement, f(3, 4));
    assert_eq!(set.use_object, f(1, 2), "the others keep their defaults");
    for bad in ["use=3/2", "rent=1/2", "use", "use=0/2"] {
        assert!(thresholds(&strings(&[bad])).is_err(), "{bad}");
    }
}

fn create_args(extra: &[&str]) -> Result<CreateArgs, clap::Error> {
    let base = [
        "create",
        "--agreement",
        "Parking",
        "--participant",
        "alice:1/1",
    ];
    let all = [&base[..], extra, &["--from", "alice"]].concat();
    match parse(&all)? {
        CondoCommand::Create(args) => Ok(*args),
        _ => panic!("not create"),
    }
}

#[test]
fn governance_flags_describe_exactly_one_rule() {
    let voting = governance_draft(&create_args(&["--threshold", "use=2/3"]).unwrap()).unwrap();
    let GovernanceDraft::Voting(t) = voting else {
        panic!("{voting:?}")
    };
    assert_eq!(t.use_object, Fraction { num: 2, den: 3 });
    let contract = governance_draft(&create_args(&["--instance", ID]).unwrap()).unwrap();
    assert!(matches!(contract, GovernanceDraft::Contract(_)));

    let mandate = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(mandate.path(), "Bob manages the parking places.").unwrap();
    let path = mandate.path().to_str().unwrap();
    let args = create_args(&[
        "--representative",
        "bob",
        "--mandate-file",
        path,
        "--mandate-kinds",
        "use,pledge",
        "--mandate-value-max",
        "500",
    ])
    .unwrap();
    let GovernanceDraft::Representative {
        name,
        kinds,
        value_max,
        text,
        ..
    } = governance_draft(&args).unwrap()
    else {
        panic!("not a representative")
    };
    assert_eq!((name.as_str(), value_max), ("bob", 500));
    assert_eq!(kinds, [DecisionKind::Use, DecisionKind::LeaseOrPledge]);
    assert_eq!(text, "Bob manages the parking places.");

    for (flags, says) in [
        (&["--representative", "bob"][..], "--mandate-file"),
        (
            &["--governance", "voting", "--instance", ID][..],
            "--instance",
        ),
        (
            &["--instance", ID, "--threshold", "use=1/2"][..],
            "--threshold",
        ),
        (
            &["--mandate-kinds", "use"][..],
            "--governance representative",
        ),
    ] {
        let error = governance_draft(&create_args(flags).unwrap()).unwrap_err();
        assert!(error.to_string().contains(says), "{flags:?}: {error}");
    }
    assert!(
        create_args(&["--agreement-file", "x"]).is_err(),
        "one agreement"
    );
}

/// Parses a command line written as one string (no argument holds a space);
/// `ID` stands for a 64-hex id.
fn parse_line(line: &str) -> Result<CondoCommand, clap::Error> {
    let line = line.replace("ID", ID);
    parse(&line.split_whitespace().collect::<Vec<_>>())
}

#[test]
fn a_proposal_parses_with_its_action_and_the_deadline_on_either_side() {
    // The deadline may come after the action too.
    let line = "propose ID sell --object ID --to bank --value 9 --from alice --deadline-blocks 7";
    let CondoCommand::Propose {
        deadline_blocks,
        action: ActionCommand::Sell { deal, opts },
        ..
    } = parse_line(line).unwrap()
    else {
        panic!("not a sale proposal")
    };
    assert_eq!(
        (deadline_blocks, deal.to.as_str(), deal.value),
        (7, "bank", 9)
    );
    assert_eq!(opts.from, "alice");
    let line = "propose ID --deadline-blocks 3 terminate --object ID --from a";
    let Ok(CondoCommand::Propose {
        deadline_blocks, ..
    }) = parse_line(line)
    else {
        panic!("not a proposal")
    };
    assert_eq!(deadline_blocks, 3);
    let line = "propose ID admit --subject dana --share 2 --from a --out f.json";
    let Ok(CondoCommand::Propose {
        deadline_blocks,
        action,
        ..
    }) = parse_line(line)
    else {
        panic!("not a proposal")
    };
    assert_eq!(deadline_blocks, 100, "the default");
    assert!(matches!(action, ActionCommand::Admit { share: 2, .. }));
    assert!(
        parse_line("propose ID sell --object ID --from a").is_err(),
        "no --to"
    );
    assert!(parse_line("propose ID --from a").is_err(), "no action");
}

#[test]
fn the_other_commands_parse() {
    let act = parse_line("act ID lease --object ID --to b --value 1 --from r");
    assert!(matches!(
        act,
        Ok(CondoCommand::Act {
            action: ActionCommand::Lease { .. },
            ..
        })
    ));
    let vote = parse_line("vote ID 3 --from carol");
    assert!(matches!(vote, Ok(CondoCommand::Vote { proposal: 3, .. })));
    let dissolve = parse_line("dissolve ID --allot ID=alice --from a");
    assert!(matches!(dissolve, Ok(CondoCommand::Dissolve(_))));
    let attach = parse_line("attach ID ID --shared --from a");
    assert!(matches!(
        attach,
        Ok(CondoCommand::Attach { shared: true, .. })
    ));
    let take = parse_line("take-share ID 2 --from b");
    assert!(matches!(take, Ok(CondoCommand::TakeShare { offer: 2, .. })));
    let Ok(CondoCommand::TransferShare(offer)) =
        parse_line("transfer-share ID --record ID --terms cash --from a")
    else {
        panic!("not an offer")
    };
    assert_eq!((offer.numerator, offer.open_blocks), (None, None));
}

/// Founding with others' shares needs a file to gather their signatures, and
/// shares that do not make the whole never reach the node.
#[test]
fn founding_is_checked_before_the_node_is_asked() {
    let home = tempfile::tempdir().unwrap();
    let globals = Globals {
        home: Home(home.path().to_owned()),
        // Nothing listens here: any call would fail with a transport error.
        rpc_url: Some("http://127.0.0.1:1".into()),
        output: Output::Json,
    };
    let client = super::super::client::connect(&globals).unwrap();
    let r = Resolver {
        client: &client,
        home: home.path(),
    };
    let run = |participants: &[&str]| {
        let mut args = vec!["create", "--agreement", "Parking", "--from", "alice"];
        for p in participants {
            args.extend(["--participant", p]);
        }
        let CondoCommand::Create(args) = parse(&args).unwrap() else {
            panic!()
        };
        let runtime = crate::cli::runtime().unwrap();
        match runtime.block_on(create_payload(&r, *args)) {
            Ok(_) => panic!("founding without every signature was built"),
            Err(e) => e.to_string(),
        }
    };
    let unsigned = run(&["alice:1/2", "bob:1/2"]);
    assert!(
        unsigned.contains("every founder must sign too"),
        "{unsigned}"
    );
    assert!(unsigned.contains("--out"), "{unsigned}");
    let partial = run(&["alice:1/2", "bob:1/3"]);
    assert!(partial.contains("Art. 35 p.5"), "{partial}");
}

fn sid(byte: u8) -> tamga_runtime::SubjectId {
    tamga_runtime::SubjectId([byte; 32])
}

#[test]
fn every_condominium_payload_reads_in_plain_words() {
    let condo = Hash32([7; 32]);
    let object = Hash32([8; 32]);
    let founding = Payload::CondoCreate {
        agreement: "Joint ownership of the parking place.".into(),
        denominator: 6,
        participants: vec![
            Founder {
                subject: sid(1),
                numerator: 3,
            },
            Founder {
                subject: sid(2),
                numerator: 2,
            },
            Founder {
                subject: sid(3),
                numerator: 1,
            },
        ],
        governance: Governance::Voting {
            thresholds: default_thresholds(),
        },
        preemption_blocks: 20,
    };
    let text = describe(&founding).unwrap();
    for expected in [
        "Found a digital condominium (Art. 35) of 3 participant(s)",
        &format!("subject {} holds 3/6 (1/2)", sid(1)),
        "holds 1/6 (1/6)",
        "sale or termination 3/4",
        "dissolution 1/1",
        "for 20 blocks",
        "Every founder must sign",
        "Joint ownership of the parking place.",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let representative = Governance::Representative {
        mandate: Mandate {
            representative: sid(2),
            text: "Manage the place.".into(),
            kinds: vec![DecisionKind::Use],
            value_max: 0,
        },
        thresholds: default_thresholds(),
    };
    let with_rep = Payload::CondoCreate {
        agreement: "A".into(),
        denominator: 1,
        participants: vec![Founder {
            subject: sid(1),
            numerator: 1,
        }],
        governance: representative,
        preemption_blocks: 0,
    };
    assert!(describe(&with_rep).unwrap().contains("Art. 35 p.4"));

    let sale = Action::Sell {
        object,
        buyer: sid(4),
        value: 900,
    };
    let cases = [
        (
            Payload::CondoAttach {
                condo,
                record: object,
                shared: true,
            },
            "shared object",
        ),
        (
            Payload::CondoAttach {
                condo,
                record: object,
                shared: false,
            },
            "individual object",
        ),
        (
            Payload::CondoPropose {
                condo,
                action: sale.clone(),
                deadline_height: 50,
            },
            "sell shared object",
        ),
        (
            Payload::CondoVote { condo, proposal: 2 },
            "Vote for proposal #2",
        ),
        (
            Payload::CondoAct {
                condo,
                action: sale,
            },
            "As the representative",
        ),
        (
            Payload::CondoOffer {
                condo,
                record: object,
                numerator: 1,
                terms: "cash".into(),
                open_blocks: 120,
            },
            "pre-emption",
        ),
        (Payload::CondoTake { condo, offer: 3 }, "Take offer #3"),
    ];
    for (payload, expected) in cases {
        let text = describe(&payload).unwrap();
        assert!(text.contains(expected), "{expected:?} in {text}");
        assert!(text.contains(&condo.to_hex()), "{text}");
        // `tx show` says it too.
        assert_eq!(super::super::txfile::describe(&payload), text);
    }
    assert!(describe(&Payload::Terminate { record: object }).is_none());
    let dissolve = Action::Dissolve {
        distribution: vec![tamga_runtime::condo::Allotment { object, to: sid(1) }],
    };
    let proposal = Payload::CondoPropose {
        condo,
        action: dissolve,
        deadline_height: 9,
    };
    assert!(describe(&proposal)
        .unwrap()
        .contains("dissolve the condominium"));

    let hash = Hash32([9; 32]);
    let expected = hashing::hash(&hashing::DOMAIN_CONDO_ID, &[&hash.0]);
    assert_eq!(created_condo(&hash, &founding), Some(expected));
    assert_eq!(
        created_condo(&hash, &Payload::CondoTake { condo, offer: 1 }),
        None
    );
}

#[test]
fn committed_results_lift_the_new_condominium_and_numbers() {
    let mut created = json!({ "record": "r3", "events": [
        { "condo_created": { "condo": "c1", "account": "a1" } },
        { "registered": { "record": "r1" } },
        { "registered": { "record": "r2" } },
        { "registered": { "record": "r3" } },
    ]});
    lift_results(&mut created);
    assert_eq!(created["condo"], "c1");
    assert_eq!(created["shares"], json!(["r1", "r2", "r3"]));
    assert_eq!(
        created.get("record"),
        None,
        "a share is not the record created"
    );

    let mut proposed = json!({ "events": [
        { "condo_proposed": { "condo": "c1", "proposal": 4 } },
        { "condo_voted": { "condo": "c1", "proposal": 4, "tally": 3 } },
    ]});
    lift_results(&mut proposed);
    assert_eq!(
        (&proposed["proposal"], &proposed["tally"]),
        (&json!(4), &json!(3))
    );
    assert_eq!(proposed["decided"], Value::Null);

    let mut offered = json!({ "events": [
        { "condo_share_offered": { "condo": "c1", "offer": 2, "record": "r1" } },
    ]});
    lift_results(&mut offered);
    assert_eq!(offered["offer"], 2);
}

#[test]
fn proposals_and_offers_read_as_lines() {
    let proposals = json!({ "next": 1, "proposals": [{
        "number": 1, "kind": "sale_or_termination", "proposer": "p1", "deadline_height": 90,
        "tally": { "num": 4, "den": 6 }, "tally_fraction": "2/3", "threshold": "3/4",
        "status": "executed", "executed_height": 12, "action": { "terminate": { "object": "o" } },
    }]});
    let text = proposals_text(&proposals);
    assert!(
        text.contains("#1 sale_or_termination  by p1  deadline 90"),
        "{text}"
    );
    assert!(
        text.contains("tally 4/6 (2/3) of threshold 3/4  executed at height 12"),
        "{text}"
    );
    assert!(text.contains("--after 1"), "{text}");
    let offers = json!({ "next": null, "offers": [{
        "number": 2, "share": { "num": 1, "den": 6 }, "record": "r", "seller": "s",
        "preemption_until": 30, "open_until": 130, "status": "taken",
        "taken": { "by": "b", "height": 40 }, "terms": "cash",
    }]});
    let text = offers_text(&offers);
    assert!(text.contains("#2 1/6 of record r by s"), "{text}");
    assert!(text.contains("taken by b at height 40"), "{text}");
    assert_eq!(proposals_text(&json!({ "proposals": [] })), "no proposals");
}
