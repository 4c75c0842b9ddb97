//! Domain-separated blake3 hashing: each kind of thing hashed has its own context
//! string, so a hash of one kind can never be passed off as a hash of another.

use super::Hash32;

/// Signing hash of a transaction; also its id.
pub const DOMAIN_TX: &str = "tamga 2026 tx v1";
/// Hash of a block header; also the block's id.
pub const DOMAIN_BLOCK: &str = "tamga 2026 block header v1";
/// Commitment to the ordered, fully signed transactions of a block.
pub const DOMAIN_TXS: &str = "tamga 2026 block txs v2";
/// One transaction with all its signatures, as a block carries it.
pub const DOMAIN_SIGNED_TX: &str = "tamga 2026 signed tx v1";
/// Id of a newly registered record.
pub const DOMAIN_RECORD_ID: &str = "tamga 2026 record id v1";
/// Id of a record split off a fungible holding by a partial transfer.
pub const DOMAIN_SPLIT_ID: &str = "tamga 2026 record split id v1";
/// Id of a fungible class.
pub const DOMAIN_CLASS_ID: &str = "tamga 2026 class id v1";
/// What a validator signs when it votes (a precommit for a block is its commit).
pub const DOMAIN_VOTE: &str = "tamga 2026 vote v1";
/// What a proposer signs when it proposes a block in a round.
pub const DOMAIN_PROPOSAL: &str = "tamga 2026 proposal v1";
/// Id of a certificate.
pub const DOMAIN_CERT_ID: &str = "tamga 2026 certificate id v1";
/// Salted commitment to an IIN or BIN (Art. 41: no identifier in clear).
pub const DOMAIN_IDENTIFIER: &str = "tamga 2026 identifier commitment v1";
/// Salted commitment to a holder's name.
pub const DOMAIN_NAME: &str = "tamga 2026 name commitment v1";
/// A subject's id, from its identifier commitment.
pub const DOMAIN_SUBJECT: &str = "tamga 2026 subject id v1";
/// Id of a digital condominium.
pub const DOMAIN_CONDO_ID: &str = "tamga 2026 condominium id v1";
/// Id of a participation record (a condominium share).
pub const DOMAIN_SHARE_ID: &str = "tamga 2026 condominium share id v1";
/// Hash of a condominium's agreement text.
pub const DOMAIN_AGREEMENT: &str = "tamga 2026 condominium agreement v1";
/// A chain's genesis file: the chain's identity.
pub const DOMAIN_GENESIS: &str = "tamga 2026 genesis v1";
/// One entry of a record's provenance, as its running digest absorbs it.
pub const DOMAIN_PROVENANCE_ENTRY: &str = "tamga 2026 provenance entry v1";
/// A record's running provenance digest: previous digest, then the entry's hash.
pub const DOMAIN_PROVENANCE: &str = "tamga 2026 provenance v1";
/// Key hashes in the authenticated state tree.
pub const DOMAIN_STATE_KEY: &str = "tamga 2026 state key v1";

/// Hashes `parts` in order under `domain`. Each part is length-prefixed so that
/// ("ab","c") and ("a","bc") hash differently.
pub fn hash(domain: &str, parts: &[&[u8]]) -> Hash32 {
    let mut hasher = blake3::Hasher::new_derive_key(domain);
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    Hash32(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_boundaries_separate() {
        assert_ne!(hash(DOMAIN_TX, &[b"x"]), hash(DOMAIN_BLOCK, &[b"x"]));
        assert_ne!(
            hash(DOMAIN_TX, &[b"ab", b"c"]),
            hash(DOMAIN_TX, &[b"a", b"bc"])
        );
        assert_eq!(hash(DOMAIN_TX, &[b"x"]), hash(DOMAIN_TX, &[b"x"]));
    }
}
