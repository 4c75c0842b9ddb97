//! Certified signers on a running node (Art. 40-41, 45, 49-61): an authority
//! issues, a subject acts, its key is revoked and refused while its earlier
//! signature still verifies, a new key for the same subject keeps its records;
//! wrong identifiers, expired certificates, non-authorities, non-courts and
//! unfit arbiters are refused with their Articles; several people sign one
//! transaction from their own homes; an erasure leaves no clear identifier.

use serde_json::{json, Value};
use std::path::Path;
use tamga_runtime::types::{encoding, Block};
use tamga_runtime::{PublicKey, SubjectId};
use tamga_tests::cluster::Cluster;
use tamga_tests::{files_containing, reason, Node};

/// A test IIN (check digit right): born 1995-06-14.
const DANA_IIN: &str = "950614300174";

fn new_key(node: &Node, wallet: &Path, name: &str) -> String {
    let made = node.cli_in(wallet, &["keys", "new", name]).ok();
    made["public_key"].as_str().unwrap().to_owned()
}

fn issue(node: &Node, args: &[&str]) -> tamga_tests::CliResult {
    node.cli(&[&["cert", "issue", "--from", "authority"][..], args].concat())
}

fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

fn subject_id(hex: &str) -> SubjectId {
    SubjectId::from_hex(hex).unwrap()
}

fn public_key(hex: &str) -> PublicKey {
    PublicKey::from_hex(hex).unwrap()
}

/// dana, certified by the dev root authority with a key of her own.
fn certify_dana(node: &Node, wallet: &Path) -> (String, String, String) {
    let key = new_key(node, wallet, "dana");
    let issued = issue(
        node,
        &[
            "--key",
            &key,
            "--kind",
            "individual",
            "--identifier",
            DANA_IIN,
            "--name",
            "Dana Sultanova",
        ],
    )
    .ok();
    (
        key,
        field(&issued, "certificate"),
        field(&issued, "subject"),
    )
}

/// Every signature in the block at `height` verifies over its transaction's hash.
fn block_signature_verifies(node: &Node, height: u64, signer: &str) -> bool {
    let raw = node.client().block_get_raw(height).unwrap();
    let block: Block = encoding::decode(&raw.block.0).unwrap();
    block.txs.iter().any(|tx| {
        tx.tx.signer.to_hex() == signer
            && tamga_runtime::execute::verify_signature(&tx.tx.signer, &tx.id(), &tx.signature)
    })
}

#[test]
fn issue_act_revoke_and_a_new_key_for_the_same_subject_keeps_its_records() {
    let node = Node::dev(100);
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("dana");
    let (key, first, dana) = certify_dana(&node, &wallet);
    // The ledger holds no IIN, only its commitment.
    let subject = node.client().subject_get(subject_id(&dana)).unwrap();
    assert_eq!(subject.kind, tamga_runtime::pki::SubjectKind::Individual);
    assert!(!json!(subject).to_string().contains(DANA_IIN));

    let flat = node.register("tangible", &dana, "Flat 7");
    let acted = node
        .cli_in(
            &wallet,
            &[
                "tx",
                "record",
                "register",
                "--from",
                "dana",
                "--category",
                "digital",
                "--description",
                "Dana's design",
                "--owner",
                "dana",
            ],
        )
        .ok();
    let acted_at = acted["height"].as_u64().unwrap();

    // The key is lost: the authority revokes it at the holder's request.
    node.cli(&[
        "cert",
        "revoke",
        &first,
        "--reason",
        "holder-request",
        "--from",
        "authority",
    ])
    .ok();
    let bob = node.subject("bob").to_hex();
    let refused = node
        .cli_in(
            &wallet,
            &[
                "tx", "record", "transfer", &flat, "--to", &bob, "--from", "dana",
            ],
        )
        .refused();
    assert_eq!(refused, "pki.uncertified_signer");
    // The earlier signature stays valid: the certificate was valid at its height,
    // and the signature in the block still verifies.
    let then = node
        .cli(&["cert", "status", &key, "--height", &acted_at.to_string()])
        .ok();
    assert_eq!(then["status"]["status"], "valid");
    let now = node.cli(&["cert", "status", &key]).ok();
    assert_eq!(now["status"]["status"], "revoked");
    assert!(block_signature_verifies(&node, acted_at, &key));
    let listed = node.cli(&["cert", "list", "--revoked"]).ok();
    let revoked = &listed["revocations"][0];
    assert_eq!(revoked["certificate"], json!(first));
    assert_eq!(revoked["revocation"]["reason"], "holder_request");

    // A new key for the same subject takes over; nothing was stranded.
    let second = new_key(&node, &wallet, "dana2");
    issue(
        &node,
        &[
            "--key",
            &second,
            "--subject",
            &dana,
            "--name",
            "Dana Sultanova",
        ],
    )
    .ok();
    node.cli_in(
        &wallet,
        &[
            "tx", "record", "transfer", &flat, "--to", &bob, "--from", "dana2",
        ],
    )
    .ok();
    let record = node.cli(&["query", "record", &flat]).ok();
    assert_eq!(record["owner"], json!(node.subject("bob")));
    let certs = node.cli(&["cert", "list", "--subject", &dana]).ok();
    assert_eq!(certs["certificates"].as_array().unwrap().len(), 2);
    // The revoked key is never certified again.
    let again = issue(
        &node,
        &["--key", &key, "--subject", &dana, "--name", "Dana"],
    )
    .refused();
    assert_eq!(again, "pki.key_revoked");
}

