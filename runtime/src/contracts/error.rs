//! Every way a contract operation can be refused, naming the rule and its Article,
//! with a stable machine-readable reason.

use crate::types::{Hash32, SubjectId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("a smart contract must name human arbiters for dispute resolution (Art. 67 p.3)")]
    NoArbiters,
    #[error("quorum {quorum} must be 1..={arbiters} (the number of arbiters) (Art. 67 p.3)")]
    BadQuorum { quorum: u32, arbiters: usize },
    #[error("arbiter {0} is named twice (Art. 67 p.3)")]
    DuplicateArbiter(SubjectId),
    #[error(
        "arbiter {0} holds no certificate valid now with the arbiter role: the clause names \
         certified humans, since \"the final decision on the dispute is made by a human\" (Art. 67 p.3)"
    )]
    ArbiterNotCertified(SubjectId),
    #[error(
        "{0} is named in the arbitration clause and cannot also be a party: no one decides their \
         own dispute (Art. 67 p.3)"
    )]
    ArbiterIsParty(SubjectId),
    #[error("the arbitration deadline must be at least one block (Art. 67 p.3)")]
    NoDeadline,
    #[error("the terms must be given in a form people can read (Art. 67 p.2)")]
    NoTerms,
    #[error("invalid Wasm module: {0}")]
    InvalidModule(String),
    #[error("contract {0} does not exist")]
    ContractNotFound(Hash32),
    #[error("instance {0} does not exist")]
    InstanceNotFound(Hash32),
    #[error("an instance needs 1..={max} distinct parties")]
    BadParties { max: usize },
    #[error("{0} is not a party to this instance (Art. 67 p.1)")]
    NotParty(SubjectId),
    #[error("acceptance does not match the instance's code, terms or init arguments")]
    AcceptanceMismatch,
    #[error("instance {0} is not active (pending acceptance, frozen by a dispute, or terminated)")]
    NotActive(Hash32),
    #[error("instance {0} is frozen by a dispute: nothing runs or moves until a human rules (Art. 67 p.3)")]
    Frozen(Hash32),
    #[error("instance {0} has no open dispute to rule on")]
    NoDispute(Hash32),
    #[error("a ruling needs {quorum} arbiter signatures, it has {got} (Art. 67 p.3)")]
    QuorumNotMet { quorum: u32, got: u32 },
    #[error(
        "the deadline passed at height {deadline}: the appeal arbiter rules now (Art. 67 p.3)"
    )]
    DeadlinePassed { deadline: u64 },
    #[error("instance {instance} does not hold record {record}")]
    NotHeld { instance: Hash32, record: Hash32 },
    #[error("instance {0} already holds the limit of records")]
    TooManyHoldings(Hash32),
    #[error("terminating instance {instance} would leave {records} held record(s) with no one able to move them: direct them all (Art. 67 p.3)")]
    HoldingsLeft { instance: Hash32, records: usize },
    #[error("contract trapped: {0}")]
    Trap(String),
    #[error("contract aborted: {0}")]
    Aborted(String),
    #[error(
        "contract call stack exhausted: its frames held more than {max} slots (the sandbox's stack limit, counted the same on every node)"
    )]
    StackExhausted { max: u32 },
    #[error("contract ran out of fuel (limit {0} per call)")]
    OutOfFuel(u64),
    #[error("the block's contract fuel budget ({max}) is spent; the transaction waits for a later block")]
    BlockFuelExhausted { max: u64 },
    #[error(
        "this node could not run the contract ({0}); this is not a verdict on the transaction"
    )]
    NodeLocal(String),
    #[error("contract storage exceeds {max} bytes")]
    StorageFull { max: usize },
    #[error("contract tried to change state in a read-only query")]
    ReadOnly,
}

impl ContractError {
    pub fn reason(&self) -> &'static str {
        use ContractError::*;
        match self {
            NoArbiters => "contract.no_arbiters",
            BadQuorum { .. } => "contract.bad_quorum",
            ArbiterNotCertified(_) => "contract.arbiter_not_certified",
            ArbiterIsParty(_) => "contract.arbiter_is_party",
            DuplicateArbiter(_) => "contract.duplicate_arbiter",
            NoDeadline => "contract.no_deadline",
            NoTerms => "contract.no_terms",
            InvalidModule(_) => "contract.invalid_module",
            ContractNotFound(_) => "contract.not_found",
            InstanceNotFound(_) => "contract.instance_not_found",
            BadParties { .. } => "contract.bad_parties",
            NotParty(_) => "contract.not_party",
            AcceptanceMismatch => "contract.acceptance_mismatch",
            NotActive(_) => "contract.not_active",
            Frozen(_) => "contract.frozen",
            NoDispute(_) => "contract.no_dispute",
            QuorumNotMet { .. } => "contract.quorum_not_met",
            DeadlinePassed { .. } => "contract.deadline_passed",
            NotHeld { .. } => "contract.not_held",
            TooManyHoldings(_) => "contract.too_many_holdings",
            HoldingsLeft { .. } => "contract.holdings_left",
            Trap(_) => "contract.trap",
            Aborted(_) => "contract.aborted",
            StackExhausted { .. } => "contract.stack_exhausted",
            OutOfFuel(_) => "contract.out_of_fuel",
            BlockFuelExhausted { .. } => "contract.block_fuel_exhausted",
            NodeLocal(_) => "node.local_failure",
            StorageFull { .. } => "contract.storage_full",
            ReadOnly => "contract.read_only",
        }
    }
}
