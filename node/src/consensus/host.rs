//! The application side of Malachite's app-channel: answers every `AppMsg` with
//! the three [`App`] steps. Build a block when asked for a value; check every
//! received part (`propose.rs`) and execute its block before consensus may vote
//! for it; commit block + certificate + state in one write batch when decided;
//! serve and replay decided blocks for value sync; keep equivocation evidence.
//!
//! A host runs in one of two roles (see [`Role`]) and ends when the role must
//! change ([`Exit`]) or on a failure of this node, which stops it: a node-local
//! failure is never turned into a vote against someone else's block.

use super::context::{Address, BlockId, Height, TamgaContext};
use super::parts;
use super::signing::KeySigner;
use super::values::{Candidate, Intake, Values};
use crate::app::App;
use arc_malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_app_channel::{AppMsg, Channels};
use arc_malachitebft_core_consensus::ProposedValue;
use arc_malachitebft_core_types::{CommitCertificate, Round, Validity};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

/// Decided blocks served per sync request, whatever range a peer asks for.
const SYNC_BLOCKS_PER_RESPONSE_MAX: u64 = 20;

/// How this node takes part in consensus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Signs proposals and votes (when its key is in the set).
    Validator,
    /// Signs nothing and follows decided blocks, until the chain passes
    /// `mark_height`: this validator's last signature is above its data (a
    /// restored `data/`, or a decided block it lost), and it must not sign at
    /// heights it has forgotten.
    Follower { mark_height: u64 },
}

/// Why a host stopped without failing.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// A decided block is missing here: follow the chain to fetch it from peers.
    CatchUp,
    /// A follower passed its signing mark: sign again.
    CaughtUp,
}

/// A value as consensus hears of it.
pub(super) fn proposed(
    (height, round, valid_round): (Height, Round, Round),
    proposer: Address,
    value: BlockId,
    validity: Validity,
) -> ProposedValue<TamgaContext> {
    ProposedValue {
        height,
        round,
        valid_round,
        proposer,
        value,
        validity,
    }
}

pub struct Host {
    pub app: Arc<App>,
    pub me: Address,
    pub role: Role,
    pub signer: Arc<KeySigner>,
    pub block_time_ms: u64,
    pub propose_timeout_ms: u64,
    pub values: Values,
    pub intake: Intake,
    #[cfg(feature = "test-faults")]
    pub faults: super::faults::Faults,
    #[cfg(feature = "test-faults")]
    pub amnesia: Option<Arc<super::faults::AmnesiaSwitch>>,
}

impl Host {
    pub(super) fn next_height(&self) -> Height {
        Height(self.app.tip().height + 1)
    }

    fn params(&self, height: Height) -> eyre::Result<HeightParams<TamgaContext>> {
        let set = super::validator_set(&self.app, height)?;
        let target = Duration::from_millis(self.block_time_ms);
        Ok(HeightParams::new(
            set,
            super::context::timeouts(self.propose_timeout_ms),
            Some(target),
        ))
    }

    pub async fn run(mut self, channels: &mut Channels<TamgaContext>) -> eyre::Result<Exit> {
        while let Some(msg) = channels.consensus.recv().await {
            if let Some(exit) = self.handle(msg, channels).await? {
                return Ok(exit);
            }
        }
        Err(eyre::eyre!("the consensus engine stopped"))
    }

