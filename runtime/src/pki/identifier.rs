//! IIN and BIN (Art. 45 p.2): the 12-digit identifiers of individuals and of legal
//! entities, their check digit, and the salted commitments that stand for them on
//! the ledger (Art. 41: the clear value lives only in an authority's vault, and
//! once it and its salt are erased nothing links the commitment to a person).
//!
//! The check digit is the published algorithm: the first eleven digits weighted
//! 1..=11, modulo 11; a remainder of 10 is recomputed with weights 3..=11,1,2;
//! a second 10 means no identifier has that body.

use super::model::SubjectKind;
use crate::types::{hashing, Hash32, SubjectId};

/// Bytes of salt behind each commitment: enough that the 10^11 possible IINs
/// cannot be tried against a commitment.
pub const SALT_BYTES: usize = 32;
/// Longest name accepted into a commitment, in bytes.
pub const NAME_BYTES_MAX: usize = 256;

/// Why an identifier is refused (Art. 45 p.2; Art. 60 p.4 for age). No message
/// repeats the identifier: it is personal data (Art. 41), and errors travel to
/// logs and terminals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("an {name} is exactly 12 digits (Art. 45 p.2)")]
    Shape { name: &'static str },
    #[error("the {name}'s digits {what} are not valid (Art. 45 p.2)")]
    Field {
        name: &'static str,
        what: &'static str,
    },
    #[error(
        "the {name}'s check digit is wrong: the published algorithm gives another (Art. 45 p.2)"
    )]
    CheckDigit { name: &'static str },
    #[error("no {name} has these first eleven digits: the check digit algorithm gives 10 twice (Art. 45 p.2)")]
    Unissuable { name: &'static str },
    #[error(
        "the holder has not reached the age of sixteen: no certificate is issued (Art. 60 p.4)"
    )]
    UnderSixteen,
}

impl IdentifierError {
    pub fn reason(&self) -> &'static str {
        match self {
            IdentifierError::UnderSixteen => "pki.under_sixteen",
            _ => "pki.identifier_invalid",
        }
    }
}

fn digits(value: &str) -> Option<[u8; 12]> {
    let bytes = value.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut out = [0u8; 12];
    for (slot, byte) in out.iter_mut().zip(bytes) {
        *slot = byte - b'0';
    }
    Some(out)
}

/// The check digit of the first eleven digits, or `None` when none exists.
pub fn check_digit(body: &[u8; 12]) -> Option<u8> {
    let weighted = |offset: u32| -> u32 {
        (0..11u32)
            .map(|i| u32::from(body[i as usize]) * ((i + offset) % 11 + 1))
            .sum::<u32>()
            % 11
    };
    let first = weighted(0);
    if first != 10 {
        return Some(first as u8);
    }
    let second = weighted(2);
    (second != 10).then_some(second as u8)
}

