//! Proposals in and out. In: every received part passes the intake's cheap
//! checks (height window, round bound, replay), must come from the proposer of
//! its (height, round) with that proposer's signature over its header's hash —
//! all before its transactions are decoded — and only then is its block executed
//! and kept (synced to the proposal store before consensus hears of it). Out:
//! this node's own block for a round, built once, stored before it is signed, and
//! the very same block again if asked after a restart.

use super::context::{BlockId, Height, ProposalPart, TamgaContext};
use super::host::{proposed, Host};
use super::parts::{self, PartError};
use super::values::Candidate;
use arc_malachitebft_app_channel::app::streaming::{StreamContent, StreamMessage};
use arc_malachitebft_app_channel::app::types::LocallyProposedValue;
use arc_malachitebft_app_channel::{Channels, NetworkMsg, Reply};
use arc_malachitebft_core_consensus::ProposedValue;
use arc_malachitebft_core_types::{Round, Validity};
use tamga_runtime::{Hash32, PublicKey};

impl Host {
    /// Checks a received part; executes its block if it is for the next height.
    /// `Ok(None)`: dropped or kept for later. `Err`: this node failed (it stops).
    pub(super) async fn accept_part(
        &mut self,
        part: ProposalPart,
    ) -> eyre::Result<Option<ProposedValue<TamgaContext>>> {
        let (height, round) = (part.height, part.round);
        let next = self.next_height();
        if let Err(why) = self.intake.screen(next, &part) {
            self.note_dropped();
            tracing::debug!(%height, %round, %why, "proposal part dropped");
            return Ok(None);
        }
        let id = match self.check_sender(&part) {
            Ok(id) => id,
            Err(why) => {
                self.note_dropped();
                tracing::debug!(%height, %round, proposer = %part.proposer, %why, "proposal part dropped");
                return Ok(None);
            }
        };
        self.intake.mark_seen(&part);
        if height > next {
            if let Err(why) = self.intake.buffer(part) {
                self.note_dropped();
                tracing::warn!(%height, %round, %why, "proposal part for a later height dropped");
            }
            return Ok(None);
        }
        self.execute_part(part, id).await.map(Some)
    }

