//! Certificates named in genesis: the root certification authorities (Art. 52
//! p.2) and any subject the chain starts with (its validators' operators, a
//! registrar). They are written as if issued at height 0 by no one.

#[cfg(feature = "execution")]
use super::error::PkiError;
#[cfg(feature = "execution")]
use super::identifier::subject_of;
#[cfg(feature = "execution")]
use super::model::{Certificate, Point, Subject};
use super::model::{Role, SubjectKind};
#[cfg(feature = "execution")]
use super::rules::{check_roles, put_certificate};
#[cfg(feature = "execution")]
use crate::state::{keys, Overlay};
use crate::types::{hashing, Hash32, PublicKey};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct GenesisCertificate {
    /// What people reading the file call it ("root-ca", "node0"); not personal data.
    pub label: String,
    pub key: PublicKey,
    pub kind: SubjectKind,
    /// Salted commitment to the subject's IIN or BIN.
    pub identifier: Hash32,
    /// Salted commitment to the holder's name.
    pub name: Hash32,
    pub roles: Vec<Role>,
    /// A root certification authority: only a root accredits authorities.
    #[serde(default)]
    pub root: bool,
}

impl GenesisCertificate {
    pub fn id(index: usize) -> Hash32 {
        hashing::hash(
            &hashing::DOMAIN_CERT_ID,
            &[b"genesis", &(index as u64).to_le_bytes()],
        )
    }
}

/// Checks the genesis certificates: at least one root, roots are authorities,
/// roles fit kinds, keys usable and bound once.
#[cfg(feature = "execution")]
pub fn check(certs: &[GenesisCertificate]) -> Result<(), String> {
    if !certs.iter().any(|c| c.root) {
        return Err("genesis needs at least one root certification authority (root: true)".into());
    }
    kinds_agree(certs)?;
    let mut keys_seen = std::collections::HashSet::new();
    for cert in certs {
        let label = &cert.label;
        if cert.root && !cert.roles.contains(&Role::Authority) {
            return Err(format!("{label}: a root must carry the authority role"));
        }
        check_roles(&cert.roles, cert.kind).map_err(|e| format!("{label}: {e}"))?;
        if !crate::validators::usable_key(&cert.key) {
            return Err(format!("{label}: {}", PkiError::InvalidKey(cert.key)));
        }
        if !keys_seen.insert(cert.key) {
            return Err(format!("{label}: key {} is certified twice", cert.key));
        }
    }
    Ok(())
}

/// Writes the genesis subjects and certificates.
#[cfg(feature = "execution")]
pub fn write(state: &mut Overlay, certs: &[GenesisCertificate]) {
    let mut subjects: std::collections::BTreeMap<_, Subject> = Default::default();
    for (index, c) in certs.iter().enumerate() {
        let id = GenesisCertificate::id(index);
        let subject = subject_of(&c.identifier);
        let entry = subjects.entry(subject).or_insert_with(|| Subject {
            id: subject,
            kind: c.kind,
            identifier: c.identifier,
            registered_height: 0,
            certificates: vec![],
            erased_height: None,
        });
        entry.certificates.push(id);
        let mut roles = c.roles.clone();
        roles.sort();
        let cert = Certificate {
            id,
            subject,
            kind: c.kind,
            key: c.key,
            name: c.name,
            roles,
            valid_from: Point::Height(0),
            valid_until: None,
            issuer: None,
            root: c.root,
            issued_height: 0,
            revocation: None,
        };
        put_certificate(state, &cert);
    }
    for (id, subject) in subjects {
        state.put(keys::subject(&id), &subject);
    }
}

/// One identifier is one subject: its certificates agree on its kind.
#[cfg(feature = "execution")]
fn kinds_agree(certs: &[GenesisCertificate]) -> Result<(), String> {
    let mut kinds: std::collections::HashMap<Hash32, SubjectKind> = Default::default();
    for c in certs {
        if let Some(kind) = kinds.insert(c.identifier, c.kind) {
            if kind != c.kind {
                return Err(format!("{}: the same identifier with two kinds", c.label));
            }
        }
    }
    Ok(())
}
