//! The application side of Malachite's app-channel: answers every `AppMsg` with
//! the three [`App`] steps. Build a block when asked for a value (and stream it as
//! a signed part); execute every received block before consensus may vote for it
//! (a wrong root, time or transaction makes it `Invalid`, so honest validators
//! prevote nil and the round moves on); commit block + certificate + state in one
//! write batch when decided; serve and replay decided blocks for value sync.

use super::context::{Address, BlockId, Height, ProposalPart, TamgaContext};
use super::parts;
use super::values::{Candidate, Values};
use super::Fault;
use crate::app::App;
use arc_malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use arc_malachitebft_app_channel::app::streaming::{StreamContent, StreamMessage};
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_app_channel::app::types::LocallyProposedValue;
use arc_malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use arc_malachitebft_core_consensus::ProposedValue;
use arc_malachitebft_core_types::{CommitCertificate, Round, Validity};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

/// Decided blocks served per sync request, whatever range a peer asks for.
const SYNC_BLOCKS_PER_RESPONSE_MAX: u64 = 20;

/// A value as consensus hears of it: new in this round (no proof-of-lock round).
fn proposed(
    height: Height,
    round: Round,
    proposer: Address,
    value: BlockId,
    validity: Validity,
) -> ProposedValue<TamgaContext> {
    ProposedValue {
        height,
        round,
        valid_round: Round::Nil,
        proposer,
        value,
        validity,
    }
}

pub struct Host {
    pub app: Arc<App>,
    pub me: Address,
    pub signer: super::signing::KeySigner,
    pub block_time_ms: u64,
    pub propose_timeout_ms: u64,
    pub fault: Fault,
    pub values: Values,
    pub files: super::values::BlockFiles,
}