    fn note_dropped(&self) {
        use std::sync::atomic::Ordering;
        self.app.parts_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The part is from the proposer of its (height, round), signed by it. (For
    /// a later height the set is today's guess; a part it gets wrong is dropped.)
    fn check_sender(&self, part: &ProposalPart) -> eyre::Result<BlockId> {
        let set = super::validator_set(&self.app, part.height)?;
        Ok(parts::check_sender(&self.app.chain_id, &set, part)?)
    }

    async fn execute_part(
        &mut self,
        part: ProposalPart,
        id: BlockId,
    ) -> eyre::Result<ProposedValue<TamgaContext>> {
        let (height, round, pol) = (part.height, part.round, part.pol_round);
        let proposer = part.proposer;
        let app = self.app.clone();
        let checked = tokio::task::spawn_blocking(move || parts::execute(&app, part, id)).await;
        let value = |validity| proposed((height, round, pol), proposer, id, validity);
        let candidate = match checked {
            Ok(Ok(candidate)) => candidate,
            Ok(Err(PartError::Local { error, .. })) => {
                return Err(eyre::eyre!(
                    "this node could not execute block {id} at height {height}: {error}"
                ));
            }
            Ok(Err(error)) => {
                tracing::warn!(%height, %round, %proposer, block = %id, %error, "refusing proposal");
                self.values.note_proposed(value(Validity::Invalid));
                return Ok(value(Validity::Invalid));
            }
            Err(join) => {
                return Err(eyre::eyre!(
                    "executing block {id} at height {height} panicked: {join}"
                ));
            }
        };
        let bytes = candidate
            .part
            .as_ref()
            .map(|p| p.block.as_slice())
            .unwrap_or_default();
        #[cfg(feature = "test-faults")]
        let forget = self.faults.forget_accepted_blocks;
        #[cfg(not(feature = "test-faults"))]
        let forget = false;
        if !forget {
            // Durable before consensus hears of it: its WAL may decide it after a crash.
            self.app
                .storage
                .save_proposal(height.0, &Hash32(id.0), bytes)?;
            self.values.insert(height, candidate, false);
        }
        self.values.note_proposed(value(Validity::Valid));
        #[cfg(feature = "test-faults")]
        self.record_for_amnesia(height, round, id);
        Ok(value(Validity::Valid))
    }

    /// Answers `GetValue`: this node's block for the round, or nothing (consensus
    /// then times out and prevotes nil) when the block it proposed before a
    /// restart is gone — proposing a second one would be equivocation.
    pub(super) async fn get_value(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
        reply: Reply<LocallyProposedValue<TamgaContext>>,
    ) -> eyre::Result<()> {
        let Some(id) = self.propose(height, round).await? else {
            tracing::error!(%height, %round, "the block this node proposed before a restart is gone; not proposing in this round");
            return Ok(());
        };
        let _ = reply.send(LocallyProposedValue::new(height, round, id));
        self.publish(channels, height, &id).await
    }

    async fn propose(&mut self, height: Height, round: Round) -> eyre::Result<Option<BlockId>> {
        if let Some(id) = self.values.own(height, round) {
            return Ok(Some(id));
        }
        let round_u32 = round.as_u32().unwrap_or(0);
        if let Some(id) = self.app.storage.own_proposal(height.0, round_u32)? {
            return self.repropose(height, round, BlockId(id.0)).await;
        }
        let app = self.app.clone();
        let proposer = PublicKey(self.me.0);
        let (executed, dropped) =
            tokio::task::spawn_blocking(move || parts::build(&app, proposer)).await??;
        #[cfg(feature = "test-faults")]
        let executed = self.faults.tamper(executed);
        let id = Hash32(executed.block.header.hash().0);
        let bytes = tamga_runtime::types::encoding::encode(&executed.block);
        self.app.storage.save_proposal(height.0, &id, &bytes)?;
        self.app
            .storage
            .save_own_proposal(height.0, round_u32, &id)?;
        let (candidate, id) =
            parts::sign(executed, dropped, (height, round, Round::Nil), &self.signer)?;
        let txs = candidate.executed.block.txs.len();
        tracing::info!(%height, %round, block = %id, txs, "proposing");
        self.keep_own(height, round, id, candidate);
        Ok(Some(id))
    }

    fn keep_own(&mut self, height: Height, round: Round, id: BlockId, candidate: Candidate) {
        if let Some(part) = &candidate.part {
            self.intake.mark_seen(part);
        }
        self.values.insert(height, candidate, true);
        let value = proposed((height, round, Round::Nil), self.me, id, Validity::Valid);
        self.values.note_proposed(value);
        #[cfg(feature = "test-faults")]
        self.record_for_amnesia(height, round, id);
    }

    /// After a restart: the block proposed in this round before the crash, again.
    async fn repropose(
        &mut self,
        height: Height,
        round: Round,
        id: BlockId,
    ) -> eyre::Result<Option<BlockId>> {
        let Some(candidate) = self.reexecute(height, &id).await? else {
            return Ok(None);
        };
        let (candidate, again) = parts::sign(
            candidate.executed,
            vec![],
            (height, round, Round::Nil),
            &self.signer,
        )?;
        assert_eq!(again, id, "re-executing a block reproduces its hash");
        tracing::info!(%height, %round, block = %id, "re-proposing the block proposed before a restart");
        self.keep_own(height, round, id, candidate);
        Ok(Some(id))
    }

    /// A re-proposal of a value locked in `valid_round`: a new part for this
    /// round, signed with that proof-of-lock round, carrying the same block.
    pub(super) async fn restream(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
        valid_round: Round,
        id: BlockId,
    ) -> eyre::Result<()> {
        let executed = match self.values.take(height, &id) {
            Some(candidate) => candidate.executed,
            None => match self.reexecute(height, &id).await? {
                Some(candidate) => candidate.executed,
                None => {
                    tracing::error!(%height, %round, block = %id, "cannot re-propose a block this node does not have");
                    return Ok(());
                }
            },
        };
        let (candidate, _) =
            parts::sign(executed, vec![], (height, round, valid_round), &self.signer)?;
        if let Some(part) = &candidate.part {
            self.intake.mark_seen(part);
        }
        self.values.insert(height, candidate, true);
        self.publish(channels, height, &id).await
    }

    pub(super) async fn publish(
        &self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        id: &BlockId,
    ) -> eyre::Result<()> {
        let Some(part) = self.values.get(height, id).and_then(|c| c.part.clone()) else {
            tracing::debug!(%height, block = %id, "nothing to stream for this value");
            return Ok(());
        };
        send_part(channels, part).await
    }
}

/// Streams one part (the whole block) and the end of its stream.
pub(super) async fn send_part(
    channels: &mut Channels<TamgaContext>,
    part: ProposalPart,
) -> eyre::Result<()> {
    let stream_id = parts::stream_id(part.height, part.round);
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