fn two(d: &[u8; 12], at: usize) -> u32 {
    u32::from(d[at]) * 10 + u32::from(d[at + 1])
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An individual's birth date from the IIN: (year, month, day), when the seventh
/// digit gives the century (1-2: 1800s, 3-4: 1900s, 5-6: 2000s).
pub fn birth_date(iin: &str) -> Option<(u32, u32, u32)> {
    let d = digits(iin)?;
    let century = match d[6] {
        1 | 2 => 1800,
        3 | 4 => 1900,
        5 | 6 => 2000,
        _ => return None,
    };
    Some((century + two(&d, 0), two(&d, 2), two(&d, 4)))
}

/// Checks an identifier for a subject of `kind`: shape, fields, check digit.
pub fn validate(kind: SubjectKind, value: &str) -> Result<(), IdentifierError> {
    let name = kind.identifier_name();
    let field = |what| IdentifierError::Field { name, what };
    let d = digits(value).ok_or(IdentifierError::Shape { name })?;
    let month = two(&d, 2);
    if !(1..=12).contains(&month) {
        return Err(field("3-4 (month)"));
    }
    match kind {
        SubjectKind::Individual => {
            if d[6] > 6 {
                return Err(field("7 (century and sex)"));
            }
            let year = birth_date(value).map(|(y, ..)| y).unwrap_or(2000);
            let day = two(&d, 4);
            if day == 0 || day > days_in_month(year, month) {
                return Err(field("5-6 (day of birth)"));
            }
        }
        SubjectKind::LegalEntity | SubjectKind::StateBody => {
            if !(4..=6).contains(&d[4]) {
                return Err(field("5 (type of entity: 4, 5 or 6)"));
            }
            if d[5] > 3 {
                return Err(field(
                    "6 (head office, branch, representative office or farm: 0-3)",
                ));
            }
        }
    }
    let expected = check_digit(&d).ok_or(IdentifierError::Unissuable { name })?;
    if expected != d[11] {
        return Err(IdentifierError::CheckDigit { name });
    }
    Ok(())
}

/// Refuses an individual under sixteen on `today` (year, month, day) (Art. 60 p.4).
pub fn check_age(iin: &str, today: (u32, u32, u32)) -> Result<(), IdentifierError> {
    let Some(born) = birth_date(iin) else {
        return Ok(());
    };
    let sixteenth = (born.0 + 16, born.1, born.2);
    if today < sixteenth {
        return Err(IdentifierError::UnderSixteen);
    }
    Ok(())
}

/// The commitment to an identifier that the ledger stores instead of it.
pub fn identifier_commitment(
    kind: SubjectKind,
    identifier: &str,
    salt: &[u8; SALT_BYTES],
) -> Hash32 {
    hashing::hash(
        &hashing::DOMAIN_IDENTIFIER,
        &[&[kind.tag()], identifier.as_bytes(), salt],
    )
}

/// The commitment to a holder's name that a certificate carries.
pub fn name_commitment(name: &str, salt: &[u8; SALT_BYTES]) -> Hash32 {
    hashing::hash(&hashing::DOMAIN_NAME, &[name.as_bytes(), salt])
}

/// The subject an identifier commitment names.
pub fn subject_of(identifier: &Hash32) -> SubjectId {
    SubjectId(hashing::hash(&hashing::DOMAIN_SUBJECT, &[&identifier.0]).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completes eleven digits with their check digit.
    pub fn complete(body: &str) -> String {
        let mut d = digits(&format!("{body}0")).unwrap();
        d[11] = check_digit(&d).unwrap();
        d.iter().map(|x| char::from(b'0' + x)).collect()
    }

    #[test]
    fn check_digits_follow_the_published_algorithm() {
        // Weights 1..=11: 9*1+0*2+0*3+5*4+0*5+1*6+3*7+0*8+0*9+1*10+2*11 = 88 = 0 mod 11.
        assert_eq!(validate(SubjectKind::Individual, "900501300120"), Ok(()));
        let wrong = validate(SubjectKind::Individual, "900501300121").unwrap_err();
        assert!(matches!(wrong, IdentifierError::CheckDigit { .. }));
        assert!(!wrong.to_string().contains("900501300121"), "never echoed");
        assert_eq!(wrong.reason(), "pki.identifier_invalid");
        assert!(wrong.to_string().contains("Art. 45 p.2"));
        // A body whose first remainder is 10 uses the second weights.
        // 1*10 = 10 with the first weights; the second give digit 10 weight 1.
        let d = digits("000000000100").unwrap();
        assert_eq!(check_digit(&d), Some(1));
    }

    #[test]
    fn shapes_and_fields_are_checked() {
        let iin = complete("90050130012");
        assert_eq!(validate(SubjectKind::Individual, &iin), Ok(()));
        for bad in ["", "12345", "9005013001200", "90050130012a"] {
            assert!(matches!(
                validate(SubjectKind::Individual, bad),
                Err(IdentifierError::Shape { .. })
            ));
        }
        let bad_month = complete("90130130012");
        assert!(matches!(
            validate(SubjectKind::Individual, &bad_month),
            Err(IdentifierError::Field { .. })
        ));
        let feb_30 = complete("90023030012");
        assert!(validate(SubjectKind::Individual, &feb_30).is_err());
        let bin = complete("12044000123");
        assert_eq!(validate(SubjectKind::LegalEntity, &bin), Ok(()));
        let bin_bad_type = complete("12041000123");
        assert!(validate(SubjectKind::LegalEntity, &bin_bad_type).is_err());
    }

    #[test]
    fn under_sixteen_is_refused() {
        let iin = complete("10063050012"); // born 2010-06-30
        assert_eq!(birth_date(&iin), Some((2010, 6, 30)));
        assert!(check_age(&iin, (2026, 6, 29)).is_err());
        assert_eq!(check_age(&iin, (2026, 6, 30)), Ok(()));
        assert_eq!(
            check_age(&iin, (2026, 1, 1)).unwrap_err().reason(),
            "pki.under_sixteen"
        );
    }

    #[test]
    fn commitments_depend_on_every_input() {
        let salt = [7u8; SALT_BYTES];
        let a = identifier_commitment(SubjectKind::Individual, "900501300120", &salt);
        assert_ne!(
            a,
            identifier_commitment(SubjectKind::LegalEntity, "900501300120", &salt)
        );
        assert_ne!(
            a,
            identifier_commitment(SubjectKind::Individual, "900501300120", &[8; 32])
        );
        assert_ne!(name_commitment("A", &salt), name_commitment("B", &salt));
        assert_ne!(subject_of(&a).0, a.0);
    }
}
