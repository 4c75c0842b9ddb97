//! The single-validator block loop: every block interval, build a block from the
//! mempool, sign its commit, and commit it. With one validator holding all the
//! power, its own signature is the > 2/3 commit certificate. BFT consensus replaces
//! this loop and keeps the three [`App`] steps it calls.

use crate::app::{App, BlockError};
use crate::storage::Tip;
use ed25519_dalek::{Signer, SigningKey};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tamga_runtime::types::{Commit, CommitSig};
use tamga_runtime::{PublicKey, Signature};
use tokio::sync::watch;

pub fn now_ms() -> u64 {
    // A clock before 1970 is a broken machine; block time then comes from the tip.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Builds, signs and commits one block.
pub fn produce_one(app: &App, key: &SigningKey) -> Result<Tip, BlockError> {
    let validator = PublicKey::of(key);
    let (executed, dropped) = app.build_block(now_ms(), validator)?;
    let header = &executed.block.header;
    let block_hash = header.hash();
    let sign_bytes = Commit::sign_bytes(&header.chain_id, header.height, &block_hash);
    let signature = Signature(key.sign(&sign_bytes.0).to_bytes());
    let commit = Commit {
        height: header.height,
        block_hash,
        signatures: vec![CommitSig {
            validator,
            signature,
        }],
    };
    app.commit_block(executed, commit, dropped)
}

/// Runs until `shutdown` flips. A block that fails to commit stops the loop: the
/// node must not carry on with state it could not persist.
pub async fn run(
    app: Arc<App>,
    key: SigningKey,
    block_time_ms: u64,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BlockError> {
    assert!(block_time_ms > 0, "block time must be positive");
    let mut interval = tokio::time::interval(Duration::from_millis(block_time_ms));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return Ok(()),
        }
        let (app, key) = (app.clone(), key.clone());
        let tip = tokio::task::spawn_blocking(move || produce_one(&app, &key))
            .await
            .expect("block production does not panic")?;
        tracing::debug!(height = tip.height, hash = %tip.block_hash, "committed block");
    }
}