impl Host {
    fn next_height(&self) -> Height {
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

    pub async fn run(mut self, channels: &mut Channels<TamgaContext>) -> eyre::Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg, channels).await?;
        }
        Err(eyre::eyre!("the consensus engine stopped"))
    }

    async fn handle(
        &mut self,
        msg: AppMsg<TamgaContext>,
        channels: &mut Channels<TamgaContext>,
    ) -> eyre::Result<()> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = self.next_height();
                tracing::info!(%height, "consensus ready");
                let _ = reply.send((height, self.params(height)?));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                role,
                reply_value,
            } => {
                tracing::debug!(%height, %round, %proposer, ?role, "started round");
                for part in self.values.take_pending(height) {
                    self.accept_part(part).await;
                }
                let _ = reply_value.send(self.values.proposed(height, round));
            }
            AppMsg::GetValue {
                height,
                round,
                reply,
                ..
            } => {
                let value = self.propose(height, round).await?;
                let _ = reply.send(LocallyProposedValue::new(height, round, value));
                self.publish(channels, height, round, &value).await?;
            }
            AppMsg::ReceivedProposalPart { part, reply, .. } => {
                let value = match part.content {
                    StreamContent::Data(part) => self.accept_part(part).await,
                    StreamContent::Fin => None,
                };
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                self.decided(certificate).await?;
                let _ = reply.send(());
            }
            AppMsg::Finalized { reply, .. } => {
                let height = self.next_height();
                let _ = reply.send(Next::Start(height, self.params(height)?));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let _ = reply.send(self.decided_values(range)?);
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self.synced(height, round, proposer, &value_bytes).await;
                let _ = reply.send(outcome);
            }
            AppMsg::RestreamProposal {
                height,
                round,
                value_id,
                ..
            } => {
                self.publish(channels, height, round, &value_id).await?;
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
        Ok(())
    }

    /// Builds (or, after a restart into the same round, rebuilds the same) block.
    async fn propose(&mut self, height: Height, round: Round) -> eyre::Result<BlockId> {
        if let Some(id) = self.values.own(height, round, &self.me) {
            return Ok(id);
        }
        if let Some(id) = self.files.own(height, round) {
            return self.repropose(height, round, id).await;
        }
        let signer = &self.signer;
        let (app, fault) = (self.app.clone(), self.fault);
        let proposer = tamga_runtime::PublicKey(self.me.0);
        let built =
            tokio::task::spawn_blocking(move || parts::build(&app, proposer, fault)).await??;
        let (candidate, id) = parts::sign(built, &self.app.chain_id, height, round, signer);
        tracing::info!(%height, %round, block = %id, txs = candidate.executed.block.txs.len(), "proposing");
        if let Some(part) = &candidate.part {
            self.files.save(height, &id, &part.block)?;
        }
        self.files.save_own(height, round, &id)?;
        self.keep_own(height, round, id, candidate);
        Ok(id)
    }

    fn keep_own(&mut self, height: Height, round: Round, id: BlockId, candidate: Candidate) {
        self.values.insert(height, candidate);
        self.values
            .note_proposed(proposed(height, round, self.me, id, Validity::Valid));
    }

    /// After a restart: the block proposed in this round before the crash, again.
    async fn repropose(
        &mut self,
        height: Height,
        round: Round,
        id: BlockId,
    ) -> eyre::Result<BlockId> {
        let candidate = self.reexecute(height, &id).await?;
        let built = (candidate.executed, vec![]);
        let (candidate, again) =
            parts::sign(built, &self.app.chain_id, height, round, &self.signer);
        assert_eq!(again, id, "re-executing a block reproduces its hash");
        tracing::info!(%height, %round, block = %id, "re-proposing the block proposed before a restart");
        self.keep_own(height, round, id, candidate);
        Ok(id)
    }

    async fn publish(
        &self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
        id: &BlockId,
    ) -> eyre::Result<()> {
        let Some(part) = self.values.get(height, id).and_then(|c| c.part.clone()) else {
            tracing::debug!(%height, %round, block = %id, "nothing to stream for this value");
            return Ok(());
        };
        let stream_id = parts::stream_id(height, round);
        let data = StreamMessage::new(stream_id.clone(), 0, StreamContent::Data(part));
        let fin = StreamMessage::new(stream_id, 1, StreamContent::Fin);
        channels
            .network
            .send(NetworkMsg::PublishProposalPart(data))
            .await?;
        channels
            .network
            .send(NetworkMsg::PublishProposalPart(fin))
            .await?;
        Ok(())
    }

    /// Checks a received part and executes its block if it is for the next height.
    async fn accept_part(&mut self, part: ProposalPart) -> Option<ProposedValue<TamgaContext>> {
        let next = self.next_height();
        if part.height != next {
            self.values.buffer(next, part);
            return None;
        }
        let set = super::validator_set(&self.app, next).ok()?;
        let app = self.app.clone();
        let (height, round, proposer) = (part.height, part.round, part.proposer);
        let checked = tokio::task::spawn_blocking(move || parts::check(&app, &set, part)).await;
        let (validity, candidate) = match checked {
            Ok(Ok(candidate)) => (Validity::Valid, Some(candidate)),
            Ok(Err(parts::PartError::Refused { id, error })) => {
                tracing::warn!(%height, %round, %proposer, block = %id, %error, "refusing proposal");
                let value = proposed(height, round, proposer, id, Validity::Invalid);
                self.values.note_proposed(value.clone());
                return Some(value);
            }
            Ok(Err(error)) => {
                tracing::warn!(%height, %round, %proposer, %error, "dropping proposal part");
                return None;
            }
            Err(join) => {
                tracing::error!(%join, "proposal check panicked");
                return None;
            }
        };
        let candidate = candidate?;
        let id = BlockId(candidate.executed.block.header.hash().0);
        let bytes = candidate
            .part
            .as_ref()
            .map(|p| p.block.as_slice())
            .unwrap_or_default();
        if let Err(error) = self.files.save(height, &id, bytes) {
            // Without the file, a crash could leave a decided block unexecutable.
            tracing::error!(%height, %error, "cannot keep the proposed block on disk; not voting for it");
            return None;
        }
        self.values.insert(height, candidate);
        let value = proposed(height, round, proposer, id, validity);
        self.values.note_proposed(value.clone());
        Some(value)
    }

    async fn decided(&mut self, certificate: CommitCertificate<TamgaContext>) -> eyre::Result<()> {
        let height = certificate.height;
        let candidate = match self.values.take(height, &certificate.value_id) {
            Some(candidate) => candidate,
            None => self.reexecute(height, &certificate.value_id).await?,
        };
        let commit = parts::commit_of(&certificate);
        let app = self.app.clone();
        let tip = tokio::task::spawn_blocking(move || {
            app.commit_block(candidate.executed, commit, candidate.dropped)
        })
        .await??;
        tracing::info!(height = tip.height, hash = %tip.block_hash, round = %certificate.round, "committed");
        self.values.prune(height);
        self.files.prune(height);
        Ok(())
    }

    /// A decided block this node accepted before a restart: consensus remembers
    /// it from its WAL, the block comes back from disk and is executed again.
    async fn reexecute(&self, height: Height, id: &BlockId) -> eyre::Result<Candidate> {
        let bytes = self.files.load(height, id).ok_or_else(|| {
            eyre::eyre!("decided block {id} at height {height} is neither in memory nor on disk")
        })?;
        let block = parts::decode_block(&bytes)?;
        let app = self.app.clone();
        let executed = tokio::task::spawn_blocking(move || app.execute_block(block)).await??;
        tracing::info!(%height, block = %id, "re-executed a decided block kept on disk");
        Ok(Candidate {
            executed,
            dropped: vec![],
            part: None,
        })
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
    /// commit certificate against the validator set.
    async fn synced(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        bytes: &[u8],
    ) -> SyncedValueOutcome<TamgaContext> {
        if height != self.next_height() {
            return SyncedValueOutcome::LocalTransientError;
        }
        let Ok(block) = parts::decode_block(bytes) else {
            return SyncedValueOutcome::PeerFault;
        };
        let app = self.app.clone();
        let executed = tokio::task::spawn_blocking(move || app.execute_block(block)).await;
        let (validity, id) = match executed {
            Ok(Ok(executed)) => {
                let id = BlockId(executed.block.header.hash().0);
                if self.files.save(height, &id, bytes).is_err() {
                    return SyncedValueOutcome::LocalTransientError;
                }
                let candidate = Candidate {
                    executed,
                    dropped: vec![],
                    part: None,
                };
                self.values.insert(height, candidate);
                (Validity::Valid, id)
            }
            Ok(Err(error)) => {
                tracing::warn!(%height, %error, "synced block refused");
                return SyncedValueOutcome::PeerFault;
            }
            Err(_) => return SyncedValueOutcome::LocalTransientError,
        };
        tracing::info!(%height, block = %id, "catching up: executed a decided block from a peer");
        SyncedValueOutcome::Verdict(proposed(height, round, proposer, id, validity))
    }
}