    async fn handle(
        &mut self,
        msg: AppMsg<TamgaContext>,
        channels: &mut Channels<TamgaContext>,
    ) -> eyre::Result<Option<Exit>> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = self.next_height();
                tracing::info!(%height, role = ?self.role, "consensus ready");
                let _ = reply.send((height, self.params(height)?));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                self.intake.enter_round(height, round);
                self.app.enter_round(height.0, round.as_i64());
                self.app.metrics.round_started(height.0, round.as_i64());
                for part in self.intake.take_pending(height) {
                    self.accept_part(part).await?;
                }
                #[cfg(feature = "test-faults")]
                {
                    self.spam_proposals(channels, height, round).await?;
                    self.flood_future(channels, height, round).await?;
                }
                let _ = reply_value.send(self.values.proposed(height, round));
            }
            AppMsg::GetValue {
                height,
                round,
                reply,
                ..
            } => self.get_value(channels, height, round, reply).await?,
            AppMsg::ReceivedProposalPart { part, reply, .. } => {
                #[cfg(feature = "test-faults")]
                self.flood(channels, &part).await?;
                let value = match part.content {
                    arc_malachitebft_app_channel::app::streaming::StreamContent::Data(part) => {
                        self.accept_part(part).await?
                    }
                    _ => None,
                };
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                if !self.decided(certificate).await? {
                    return Ok(Some(Exit::CatchUp));
                }
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                evidence,
                reply,
                ..
            } => {
                super::evidence::keep(&self.app, certificate.height, &evidence)?;
                let height = self.next_height();
                if let Role::Follower { mark_height } = self.role {
                    if height.0 > mark_height {
                        tracing::info!(%height, mark_height, "passed the signing mark: signing again");
                        return Ok(Some(Exit::CaughtUp));
                    }
                }
                let _ = reply.send(Next::Start(height, self.params(height)?));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let _ = reply.send(self.decided_values(range)?);
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                // A node that joined from a snapshot holds blocks from its height.
                let _ = reply.send(Height(self.app.storage.history_from()?.max(1)));
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self.synced(height, round, proposer, &value_bytes).await?;
                let _ = reply.send(outcome);
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address,
                value_id,
            } => {
                self.restream(channels, (height, round, valid_round), address, value_id)
                    .await?
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let _ = reply.send(extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect());
            }
        }
        Ok(None)
    }

    /// Commits a decided block; false when this node does not have it (then it
    /// must follow the chain to get it from peers).
    async fn decided(
        &mut self,
        certificate: CommitCertificate<TamgaContext>,
    ) -> eyre::Result<bool> {
        let height = certificate.height;
        let candidate = match self.values.take(height, &certificate.value_id) {
            Some(candidate) => candidate,
            None => match self.reexecute(height, &certificate.value_id).await? {
                Some(candidate) => candidate,
                None => {
                    tracing::warn!(%height, block = %certificate.value_id, "the decided block is not on this node; fetching it from peers");
                    return Ok(false);
                }
            },
        };
        let commit = parts::commit_of(&certificate);
        let app = self.app.clone();
        let tip = tokio::task::spawn_blocking(move || {
            app.commit_block(candidate.executed, commit, candidate.dropped)
        })
        .await??;
        tracing::info!(height = tip.height, hash = %tip.block_hash, round = %certificate.round, "committed");
        crate::snapshots::after_commit(&self.app, tip.height);
        self.app.metrics.decided(certificate.round.as_i64());
        self.values.prune(height);
        self.intake.prune(height);
        Ok(true)
    }

    /// A block this node accepted before (kept in the proposal store), executed
    /// again: after a restart, or after it was forgotten to stay within bounds.
    pub(super) async fn reexecute(
        &self,
        height: Height,
        id: &BlockId,
    ) -> eyre::Result<Option<Candidate>> {
        let Some(bytes) = self
            .app
            .storage
            .proposal(height.0, &tamga_runtime::Hash32(id.0))?
        else {
            return Ok(None);
        };
        let block = parts::decode_block(&bytes)?;
        let app = self.app.clone();
        let executed = tokio::task::spawn_blocking(move || app.execute_block(block)).await??;
        tracing::info!(%height, block = %id, "re-executed a block kept in the proposal store");
        Ok(Some(Candidate {
            executed,
            dropped: vec![],
            round: Round::Nil,
            part: None,
        }))
    }

    fn decided_values(
        &self,
        range: RangeInclusive<Height>,
    ) -> eyre::Result<Vec<RawDecidedValue<TamgaContext>>> {
        let tip = self.app.tip().height;
        let start = range.start().0.max(1);
        let end = range
            .end()
            .0
            .min(tip)
            .min(start.saturating_add(SYNC_BLOCKS_PER_RESPONSE_MAX - 1));
        let mut out = Vec::new();
        for height in start..=end {
            match parts::raw_decided(&self.app, height)? {
                Some(raw) => out.push(raw),
                None => break,
            }
        }
        Ok(out)
    }

    /// A block a peer says was decided (value sync): it is executed like any other,
    /// without the clock check, since it is history; the engine has checked its
    /// commit certificate against the validator set. A failure of this node is
    /// never blamed on the peer.
    async fn synced(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        bytes: &[u8],
    ) -> eyre::Result<SyncedValueOutcome<TamgaContext>> {
        if height != self.next_height() {
            return Ok(SyncedValueOutcome::LocalTransientError);
        }
        let Ok(block) = parts::decode_block(bytes) else {
            return Ok(SyncedValueOutcome::PeerFault);
        };
        let app = self.app.clone();
        let executed = match tokio::task::spawn_blocking(move || app.execute_block(block)).await {
            Ok(Ok(executed)) => executed,
            Ok(Err(error)) if error.is_local() => {
                return Err(eyre::eyre!("executing synced block {height}: {error}"));
            }
            Ok(Err(error)) => {
                tracing::warn!(%height, %error, "synced block refused");
                return Ok(SyncedValueOutcome::PeerFault);
            }
            Err(_) => return Ok(SyncedValueOutcome::LocalTransientError),
        };
        let id = BlockId(executed.block.header.hash().0);
        self.app
            .storage
            .save_proposal(height.0, &tamga_runtime::Hash32(id.0), bytes)?;
        let candidate = Candidate {
            executed,
            dropped: vec![],
            round,
            part: None,
        };
        self.values.insert(height, candidate, false);
        tracing::info!(%height, block = %id, "catching up: executed a decided block from a peer");
        let value = proposed((height, round, Round::Nil), proposer, id, Validity::Valid);
        Ok(SyncedValueOutcome::Verdict(value))
    }
}
