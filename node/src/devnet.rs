//! Who the dev and test chains start with: a dev root certification authority and
//! certified dev accounts with valid test IINs and BINs (Art. 45 p.2), so `tamga
//! dev` and `tamga testnet` are one command each. Keys, salts and identifiers are
//! derived from the account names: every dev chain has the same accounts, the same
//! commitments and the same genesis. Never use any of it for anything real.

use crate::keyring::dev_key;
use crate::vault::{Identity, NameEntry};
use tamga_runtime::pki::identifier::{self, SALT_BYTES};
use tamga_runtime::pki::{GenesisCertificate, Role, SubjectKind};
use tamga_runtime::PublicKey;

/// One dev account: its key name, who it is, and what it may do.
pub struct DevAccount {
    pub name: &'static str,
    pub kind: SubjectKind,
    /// A test IIN or BIN whose check digit is right.
    pub identifier: &'static str,
    pub full_name: &'static str,
    pub roles: &'static [Role],
    pub root: bool,
    pub what: &'static str,
}

const fn account(
    name: &'static str,
    kind: SubjectKind,
    identifier: &'static str,
    full_name: &'static str,
    roles: &'static [Role],
    what: &'static str,
) -> DevAccount {
    DevAccount {
        name,
        kind,
        identifier,
        full_name,
        roles,
        root: false,
        what,
    }
}

use SubjectKind::{Individual, LegalEntity, StateBody};

/// The dev accounts, in the order `tamga dev` prints them.
pub const DEV_ACCOUNTS: [DevAccount; 11] = [
    DevAccount {
        root: true,
        ..account(
            "authority",
            LegalEntity,
            "060440000113",
            "Tamga Dev Root Certification Authority",
            &[Role::Authority],
            "the root certification authority: issues and revokes certificates",
        )
    },
    account(
        "registrar",
        StateBody,
        "071240000222",
        "Dev Land Registry",
        &[Role::Registrar],
        "registers tangible objects and designates national ones",
    ),
    account(
        "court",
        StateBody,
        "080140000334",
        "Dev District Court",
        &[Role::Court],
        "imposes and lifts arrests, citing its orders",
    ),
    account(
        "ministry",
        StateBody,
        "110940000669",
        "Dev Ministry of Digital Development",
        &[],
        "a state body: holds national objects",
    ),
    account(
        "alice",
        Individual,
        "850305400120",
        "Alice Akhmetova",
        &[],
        "an owner",
    ),
    account(
        "bob",
        Individual,
        "900712300346",
        "Bob Bekov",
        &[],
        "a buyer",
    ),
    account(
        "bank",
        LegalEntity,
        "090540000447",
        "Dev Bank JSC",
        &[],
        "a creditor (pledgee)",
    ),
    account(
        "arbiter1",
        Individual,
        "710101300562",
        "Arman Seitkali",
        &[Role::Arbiter],
        "a human arbiter for contract disputes",
    ),
    account(
        "arbiter2",
        Individual,
        "680220400786",
        "Aigerim Nurlanova",
        &[Role::Arbiter],
        "a human arbiter for contract disputes",
    ),
    account(
        "appeal",
        Individual,
        "600515300917",
        "Serik Omarov",
        &[Role::Arbiter],
        "the appeal arbiter",
    ),
    account(
        "validator",
        LegalEntity,
        "100640000557",
        "Dev Validator LLP",
        &[],
        "operates the dev validator",
    ),
];

fn salt(context: &str, name: &str) -> [u8; SALT_BYTES] {
    blake3::derive_key(context, name.as_bytes())
}

/// The vault entry of a subject named `name` with key-derived salts.
pub fn identity(name: &str, kind: SubjectKind, identifier: &str, full_name: &str) -> Identity {
    let id_salt = salt("tamga 2026 dev identifier salt v1", name);
    let name_salt = salt("tamga 2026 dev name salt v1", name);
    let commitment = identifier::identifier_commitment(kind, identifier, &id_salt);
    Identity {
        subject: identifier::subject_of(&commitment),
        kind,
        identifier: identifier.to_owned(),
        identifier_salt: hex::encode(id_salt),
        identifier_commitment: commitment,
        names: vec![NameEntry {
            name: full_name.to_owned(),
            salt: hex::encode(name_salt),
            commitment: identifier::name_commitment(full_name, &name_salt),
        }],
    }
}

impl DevAccount {
    pub fn identity(&self) -> Identity {
        identity(self.name, self.kind, self.identifier, self.full_name)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&dev_key(self.name))
    }

    pub fn certificate(&self) -> GenesisCertificate {
        genesis_certificate(
            self.name,
            self.public_key(),
            &self.identity(),
            self.roles,
            self.root,
        )
    }
}

/// A genesis certificate for `key`, naming the subject of `identity`.
pub fn genesis_certificate(
    label: &str,
    key: PublicKey,
    identity: &Identity,
    roles: &[Role],
    root: bool,
) -> GenesisCertificate {
    GenesisCertificate {
        label: label.to_owned(),
        key,
        kind: identity.kind,
        identifier: identity.identifier_commitment,
        name: identity.names[0].commitment,
        roles: roles.to_vec(),
        root,
    }
}

/// A test BIN for the `serial`-th testnet node operator (check digit computed).
pub fn node_operator_bin(serial: u32) -> String {
    let mut serial = serial;
    loop {
        let body = format!("120140{:05}", serial % 100_000);
        let mut digits = [0u8; 12];
        for (slot, byte) in digits.iter_mut().zip(body.bytes()) {
            *slot = byte - b'0';
        }
        if let Some(check) = identifier::check_digit(&digits) {
            return format!("{body}{check}");
        }
        serial += 1;
    }
}

/// Every dev account's genesis certificate.
pub fn dev_certificates() -> Vec<GenesisCertificate> {
    DEV_ACCOUNTS.iter().map(DevAccount::certificate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_identifiers_are_valid_and_subjects_distinct() {
        let mut subjects = std::collections::HashSet::new();
        for account in &DEV_ACCOUNTS {
            identifier::validate(account.kind, account.identifier)
                .unwrap_or_else(|e| panic!("{}: {e}", account.name));
            account.identity().check().unwrap();
            assert!(
                subjects.insert(account.identity().subject),
                "{}",
                account.name
            );
        }
        for serial in 0..20 {
            identifier::validate(SubjectKind::LegalEntity, &node_operator_bin(serial)).unwrap();
        }
    }
}
