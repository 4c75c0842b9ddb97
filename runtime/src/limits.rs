//! Every bound the ledger enforces, in one place (TIGER_STYLE: a limit on everything).
//! Changing one changes what a valid block is, so all validators must agree on them.

/// Largest encoded signed transaction accepted anywhere, in bytes: room for the
/// largest contract module (256 KiB) with its terms (32 KiB) and envelope.
pub const TX_BYTES_MAX: usize = 320 * 1024;
/// Largest free-text field (description, class name) in bytes.
pub const TEXT_BYTES_MAX: usize = 1024;
/// Largest chain id in bytes.
pub const CHAIN_ID_BYTES_MAX: usize = 64;
/// Co-signatures one transaction may carry (consents of encumbrance holders, owners).
pub const COSIGNATURES_MAX: usize = 8;
/// Encumbrances one record may carry at once.
pub const ENCUMBRANCES_PER_RECORD_MAX: usize = 16;
/// Certificates named at genesis.
pub const GENESIS_CERTIFICATES_MAX: usize = 256;
/// Certificates one subject may hold that are not over (revoked or expired):
/// keys on several devices, with room to rotate.
pub const CERTS_PER_SUBJECT_MAX: usize = 16;
/// How far ahead a revocation may be scheduled, in heights.
pub const REVOCATION_AHEAD_MAX: u64 = 1_000_000;
/// Validators in one set: every vote is gossiped to and checked by every node.
pub const VALIDATORS_MAX: usize = 100;
/// One validator's voting power; with [`VALIDATORS_MAX`] the total fits any sum.
pub const VALIDATOR_POWER_MAX: u64 = 1 << 40;
/// Encoded size of one block: it travels whole in one consensus message, sent
/// directly to each peer (Malachite's broadcast protocol, which does not carry
/// messages much above 4 MiB).
pub const BLOCK_BYTES_MAX: usize = 3 * 1024 * 1024;
/// Transactions in one block.
pub const BLOCK_TXS_MAX: usize = 5_000;
/// Participation records of one condominium: each vote re-reads every one.
/// Signatures one document may carry (the state value stays small and bounded).
pub const DOCUMENT_SIGNATURES_MAX: usize = 32;
/// Most shares one condominium has.
pub const CONDO_SHARES_MAX: usize = 64;
/// Individual objects, and separately shared objects, one condominium lists.
pub const CONDO_OBJECTS_MAX: usize = 64;
/// Proposals of one condominium open at once.
pub const CONDO_OPEN_PROPOSALS_MAX: usize = 32;
/// Proposals one participant may have open in one condominium at once, so no
/// one participant fills the condominium's open slots.
pub const CONDO_PROPOSALS_PER_PROPOSER_MAX: usize = 4;
/// How far ahead a proposal's deadline or an offer's close may be, in heights.
pub const CONDO_WINDOW_BLOCKS_MAX: u64 = 1_000_000;
/// A condominium's denominator: numerators and their sums stay far from overflow.
pub const CONDO_DENOMINATOR_MAX: u64 = 1 << 40;
/// An agreement's or a mandate's text, in bytes (like a contract's terms).
pub const AGREEMENT_BYTES_MAX: usize = 32 * 1024;

/// Memory one transaction's decode may claim: 16 × [`TX_BYTES_MAX`]. A
/// transaction's decoded form is at most a few times its bytes (a `SignedTx`
/// about 3×), so a real one never comes near it; a length prefix in a small
/// hostile one cannot make the node reserve more (the canonical encoding's
/// limit for everything else is 64 MiB).
pub const TX_DECODE_CLAIM_MAX: usize = 16 * TX_BYTES_MAX;