/// A valid IIN of someone born on 1 January ten years ago (21st century).
fn ten_year_old_iin() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let year = 1970 + secs / 31_556_952 - 10;
    (10..99)
        .find_map(|serial| {
            let body = format!("{:02}0101500{serial:02}", year % 100);
            let mut digits = [0u8; 12];
            for (slot, b) in digits.iter_mut().zip(body.bytes()) {
                *slot = b - b'0';
            }
            tamga_runtime::pki::identifier::check_digit(&digits).map(|c| format!("{body}{c}"))
        })
        .unwrap()
}

/// A certificate issue signed by the dev authority and sent to `cert_issue`
/// directly, with `iin` in clear beside its commitment.
fn hand_made_issue(
    node: &Node,
    key: &str,
    iin: &str,
) -> Result<tamga_client::Issued, tamga_client::Error> {
    use tamga_runtime::pki::identifier::{identifier_commitment, name_commitment};
    use tamga_runtime::pki::{Point, SubjectKind, SubjectRef};
    let (salt, name_salt) = ([7u8; 32], [8u8; 32]);
    let payload = tamga_runtime::types::Payload::IssueCertificate {
        subject: SubjectRef::New {
            kind: SubjectKind::Individual,
            identifier: identifier_commitment(SubjectKind::Individual, iin, &salt),
        },
        key: tamga_runtime::PublicKey::from_hex(key).unwrap(),
        name: name_commitment("X", &name_salt),
        roles: vec![],
        valid_from: None,
        valid_until: Point::Height(1_000_000),
    };
    let tx = node.sign_with(&node.key("authority"), payload, &[]);
    let personal = tamga_client::PersonalData {
        identifier: Some(iin.into()),
        identifier_salt: Some(hex::encode(salt)),
        name: "X".into(),
        name_salt: hex::encode(name_salt),
    };
    node.client()
        .cert_issue(&tx, &personal, "tamga-dev-api-token-public")
}

