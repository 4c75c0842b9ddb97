//! Changing the validator set by transaction (Art. 26 p.3(2)): signed by more than
//! 2/3 of the current power, effective two heights later; a fifth validator joins,
//! then one leaves, and the chain keeps committing throughout.

use std::time::Duration;
use tamga_runtime::records::Event;
use tamga_runtime::types::Payload;
use tamga_runtime::validators::Validator;
use tamga_runtime::PublicKey;
use tamga_tests::cluster::{wait_committed, Cluster};
use tamga_tests::reason;

const WAIT: Duration = Duration::from_secs(90);

fn set_of(keys: &[PublicKey]) -> Payload {
    let validators = keys
        .iter()
        .map(|k| Validator {
            public_key: *k,
            power: 1,
        })
        .collect();
    Payload::SetValidators { validators }
}

fn set_keys(cluster: &Cluster, node: usize) -> Vec<String> {
    let set = cluster.node(node).client().validators_get().unwrap();
    let mut keys: Vec<String> = set
        .validators
        .iter()
        .map(|v| v.public_key.to_string())
        .collect();
    keys.sort();
    keys
}

#[test]
fn a_fifth_validator_joins_then_one_leaves_and_the_chain_keeps_committing() {
    let mut cluster = Cluster::start_validators(4, 1, 200);
    cluster.start(4);
    cluster.wait_height(2, WAIT).unwrap();
    let keys: Vec<_> = (0..5).map(|i| cluster.node(i).validator_key()).collect();
    let public: Vec<PublicKey> = keys.iter().map(PublicKey::of).collect();
    let node0 = cluster.node(0);
    // 3 of 4: more than 2/3. The set grows to five.
    let tx = node0.sign_with(&keys[0], set_of(&public), &keys[1..3]);
    let hash = node0.submit(&tx).unwrap();
    let result = wait_committed(node0, hash, WAIT).unwrap();
    let Some(Event::ValidatorSetScheduled {
        effective_height: effective,
        ..
    }) = result.events().first().cloned()
    else {
        panic!("no validator set scheduled: {result:?}")
    };
    assert_eq!(effective, result.height.unwrap() + 2, "{result:?}");
    cluster.wait_height(effective + 2, WAIT).unwrap();
    let mut expected: Vec<String> = public.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(set_keys(&cluster, 4), expected, "node4 now a validator");
    // Node4 now signs commits.
    let signer4 = public[4];
    let signed_by_4 = (effective..effective + 6).any(|h| {
        cluster.wait_height(h, WAIT).unwrap();
        let block = cluster.node(1).client().block_get(Some(h)).unwrap();
        let sigs = block.commit.unwrap().signatures;
        sigs.iter().any(|s| s.validator == signer4)
    });
    assert!(
        signed_by_4,
        "the fifth validator's precommits appear in commits"
    );
    // Removing node0 needs 4 of 5; 3 of 5 is refused and changes nothing.
    let node1 = cluster.node(1);
    let remaining = set_of(&public[1..]);
    let weak = node1.sign_with(&keys[1], remaining.clone(), &keys[2..4]);
    let hash = node1.submit(&weak);
    let refused = match hash {
        Err(error) => reason(&error).to_owned(),
        Ok(ok) => panic!("3 of 5 must be refused at admission, got {ok}"),
    };
    assert_eq!(refused, "validators.insufficient_power");
    let strong = node1.sign_with(&keys[1], remaining, &keys[2..5]);
    let hash = node1.submit(&strong).unwrap();
    let result = wait_committed(node1, hash, WAIT).unwrap();
    let effective = result.height.unwrap() + 2;
    cluster.wait_height(effective + 1, WAIT).unwrap();
    let mut remaining: Vec<String> = public[1..].iter().map(|k| k.to_string()).collect();
    remaining.sort();
    for i in 1..5 {
        assert_eq!(
            set_keys(&cluster, i),
            remaining,
            "node{i}: node0 is out of the set"
        );
    }
    // Two kills prove it: with node0 and node1 gone, 3 of the 4 remaining
    // validators still commit — had node0 stayed in a set of five, 3 of 5 would
    // be too few and the chain would halt.
    cluster.kill9(0);
    cluster.kill9(1);
    let height = cluster.min_height();
    cluster
        .wait_height(height + 4, WAIT)
        .expect("three of the four remaining validators commit");
    cluster.assert_agree_up_to(height + 4);
}

/// The README's way to change the set: node0 writes the change to a file, two
/// other validators sign it each in its own home (no key leaves it), and any
/// node submits it.
#[test]
fn validators_sign_a_set_change_each_in_their_own_home() {
    let cluster = Cluster::start_validators(4, 0, 200);
    cluster.wait_height(2, WAIT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.json");
    let file = file.to_str().unwrap();
    let key = |i: usize| PublicKey::of(&cluster.node(i).validator_key()).to_hex();
    let members: Vec<String> = (1..4).map(key).collect();
    let mut args = vec!["tx", "validators", "set", "--validator", "validator:2"];
    for member in &members {
        args.extend(["--validator", member]);
    }
    args.extend(["--from", "validator", "--out", file]);
    cluster.node(0).cli(&args).ok();
    for i in [1, 2] {
        let node = cluster.node(i);
        node.cli_in(
            &node.home,
            &["tx", "sign", file, "--from", "validator", "--yes"],
        )
        .ok();
    }
    let done = cluster.node(3).cli(&["tx", "submit", file]).ok();
    let effective = done["events"][0]["validator_set_scheduled"]["effective_height"]
        .as_u64()
        .unwrap();
    cluster.wait_height(effective + 1, WAIT).unwrap();
    let set = cluster.node(3).client().validators_get().unwrap();
    assert_eq!(set.total_power, 5, "{set:?}");
}
