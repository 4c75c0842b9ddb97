//! Proposals in and out. In: every received part passes the intake's cheap
//! checks (height window, round bound, replay), must come from the proposer of
//! its (height, round) with that proposer's signature over its header's hash —
//! all before its transactions are decoded — and only then is its block kept
//! (synced to the proposal store before any verdict, so a block consensus decides
//! against this node's vote can still be committed from it), judged and executed. Out:
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
use std::time::Duration;
use tamga_runtime::{Hash32, PublicKey};

impl Host {
    /// Checks a received part; executes its block if it is for the next height.
    /// `Ok(None)`: dropped or kept for later. `Err`: this node failed (it stops).
    ///
    /// Order matters: the cheap checks and the sender's signature over the
    /// header come first; then the body must hash to the header's `txs_hash` — a
    /// part whose body does not is not what the proposer signed (a relay changed
    /// it), so it is dropped with no verdict and does not count as seen, and the
    /// genuine part still gets through. Only then is it a replay for later.
    pub(super) async fn accept_part(
        &mut self,
        part: ProposalPart,
    ) -> eyre::Result<Option<ProposedValue<TamgaContext>>> {
        let (height, round) = (part.height, part.round);
        let next = self.next_height();
        if let Err(why) = self.intake.screen(next, &part) {
            return Ok(self.dropped(&part, &why));
        }
        let set = super::validator_set(&self.app, part.height)?;
        let checked = parts::check_sender(&self.app.chain_id, &set, &part)
            .and_then(|id| Ok((id, parts::check_body(&part)?)));
        let (id, block) = match checked {
            Ok(checked) => checked,
            Err(why) => return Ok(self.dropped(&part, &why)),
        };
        // For `scripts/latency-timeline.sh`: this node's consensus task took a
        // genuine block up (after any commit it was running, and these
        // checks). A part for a later height logs again when taken up from
        // the buffer (one the buffer refuses or later drops logs once only).
        tracing::debug!(%height, %round, "proposal part received");
        if height > next {
            match self.intake.buffer(part) {
                Ok(()) => {}
                Err(why) => {
                    tracing::warn!(%height, %round, %why, "proposal part for a later height dropped")
                }
            }
            return Ok(None);
        }
        self.intake.mark_seen(&part);
        self.execute_part(part, block, id).await.map(Some)
    }

    /// The contract fuel this node's blocks may burn: the block budget every
    /// validator enforces.
    #[cfg(not(feature = "test-faults"))]
    fn block_fuel_budget(&self) -> u64 {
        tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX
    }

    /// A proposal this node votes against, with why, counted for status.
    fn refuse(
        &mut self,
        value: ProposedValue<TamgaContext>,
        error: &PartError,
    ) -> ProposedValue<TamgaContext> {
        use std::sync::atomic::Ordering;
        self.app.parts_refused.fetch_add(1, Ordering::Relaxed);
        let (height, round, proposer) = (value.height, value.round, value.proposer);
        tracing::warn!(%height, %round, %proposer, block = %value.value, %error, "refusing proposal");
        self.values.note_proposed(value.clone());
        value
    }

    fn dropped(
        &self,
        part: &ProposalPart,
        why: &dyn std::fmt::Display,
    ) -> Option<ProposedValue<TamgaContext>> {
        use std::sync::atomic::Ordering;
        self.app.parts_dropped.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(height = %part.height, round = %part.round, proposer = %part.proposer, %why, "proposal part dropped");
        None
    }

    async fn execute_part(
        &mut self,
        part: ProposalPart,
        block: tamga_runtime::types::Block,
        id: BlockId,
    ) -> eyre::Result<ProposedValue<TamgaContext>> {
        let (height, round, pol) = (part.height, part.round, part.pol_round);
        let proposer = part.proposer;
        let value = |validity| proposed((height, round, pol), proposer, id, validity);
        #[cfg(feature = "test-faults")]
        let forget = self.faults.forget_accepted_blocks;
        #[cfg(not(feature = "test-faults"))]
        let forget = false;
        let keep = !forget && self.values.get(height, &id).is_none();
        match parts::keep_then_check_header(&self.app, &part, &block, id, keep) {
            Ok(()) => {}
            Err(PartError::Local { error, .. }) => {
                return Err(eyre::eyre!(
                    "this node could not check block {id} at height {height}: {error}"
                ));
            }
            Err(error) => return Ok(self.refuse(value(Validity::Invalid), &error)),
        }
        if self.values.get(height, &id).is_some() {
            // The same block again (a re-proposal in a later round): executed once.
            self.values.note_proposed(value(Validity::Valid));
            return Ok(value(Validity::Valid));
        }
        let app = self.app.clone();
        use std::sync::atomic::Ordering;
        self.app.parts_executed.fetch_add(1, Ordering::Relaxed);
        let checked =
            tokio::task::spawn_blocking(move || parts::execute(&app, part, block, id)).await;
        let candidate = match checked {
            Ok(Ok(candidate)) => candidate,
            Ok(Err(PartError::Local { error, .. })) => {
                return Err(eyre::eyre!(
                    "this node could not execute block {id} at height {height}: {error}"
                ));
            }
            Ok(Err(error)) => return Ok(self.refuse(value(Validity::Invalid), &error)),
            Err(join) => {
                return Err(eyre::eyre!(
                    "executing block {id} at height {height} panicked: {join}"
                ));
            }
        };
        tracing::debug!(%height, %round, block = %id, txs = candidate.executed.block.txs.len(), "proposal executed");
        if !forget {
            // Its block is already durable (kept before the header check): the
            // WAL may decide it after a crash.
            self.values.insert(height, candidate, false);
        }
        self.values.note_proposed(value(Validity::Valid));
        #[cfg(feature = "test-faults")]
        self.record_for_amnesia(height, round, id);
        Ok(value(Validity::Valid))
    }