#[test]
fn wrong_identifiers_expired_certificates_and_missing_roles_are_refused() {
    let node = Node::dev(100);
    let dir = tempfile::tempdir().unwrap();
    let key = new_key(&node, &dir.path().join("w"), "x");
    // `tamga cert issue` of `key` for an individual, as `from`, plus `extra` flags.
    let issue_as = |from: &str, identifier: &str, extra: &[&str]| {
        let base = [
            "cert",
            "issue",
            "--from",
            from,
            "--key",
            &key,
            "--kind",
            "individual",
            "--identifier",
            identifier,
            "--name",
            "X",
        ];
        node.cli(&[&base[..], extra].concat())
    };
    let issue_for = |identifier: &str| issue_as("authority", identifier, &[]);
    // Wrong check digit: refused by the CLI before anything is signed...
    let wrong = issue_for("950614300175");
    assert!(
        wrong.json.to_string().contains("Art. 45 p.2"),
        "{}",
        wrong.json
    );
    assert_eq!(wrong.refused(), "pki.identifier_invalid");
    // ...and by the node, whatever the client: a hand-made, well-signed request.
    let refused = hand_made_issue(&node, &key, "950614300175").unwrap_err();
    assert_eq!(reason(&refused), "pki.identifier_invalid");
    assert_eq!(
        issue_for(&ten_year_old_iin()).refused(),
        "pki.under_sixteen",
        "not sixteen (Art. 60 p.4)"
    );
    // Only an authority issues.
    let by_alice = issue_as("alice", DANA_IIN, &[]);
    assert_eq!(by_alice.refused(), "pki.not_an_authority");
    // A wrong API token changes nothing.
    let bad_token = issue_as("authority", DANA_IIN, &["--token", "not-the-token-at-all"]);
    assert_eq!(bad_token.refused(), "vault.bad_token");

    // A certificate valid for three more heights, then expired.
    let until = (node.height() + 3).to_string();
    let issued = issue_as("authority", DANA_IIN, &["--valid-until-height", &until]).ok();
    node.wait_height(
        until.parse::<u64>().unwrap() + 1,
        std::time::Duration::from_secs(20),
    )
    .unwrap();
    let late = node.cli_in(
        &dir.path().join("w"),
        &[
            "tx",
            "record",
            "register",
            "--from",
            "x",
            "--category",
            "digital",
            "--description",
            "late",
            "--owner",
            &field(&issued, "subject"),
        ],
    );
    assert_eq!(late.refused(), "pki.uncertified_signer");

    // An arrest only by a court, citing its order.
    let flat = node.register("tangible", "alice", "Flat 9");
    let order = "11".repeat(32);
    let by_registrar = node.cli(&[
        "tx",
        "record",
        "encumber",
        &flat,
        "--kind",
        "arrest",
        "--holder",
        "registrar",
        "--document",
        &order,
        "--from",
        "registrar",
    ]);
    assert_eq!(by_registrar.refused(), "record.arrest_needs_court");
    let no_order = node.cli(&[
        "tx", "record", "encumber", &flat, "--kind", "arrest", "--holder", "court", "--from",
        "court",
    ]);
    assert_eq!(no_order.refused(), "record.arrest_needs_order");
    node.cli(&[
        "tx",
        "record",
        "encumber",
        &flat,
        "--kind",
        "arrest",
        "--holder",
        "court",
        "--document",
        &order,
        "--from",
        "court",
    ])
    .ok();
    let pledge = node.cli(&[
        "tx", "record", "encumber", &flat, "--kind", "pledge", "--holder", "bank", "--from",
        "alice",
    ]);
    assert_eq!(
        pledge.refused(),
        "record.arrested",
        "an arrest blocks a new pledge too"
    );
}

#[test]
fn arbiters_must_hold_the_role_and_not_be_parties() {
    let node = Node::dev(100);
    let wasm = tamga_tests::contract_wasm("escrow-sale");
    let terms = tamga_tests::contract_terms("escrow-sale");
    let deploy = |arbiter: &str| {
        node.cli(&[
            "contract",
            "deploy",
            wasm.to_str().unwrap(),
            "--terms",
            terms.to_str().unwrap(),
            "--arbiter",
            arbiter,
            "--quorum",
            "1",
            "--deadline",
            "5",
            "--from",
            "alice",
        ])
    };
    assert_eq!(deploy("bob").refused(), "contract.arbiter_not_certified");
    let contract = field(&deploy("arbiter1").ok(), "contract");
    let instantiate = node.cli(&[
        "contract",
        "instantiate",
        &contract,
        "--party",
        "alice",
        "--party",
        "arbiter1",
        "--from",
        "alice",
    ]);
    assert_eq!(instantiate.refused(), "contract.arbiter_is_party");
}

