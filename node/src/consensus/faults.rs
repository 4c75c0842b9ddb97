//! Misbehaviour for tests, compiled only with the `test-faults` feature: the
//! release binary has none of it, and refuses a `[test_faults]` config section.
//! The test suite builds a second binary, `tamga-test`, with this feature, and
//! switches faults on per node in that node's `config.toml`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Propose blocks whose header carries a wrong state root.
    pub wrong_state_root: bool,
    /// At the start of each height, sign and publish this many distinct blocks
    /// for its round 0 (spam from a validator that may sign parts: a stranger's
    /// parts at others' rounds, an equivocating proposer's at its own).
    pub spam_proposals: u32,
    /// Republish every proposal part received this many times, and publish as
    /// many oversized parts for future heights (a flooding peer).
    pub flood: u32,
    /// Bytes of each junk part `flood` publishes (default: near a block's limit).
    pub flood_part_bytes: Option<usize>,
    /// Build blocks as if the contract fuel budget were unlimited (validators
    /// must refuse a block past the real one).
    pub ignore_block_fuel: bool,
    /// Keep no accepted proposal block, as if the store had lost them: a decided
    /// block must then come from peers.
    pub forget_accepted_blocks: bool,
    /// Append every vote this node signs (`height round kind value`) to this
    /// file before the signature is released.
    pub vote_log: Option<PathBuf>,
    /// Malachite's Byzantine network proxy: equivocation, silence, amnesia.
    pub byzantine: Option<arc_malachitebft_engine_byzantine::ByzantineConfig>,
}

impl Faults {
    /// A block as this node proposes it: with `wrong_state_root`, its header lies.
    pub fn tamper(
        &self,
        mut executed: crate::storage::ExecutedBlock,
    ) -> crate::storage::ExecutedBlock {
        if self.wrong_state_root {
            executed.block.header.state_root.0[0] ^= 0xff;
            tracing::warn!("fault switch: proposing a block with a wrong state root");
        }
        executed
    }
}

use super::context::{Height, ProposalPart, TamgaContext};
use super::host::Host;
use super::values::HEIGHTS_AHEAD_MAX;
use arc_malachitebft_app_channel::app::streaming::{StreamContent, StreamMessage};
use arc_malachitebft_app_channel::{Channels, NetworkMsg};
use arc_malachitebft_core_types::{Context as _, Round};

impl Host {
    /// The fuel this node's blocks may burn: with `ignore_block_fuel`, far past
    /// the budget validators enforce.
    pub(super) fn block_fuel_budget(&self) -> u64 {
        let budget = tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX;
        match self.faults.ignore_block_fuel {
            true => budget * 1000,
            false => budget,
        }
    }

    /// Amnesia remembers the latest proposed value, to prevote for it later.
    pub(super) fn record_for_amnesia(
        &self,
        height: Height,
        round: Round,
        id: super::context::BlockId,
    ) {
        if let Some(switch) = &self.amnesia {
            switch.amnesia.record_proposed_value(height, round, id);
        }
    }

    /// `spam_proposals`: at the start of each height, sign and publish that many
    /// valid blocks for its round 0 (distinct times, so distinct ids).
    pub(super) async fn spam_proposals(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
    ) -> eyre::Result<()> {
        if self.faults.spam_proposals == 0 || round != Round::new(0) {
            return Ok(());
        }
        let raw = self.signer.unmarked();
        let proposer = tamga_runtime::PublicKey(self.me.0);
        let base_ms = crate::clock::now_ms().max(self.app.tip().time_ms + 1);
        for i in 0..self.faults.spam_proposals {
            let (executed, _) = self.app.build_block(base_ms + u64::from(i), proposer)?;
            let rounds = (height, Round::new(0), Round::Nil);
            let (candidate, _) = super::parts::sign(executed, vec![], rounds, &raw)?;
            if let Some(part) = candidate.part {
                super::propose::send_part(channels, part).await?;
            }
        }
        tracing::warn!(%height, count = self.faults.spam_proposals, "fault switch: spammed extra proposals");
        Ok(())
    }

    /// `flood`: republish every part received that many times, and at the start
    /// of each height publish that many oversized junk parts for each of the next
    /// heights, claiming their expected proposers.
    pub(super) async fn flood(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        part: &StreamMessage<ProposalPart>,
    ) -> eyre::Result<()> {
        for _ in 0..self.faults.flood {
            let again = NetworkMsg::PublishProposalPart(part.clone());
            channels.network.send(again).await?;
        }
        Ok(())
    }

