//! Checks a network's chains from the outside, after any fault scenario: every
//! node holds the same block bytes at every height; each node's commit
//! certificate verifies on its own (signatures of more than 2/3 of the genesis
//! set's power over the runtime's precommit bytes for that block's hash — nodes
//! may hold different sets of precommits, each enough); and every transaction
//! acknowledged as committed is on every node at the same height.

use super::Node;
use std::collections::BTreeSet;
use tamga_client::{RawBlock, TxStatus};
use tamga_runtime::types::{encoding, Block, Commit};
use tamga_runtime::{Genesis, Hash32, PublicKey};

/// The genesis a node started from.
pub fn genesis_of(node: &Node) -> Genesis {
    serde_json::from_slice(&std::fs::read(node.home.join("genesis.json")).unwrap()).unwrap()
}

/// Checks one commit certificate against the block and a validator set.
pub fn verify_commit(
    chain_id: &str,
    block: &Block,
    commit: &Commit,
    validators: &[(PublicKey, u64)],
) -> Result<(), String> {
    let hash = block.header.hash();
    if commit.block_hash != hash || commit.height != block.header.height {
        return Err(format!("commit at {} is not for this block", commit.height));
    }
    let bytes = Commit::sign_bytes(chain_id, commit.height, commit.round, &hash);
    let total: u64 = validators.iter().map(|(_, p)| p).sum();
    let mut counted = BTreeSet::new();
    let mut signed = 0u64;
    for sig in &commit.signatures {
        let Some((_, power)) = validators.iter().find(|(k, _)| *k == sig.validator) else {
            return Err(format!("signer {} is not a validator", sig.validator));
        };
        if !tamga_runtime::execute::verify_signature(&sig.validator, &bytes, &sig.signature) {
            return Err(format!("signature of {} does not verify", sig.validator));
        }
        if counted.insert(sig.validator) {
            signed += power;
        }
    }
    if 3 * u128::from(signed) <= 2 * u128::from(total) {
        return Err(format!("signed by {signed} of {total} power"));
    }
    Ok(())
}

/// Every node holds byte-identical blocks at heights `1..=up_to`, and every
/// node's commit verifies on its own against the genesis set (no set changes).
pub fn assert_chains_identical(nodes: &[&Node], up_to: u64) {
    let genesis = genesis_of(nodes[0]);
    let validators: Vec<(PublicKey, u64)> = genesis
        .validators
        .iter()
        .map(|v| (v.public_key, v.power))
        .collect();
    for height in 1..=up_to {
        let raws: Vec<RawBlock> = nodes
            .iter()
            .map(|n| n.client().block_get_raw(height).expect("block_getRaw"))
            .collect();
        let block: Block = encoding::decode(&raws[0].block.0).unwrap();
        for (i, raw) in raws.iter().enumerate() {
            assert_eq!(
                raw.block, raws[0].block,
                "node {i}: other block bytes at {height}"
            );
            let commit: Commit = encoding::decode(&raw.commit.0).unwrap();
            if let Err(why) = verify_commit(&genesis.chain_id, &block, &commit, &validators) {
                panic!("node {i}, height {height}: the commit certificate does not verify: {why}");
            }
        }
    }
}

/// Every `(hash, height)` acknowledged as committed is committed on every node,
/// at that height.
pub fn assert_committed_everywhere(nodes: &[&Node], acknowledged: &[(Hash32, u64)]) {
    for node in nodes {
        for (hash, height) in acknowledged {
            let result = node.client().tx_get(*hash).expect("tx_get");
            assert_eq!(
                result.status,
                TxStatus::Committed,
                "{hash} missing on {}",
                node.rpc_url
            );
            assert_eq!(result.height, Some(*height), "{hash} moved height");
        }
    }
}