#[test]
fn several_people_sign_one_transaction_each_from_their_own_home() {
    let node = Node::dev(100);
    let flat = node
        .cli(&[
            "tx",
            "record",
            "register",
            "--from",
            "registrar",
            "--category",
            "tangible",
            "--description",
            "Flat 3",
            "--owner",
            "bob",
        ])
        .ok();
    let flat = field(&flat, "record");
    let (alice, bank) = (
        node.subject("alice").to_hex(),
        node.subject("bank").to_hex(),
    );
    node.cli_in(
        &node.wallet("bob"),
        &[
            "tx", "record", "encumber", &flat, "--kind", "pledge", "--holder", &bank, "--from",
            "bob",
        ],
    )
    .ok();
    // bob writes the sale; the bank reviews and signs it on its own machine.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sale.json");
    let file = file.to_str().unwrap();
    node.cli_in(
        &node.wallet("bob"),
        &[
            "tx", "record", "transfer", &flat, "--to", &alice, "--from", "bob", "--out", file,
        ],
    )
    .ok();
    let text = std::fs::read_to_string(file).unwrap();
    let bob_secret = tamga_tests::read_key(&node.wallet("bob").join("keys/bob.json"));
    assert!(
        !text.contains(&hex::encode(bob_secret.to_bytes())),
        "no secret in the file"
    );
    let shown = node
        .cli_in(&node.wallet("bank"), &["tx", "show", file])
        .ok();
    assert!(field(&shown, "description").starts_with("Transfer the whole of record"));
    assert_eq!(shown["signed_by"], json!([node.public("bob")]));
    // Without the bank's signature the pledge holds.
    let early = node.cli(&["tx", "submit", file]).refused();
    assert_eq!(early, "record.encumbrance_consent_missing");
    // No terminal and no --yes: nothing is signed (Art. 50 p.3(2)).
    let unconfirmed = node.cli_in(
        &node.wallet("bank"),
        &["tx", "sign", file, "--from", "bank"],
    );
    assert!(!unconfirmed.success);
    node.cli_in(
        &node.wallet("bank"),
        &["tx", "sign", file, "--from", "bank", "--yes"],
    )
    .ok();
    // A file altered after signing fails its signatures.
    let altered = text.replace("\"nonce\": ", "\"nonce\": 1");
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, altered).unwrap();
    assert!(!node.cli(&["tx", "show", forged.to_str().unwrap()]).success);
    node.cli(&["tx", "submit", file]).ok();
    let record = node.cli(&["query", "record", &flat]).ok();
    assert_eq!(record["owner"], json!(node.subject("alice")));
    // Each wallet holds one key: no one's key was copied anywhere.
    for name in ["bob", "bank"] {
        let keys: Vec<_> = std::fs::read_dir(node.wallet(name).join("keys"))
            .unwrap()
            .collect();
        assert_eq!(keys.len(), 1, "{name}'s wallet");
    }
}

