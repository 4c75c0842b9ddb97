//! A document claim: the signatures anchored to a document's hash (Art. 55
//! p.1(4)), each with the certificate it was made under, or proof that none were.

use crate::error::VerifyError;
use crate::format::Certificate;
use crate::record::certificate;
use crate::report::DocumentFinding;
use crate::values::ProvenState;
use tamga_runtime::documents::DocumentAnchors;
use tamga_runtime::state::keys;
use tamga_runtime::Hash32;

pub fn check(
    state: &ProvenState,
    hash: &Hash32,
    cert: &Certificate,
) -> Result<DocumentFinding, VerifyError> {
    if cert.provenance.is_some() {
        return Err(VerifyError::Inconsistent(
            "a document certificate carries no record provenance".into(),
        ));
    }
    let anchors: Option<DocumentAnchors> = state.get(&keys::document(hash))?;
    let signatures = anchors.map(|a| a.signatures).unwrap_or_default();
    let certificates = signatures
        .iter()
        .map(|sig| certificate(state, &sig.certificate, &sig.key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DocumentFinding {
        hash: *hash,
        signatures,
        certificates,
    })
}
