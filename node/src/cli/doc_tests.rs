//! The document and certificate commands without a running node: the command
//! shapes parse, files hash as `b3sum` hashes them (or are refused clearly),
//! co-signers are checked before anything is built, and `tamga verify`'s check
//! accepts certificates a real node's storage hands out and refuses altered,
//! oversized or foreign ones, and bad genesis files.

use super::super::query::QueryCommand;
use super::super::verify::{check, VerifyArgs};
use super::super::{Cli, Command};
use super::*;
use crate::app::tests::{dev_subject, open_app, run as commit};
use crate::app::App;
use crate::cli::dev::DEV_GENESIS_JSON;
use crate::keyring::dev_key;
use clap::Parser;
use tamga_runtime::records::Event;
use tamga_runtime::types::ObjectCategory;
use tamga_verify::format::CERTIFICATE_BYTES_MAX;
use tamga_verify::report::Finding;
use tamga_verify::VerifyError;

const ID: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    Ok(Cli::try_parse_from([&["tamga"][..], args].concat())?.command)
}

#[test]
fn the_document_commands_parse() {
    let anchor = ["doc", "anchor", "lease.pdf", "--from", "alice"];
    let cosigned = [&anchor[..], &["--cosign", "bob", "--cosign", "bank"]].concat();
    match parse(&cosigned).unwrap() {
        Command::Doc(DocCommand::Anchor {
            file,
            cosigners,
            opts,
        }) => {
            assert_eq!(file, PathBuf::from("lease.pdf"));
            assert_eq!(cosigners, ["bob", "bank"]);
            assert_eq!(opts.from, "alice");
        }
        _ => panic!("not doc anchor"),
    }
    assert!(parse(&anchor[..3]).is_err(), "--from is required");
    assert!(matches!(
        parse(&["doc", "verify", "lease.pdf"]).unwrap(),
        Command::Doc(DocCommand::Verify { .. })
    ));
    let certificate = [
        "doc",
        "certificate",
        "lease.pdf",
        "--height",
        "7",
        "--out",
        "c",
    ];
    match parse(&certificate).unwrap() {
        Command::Doc(DocCommand::Certificate { height, out, .. }) => {
            assert_eq!((height, out), (Some(7), Some(PathBuf::from("c"))));
        }
        _ => panic!("not doc certificate"),
    }
    assert!(parse(&["doc", "certificate", "lease.pdf", "--height", "x"]).is_err());
}

#[test]
fn verify_and_record_certificates_parse() {
    match parse(&[
        "verify",
        "c.tamga",
        "--genesis",
        "g.json",
        "--output",
        "json",
    ])
    .unwrap()
    {
        Command::Verify(VerifyArgs {
            certificate,
            genesis,
            document: None,
        }) => assert_eq!((certificate, genesis), ("c.tamga".into(), "g.json".into())),
        _ => panic!("not verify"),
    }
    assert!(
        parse(&["verify", "c.tamga"]).is_err(),
        "--genesis is required"
    );
    let with = [
        "query",
        "record",
        ID,
        "--certificate",
        "r.tamga",
        "--height",
        "3",
    ];
    match parse(&with).unwrap() {
        Command::Query(QueryCommand::Record {
            certificate,
            height,
            ..
        }) => assert_eq!((certificate, height), (Some("r.tamga".into()), Some(3))),
        _ => panic!("not query record"),
    }
    let height_alone = ["query", "record", ID, "--height", "3"];
    assert!(
        parse(&height_alone).is_err(),
        "--height needs --certificate"
    );
}

#[test]
fn files_hash_as_b3sum_does_and_unreadable_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lease.txt");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let expected = Hash32(*blake3::hash(&bytes).as_bytes());
    assert_eq!(hash_file(&path).unwrap(), expected);
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let b3sum_of_nothing = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
    assert_eq!(hash_file(&empty).unwrap().to_hex(), b3sum_of_nothing);
    for bad in [dir.path().join("missing"), dir.path().to_path_buf()] {
        let error = format!("{:#}", hash_file(&bad).unwrap_err());
        assert!(error.starts_with("cannot read"), "{error}");
        assert!(error.contains(&bad.display().to_string()), "{error}");
    }
}

#[test]
fn cosigners_are_local_keys_each_once_and_not_the_signer() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for name in ["alice", "bob", "bank"] {
        keyring::save(home, name, &dev_key(name)).unwrap();
    }
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let keys = cosigning_keys(home, "alice", &names(&["bob", "bank"])).unwrap();
    assert_eq!(keys.len(), 2);
    for refused in [&["bob", "bob"][..], &["alice"], &["carol"]] {
        let error = cosigning_keys(home, "alice", &names(refused)).unwrap_err();
        assert!(format!("{error:#}").contains("--cosign"), "{error:#}");
    }
}