#[test]
fn an_erasure_leaves_no_clear_identifier_and_every_block_still_verifies() {
    let node = Node::dev(100);
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("dana");
    let (_, _, dana) = certify_dana(&node, &wallet);
    let token = "tamga-dev-api-token-public";
    let dana_id = subject_id(&dana);
    let identity = node.client().cert_identity(dana_id, token).unwrap();
    assert_eq!(identity.identifier, DANA_IIN);
    assert_eq!(
        reason(
            &node
                .client()
                .cert_identity(dana_id, "wrong-token-wrong-token")
                .unwrap_err()
        ),
        "vault.bad_token"
    );
    let salt = identity.identifier_salt;
    let check = node
        .client()
        .cert_check_identifier(dana_id, DANA_IIN, &salt)
        .unwrap();
    assert!(check.matches);
    assert!(
        !files_containing(&node.home.join("data"), DANA_IIN.as_bytes()).is_empty(),
        "the vault had it"
    );
    let flat = node
        .cli(&[
            "tx",
            "record",
            "register",
            "--from",
            "registrar",
            "--category",
            "tangible",
            "--description",
            "Flat 8",
            "--owner",
            &dana,
        ])
        .ok();
    let flat = field(&flat, "record");

    // dana asks for erasure, signing it herself.
    node.cli_in(&wallet, &["cert", "erase", "dana", "--from", "dana"])
        .ok();
    let tip = node.height();
    for clear in [DANA_IIN, "Dana Sultanova"] {
        let found = files_containing(&node.home, clear.as_bytes());
        assert!(found.is_empty(), "{clear} still in {found:?}");
    }
    assert!(node.client().cert_identity(dana_id, token).is_err());
    let erased = node.client().subject_get(dana_id).unwrap();
    assert!(erased.erased_height.is_some());
    for height in 1..=tip {
        let block = node.client().block_get(Some(height)).unwrap();
        assert!(
            !json!(block).to_string().contains(DANA_IIN),
            "block {height}"
        );
    }
    let certificates = node.client().cert_by_subject(dana_id, None, None).unwrap();
    assert!(!json!(certificates).to_string().contains(DANA_IIN));
    // The ledger is whole: every block and certificate verifies, and her record
    // is still hers.
    tamga_tests::chain::assert_chains_identical(&[&node], tip);
    let record = node.cli(&["query", "record", &flat]).ok();
    assert_eq!(record["owner"], json!(dana));
    let bob = node.subject("bob").to_hex();
    node.cli_in(
        &wallet,
        &[
            "tx", "record", "transfer", &flat, "--to", &bob, "--from", "dana",
        ],
    )
    .ok();
}

#[test]
fn on_four_validators_a_certificate_is_issued_used_revoked_and_erased_alike() {
    let cluster = Cluster::start_validators(4, 0, 200);
    let wait = std::time::Duration::from_secs(90);
    cluster.wait_height(2, wait).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("dana");
    let (n0, n1, n2, n3) = (
        cluster.node(0),
        cluster.node(1),
        cluster.node(2),
        cluster.node(3),
    );
    // Issued through node0 (its vault keeps the IIN), used through node1.
    // Each step waits for every node to hold the block the last one committed
    // on its node: the next goes through another node, which may be a block
    // behind (the CLI waits for the commit on the node it used).
    let (key, cert, dana) = certify_dana(n0, &wallet);
    cluster.wait_height(n0.height(), wait).unwrap();
    let own = |node: &Node, what: &str| {
        node.cli_in(
            &wallet,
            &[
                "tx",
                "record",
                "register",
                "--from",
                "dana",
                "--category",
                "digital",
                "--description",
                what,
                "--owner",
                &dana,
            ],
        )
    };
    own(n1, "through node1").ok();
    cluster.wait_height(n1.height(), wait).unwrap();
    n2.cli(&[
        "cert",
        "revoke",
        &cert,
        "--reason",
        "false-data",
        "--from",
        "authority",
    ])
    .ok();
    cluster.wait_height(n2.height(), wait).unwrap();
    assert_eq!(own(n3, "through node3").refused(), "pki.uncertified_signer");
    n1.cli(&["cert", "erase", &dana, "--from", "authority"])
        .ok();
    let tip = n1.height();
    cluster.wait_height(tip + 2, wait).unwrap();
    for i in 0..4 {
        let node = cluster.node(i);
        let status = node.client().cert_status(public_key(&key), None).unwrap();
        assert_eq!(json!(status.status)["reason"], "false_data", "node {i}");
        let subject = node.client().subject_get(subject_id(&dana)).unwrap();
        assert!(subject.erased_height.is_some(), "node {i}");
        let found = files_containing(&node.home, DANA_IIN.as_bytes());
        assert!(found.is_empty(), "node {i}: the IIN is still in {found:?}");
    }
    let nodes: Vec<&Node> = (0..4).map(|i| cluster.node(i)).collect();
    tamga_tests::chain::assert_chains_identical(&nodes, tip);
}