    pub(super) async fn flood_future(
        &mut self,
        channels: &mut Channels<TamgaContext>,
        height: Height,
        round: Round,
    ) -> eyre::Result<()> {
        if self.faults.flood == 0 || round != Round::new(0) {
            return Ok(());
        }
        let set = super::validator_set(&self.app, height)?;
        let ctx = TamgaContext::new(self.app.chain_id.as_str());
        let bytes = self
            .faults
            .flood_part_bytes
            .unwrap_or(tamga_runtime::limits::BLOCK_BYTES_MAX - 64 * 1024);
        for ahead in 1..=HEIGHTS_AHEAD_MAX {
            let at = Height(height.0 + ahead);
            for i in 0..self.faults.flood {
                let round = Round::new(i);
                let part = ProposalPart {
                    height: at,
                    round,
                    pol_round: Round::Nil,
                    proposer: ctx.select_proposer(&set, at, round).address,
                    block: vec![0xa5; bytes],
                    signature: super::signing::Sig([7; 64]),
                };
                let stream_id = super::parts::stream_id(at, round);
                let data = StreamMessage::new(stream_id, 0, StreamContent::Data(part));
                channels
                    .network
                    .send(NetworkMsg::PublishProposalPart(data))
                    .await?;
            }
        }
        tracing::warn!(%height, "fault switch: flooded oversized parts for later heights");
        Ok(())
    }
}

/// Malachite's Byzantine proxy in front of the network: its conflicting values
/// flip the last byte of a block id (a nil vote becomes a vote for the zero id),
/// and its conflicting messages are signed with this key, past the signing mark.
pub(super) fn byzantine_context(
    identity: arc_malachitebft_app_channel::NetworkIdentity,
    config: arc_malachitebft_engine_byzantine::ByzantineConfig,
    signer: &super::signing::KeySigner,
    me: super::context::Address,
) -> arc_malachitebft_app_channel::ByzantineContext<TamgaContext, super::codec::BorshCodec> {
    use super::context::BlockId;
    fn flip(id: &BlockId) -> BlockId {
        let mut bytes = id.0;
        bytes[31] ^= 0xff;
        BlockId(bytes)
    }
    arc_malachitebft_app_channel::ByzantineContext {
        identity,
        codec: super::codec::BorshCodec,
        config,
        signer: Box::new(signer.unmarked()),
        address: me,
        conflicting_value_fn: Some(Box::new(|value: &BlockId| flip(value))),
        conflicting_vote_value_fn: Some(Box::new(|id: Option<&BlockId>| {
            id.map(flip).unwrap_or(BlockId([0; 32]))
        })),
    }
}

/// Malachite's amnesia tracker, for this node's own prevotes only (the context
/// also rebuilds other validators' votes when it checks certificates).
pub struct AmnesiaSwitch {
    pub me: super::context::Address,
    pub amnesia: arc_malachitebft_engine_byzantine::Amnesia<TamgaContext>,
}

impl std::fmt::Debug for AmnesiaSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AmnesiaSwitch")
    }
}

impl AmnesiaSwitch {
    /// With its trigger firing, a nil prevote of this node becomes a prevote for
    /// the latest proposed value, whatever this node is locked on.
    pub fn prevote(
        &self,
        height: Height,
        round: Round,
        value: arc_malachitebft_core_types::NilOrVal<super::context::BlockId>,
        validator: &super::context::Address,
    ) -> arc_malachitebft_core_types::NilOrVal<super::context::BlockId> {
        use arc_malachitebft_core_types::NilOrVal;
        if validator != &self.me || value != NilOrVal::Nil {
            return value;
        }
        match self.amnesia.try_override_nil_prevote(height, round) {
            Some(id) => NilOrVal::Val(id),
            None => value,
        }
    }
}

/// The amnesia switch for `me`, if the `[byzantine]` config asks for it.
pub fn amnesia(
    faults: &Faults,
    me: super::context::Address,
) -> Option<std::sync::Arc<AmnesiaSwitch>> {
    let config = faults.byzantine.as_ref()?;
    if !config.ignore_locks.is_set() {
        return None;
    }
    let amnesia =
        arc_malachitebft_engine_byzantine::Amnesia::new(config.ignore_locks.clone(), config.seed);
    Some(std::sync::Arc::new(AmnesiaSwitch { me, amnesia }))
}