#[test]
fn signatures_are_named_by_the_keyring_and_dated_in_utc() {
    let dir = tempfile::tempdir().unwrap();
    keyring::save(dir.path(), "alice", &dev_key("alice")).unwrap();
    let alice = PublicKey::of(&dev_key("alice"));
    let bob = PublicKey::of(&dev_key("bob"));
    let mut signatures = json!([
        { "key": alice, "time_ms": 1_767_225_600_000u64, "height": 4 },
        { "key": bob, "time_ms": 0, "height": 5 },
    ]);
    annotate(&mut signatures, &key_names(dir.path()));
    assert_eq!(signatures[0]["name"], "alice");
    assert_eq!(signatures[0]["time_utc"], "2026-01-01T00:00:00.000Z");
    assert!(signatures[1]["name"].is_null());
    let text = signature_lines(&signatures).join("\n");
    assert!(text.contains("signed by alice"), "{text}");
    assert!(
        text.contains("signed by a key not in this keyring"),
        "{text}"
    );
}

/// A record alice owns, committed, and its certificate written to a file.
fn certified_record(app: &App, dir: &Path) -> (Hash32, PathBuf) {
    let payload = Payload::Register {
        category: ObjectCategory::Digital,
        description: "source code of the land registry".into(),
        owner: dev_subject("alice"),
        national: false,
        quantity: None,
    };
    let Event::Registered { record, .. } = commit(app, "registrar", &[], payload)[0] else {
        panic!("not registered")
    };
    let height = app.tip().height;
    let cert = crate::certify::record(&app.storage, &record, height).unwrap();
    let path = dir.join("record.tamga");
    certfile::write(&path, &cert.to_bytes()).unwrap();
    (record, path)
}

#[test]
fn verify_accepts_a_nodes_certificate_against_the_genesis_file() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&dir.path().join("node"));
    let (record, cert) = certified_record(&app, dir.path());
    let genesis = dir.path().join("genesis.json");
    std::fs::write(&genesis, DEV_GENESIS_JSON).unwrap();
    let verified = check(&cert, &genesis).unwrap().unwrap();
    let Finding::Record(found) = &verified.finding else {
        panic!("not a record finding")
    };
    assert_eq!(found.id, record);
    let json = serde_json::to_value(&verified).unwrap();
    assert_eq!(json["height"], 1);
    assert!(tamga_verify::render(&verified).starts_with("VERIFIED"));
}

#[test]
fn verify_refuses_altered_oversized_and_foreign_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&dir.path().join("node"));
    let (_, cert) = certified_record(&app, dir.path());
    let genesis = dir.path().join("genesis.json");
    std::fs::write(&genesis, DEV_GENESIS_JSON).unwrap();

    let mut bytes = std::fs::read(&cert).unwrap();
    let last = bytes.len() - 40;
    bytes[last] ^= 1;
    let altered = dir.path().join("altered.tamga");
    std::fs::write(&altered, &bytes).unwrap();
    assert!(check(&altered, &genesis).unwrap().is_err());

    let huge = dir.path().join("huge.tamga");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(CERTIFICATE_BYTES_MAX as u64 + 1).unwrap();
    let refused = check(&huge, &genesis).unwrap().unwrap_err();
    assert!(matches!(refused, VerifyError::TooLarge { .. }), "{refused}");

    let mut other: tamga_runtime::Genesis = serde_json::from_str(DEV_GENESIS_JSON).unwrap();
    other.chain_id = "another-chain".into();
    let foreign = dir.path().join("other.json");
    std::fs::write(&foreign, serde_json::to_vec(&other).unwrap()).unwrap();
    assert!(check(&cert, &foreign).unwrap().is_err());

    let not_genesis = dir.path().join("bad.json");
    std::fs::write(&not_genesis, b"{\"chain_id\": 1}").unwrap();
    let refused = check(&cert, &not_genesis).unwrap().unwrap_err();
    assert!(matches!(refused, VerifyError::BadGenesis(_)), "{refused}");
    assert!(refused.to_string().contains("bad.json"), "{refused}");

    let missing = dir.path().join("missing.tamga");
    let error = check(&missing, &genesis).unwrap_err();
    assert!(format!("{error:#}").contains("missing.tamga"), "{error:#}");
}