    /// Answers `GetValue`: this node's block for the round, or nothing (consensus
    /// then times out and prevotes nil) when the block it proposed before a
    /// restart is gone or the signing mark refuses — proposing a second, other
    /// block would be equivocation.
    pub(super) async fn get_value(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
        reply: Reply<LocallyProposedValue<TamgaContext>>,
    ) -> eyre::Result<()> {
        let Some(id) = self.propose(height, round).await? else {
            tracing::warn!(%height, %round, "no block to propose in this round");
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
        let fuel_max = self.block_fuel_budget();
        // A third of the round's propose timeout for taking transactions: the
        // root, the durable write and the parts' journey to every validator
        // follow, and must land before the others give up on this round.
        let budget = Duration::from_millis(self.propose_timeout_ms / 3);
        let (executed, dropped) =
            tokio::task::spawn_blocking(move || parts::build(&app, proposer, fuel_max, budget))
                .await??;
        #[cfg(feature = "test-faults")]
        let executed = self.faults.tamper(executed);
        let id = Hash32(executed.block.header.hash().0);
        let bytes = tamga_runtime::types::encoding::encode(&executed.block);
        self.app
            .storage
            .save_own_proposal(height.0, round_u32, &id, &bytes)?;
        let candidate = Candidate {
            executed,
            dropped,
            round,
            part: None,
        };
        Ok(self.sign_own(height, round, candidate, "proposing"))
    }

    /// Signs this node's part for (`height`, `round`) and keeps the candidate. A
    /// signature the mark refuses means no proposal in this round (consensus
    /// times out and prevotes nil), never a second, different one.
    fn sign_own(
        &mut self,
        height: Height,
        round: Round,
        mut candidate: Candidate,
        what: &str,
    ) -> Option<BlockId> {
        let at = (height, round, Round::Nil);
        let signed = parts::sign_part(&candidate.executed.block, at, self.me, &self.signer);
        let (part, id) = match signed {
            Ok(signed) => signed,
            Err(error) => {
                tracing::warn!(%height, %round, %error, "not proposing in this round");
                return None;
            }
        };
        let txs = candidate.executed.block.txs.len();
        tracing::info!(%height, %round, block = %id, txs, "{what}");
        self.intake.mark_seen(&part);
        candidate.part = Some(part);
        candidate.round = round;
        self.values.insert(height, candidate, true);
        let value = proposed((height, round, Round::Nil), self.me, id, Validity::Valid);
        self.values.note_proposed(value);
        #[cfg(feature = "test-faults")]
        self.record_for_amnesia(height, round, id);
        Some(id)
    }

    /// After a restart: the block proposed in this round before the crash, again
    /// (the mark hands back the signature it already made for it).
    async fn repropose(
        &mut self,
        height: Height,
        round: Round,
        id: BlockId,
    ) -> eyre::Result<Option<BlockId>> {
        let Some(candidate) = self.reexecute(height, &id).await? else {
            return Ok(None);
        };
        let again = self.sign_own(
            height,
            round,
            candidate,
            "re-proposing the block proposed before a restart",
        );
        assert!(
            again.is_none_or(|again| again == id),
            "re-executing a block reproduces its hash"
        );
        Ok(again)
    }

    /// `RestreamProposal`. From this round's proposer (this node) re-proposing a
    /// value locked in `valid_round`: a part for this round signed with that
    /// proof-of-lock round (the same bytes Malachite signed). From anyone else
    /// (a lock restreamed late in a height): the original part, as it was.
    pub(super) async fn restream(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        (height, round, valid_round): (Height, Round, Round),
        proposer: super::context::Address,
        id: BlockId,
    ) -> eyre::Result<()> {
        if proposer != self.me {
            return self.publish(channels, height, &id).await;
        }
        let block = match self.values.get(height, &id) {
            Some(candidate) => candidate.executed.block.clone(),
            None => match self.reexecute(height, &id).await? {
                Some(candidate) => {
                    let block = candidate.executed.block.clone();
                    self.values.insert(height, candidate, true);
                    block
                }
                None => {
                    tracing::error!(%height, %round, block = %id, "cannot re-propose a block this node does not have");
                    return Ok(());
                }
            },
        };
        match parts::sign_part(&block, (height, round, valid_round), self.me, &self.signer) {
            Ok((part, _)) => {
                self.intake.mark_seen(&part);
                send_part(channels, part).await
            }
            Err(error) => {
                tracing::warn!(%height, %round, %error, "not re-proposing in this round");
                Ok(())
            }
        }
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
