//! Email addresses as login identifiers.
//!
//! Two spellings of one address must be one identifier, or a user could sign up twice
//! and a rate limit per address could be dodged. [`normalize_email`] therefore:
//!
//! 1. trims surrounding whitespace;
//! 2. applies Unicode NFKC (full-width `ａ` becomes `a`);
//! 3. lowercases the whole address: nearly every mail provider treats the local part
//!    case-insensitively, and an auth product that did not would let `Alice@` and
//!    `alice@` be two accounts;
//! 4. checks the shape: one `@`, a dot-atom local part of 1–64 characters (RFC 5322
//!    `atext`, plus non-ASCII per RFC 6531), a domain of at least two labels of letters,
//!    digits and inner hyphens (or non-ASCII), 254 characters in all.
//!
//! It deliberately does **not** strip `+tags` or Gmail's dots: those are distinct
//! mailboxes on most providers. Quoted local parts and IP-literal domains are refused.

use alloc::string::String;
use core::fmt;
use unicode_normalization::UnicodeNormalization;

/// The longest address accepted (RFC 5321 §4.5.3.1.3 path limit less the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailError {
    /// Empty, too long, or with control or space characters.
    InvalidCharacters,
    /// Not exactly one `@` with text on both sides.
    MissingAt,
    /// The part before `@` is not a dot-atom of 1–64 characters.
    InvalidLocalPart,
    /// The part after `@` is not a domain name of two or more labels.
    InvalidDomain,
}

impl crate::error::ErrorCode for EmailError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidCharacters => "invalid_characters",
            Self::MissingAt => "missing_at",
            Self::InvalidLocalPart => "invalid_local_part",
            Self::InvalidDomain => "invalid_domain",
        }
    }
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCharacters => {
                "email is empty, too long, or contains spaces or control characters"
            }
            Self::MissingAt => "email must contain exactly one @",
            Self::InvalidLocalPart => "the part of the email before @ is not valid",
            Self::InvalidDomain => "the domain of the email is not valid",
        })
    }
}

impl core::error::Error for EmailError {}

/// Normalises an email address into its one stored spelling.
pub fn normalize_email(input: &str) -> Result<String, EmailError> {
    // Bound the work before normalising: NFKC can expand text, but never an address
    // that was valid to begin with by more than a small factor.
    if input.len() > MAX_EMAIL_LEN * 4 {
        return Err(EmailError::InvalidCharacters);
    }
    let normalized: String = input.trim().nfkc().collect::<String>().to_lowercase();
    if normalized.is_empty()
        || normalized.len() > MAX_EMAIL_LEN
        || normalized
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(EmailError::InvalidCharacters);
    }
    let (local, domain) = normalized.split_once('@').ok_or(EmailError::MissingAt)?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(EmailError::MissingAt);
    }
    if !valid_local(local) {
        return Err(EmailError::InvalidLocalPart);
    }
    if !valid_domain(domain) {
        return Err(EmailError::InvalidDomain);
    }
    Ok(normalized)
}

/// RFC 5322 dot-atom of `atext` (and, per RFC 6531, any non-ASCII character).
fn valid_local(local: &str) -> bool {
    let atext =
        |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

/// LDH labels (or non-ASCII for internationalised names), two or more, and a top-level
/// label that is not all digits (which would make it an IP address).
fn valid_domain(domain: &str) -> bool {
    let labels: alloc::vec::Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_address_normalise_together() {
        for spelling in [
            "alice@example.com",
            "  Alice@Example.COM ",
            "ａｌｉｃｅ@example.com",
        ] {
            assert_eq!(
                normalize_email(spelling).as_deref(),
                Ok("alice@example.com"),
                "{spelling}"
            );
        }
        assert_eq!(
            normalize_email("a.b+tag@example.co.uk").as_deref(),
            Ok("a.b+tag@example.co.uk")
        );
        assert_eq!(
            normalize_email("josé@exämple.de").as_deref(),
            Ok("josé@exämple.de")
        );
    }

    #[test]
    fn bad_addresses_have_reasons() {
        assert_eq!(normalize_email(""), Err(EmailError::InvalidCharacters));
        assert_eq!(
            normalize_email("a b@example.com"),
            Err(EmailError::InvalidCharacters)
        );
        assert_eq!(
            normalize_email("a\r\n@example.com"),
            Err(EmailError::InvalidCharacters)
        );
        assert_eq!(
            normalize_email("alice.example.com"),
            Err(EmailError::MissingAt)
        );
        assert_eq!(
            normalize_email("a@b@example.com"),
            Err(EmailError::MissingAt)
        );
        assert_eq!(
            normalize_email(".alice@example.com"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(
            normalize_email("al..ice@example.com"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(
            normalize_email("\"a\"@example.com"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(
            normalize_email("alice@localhost"),
            Err(EmailError::InvalidDomain)
        );
        assert_eq!(
            normalize_email("alice@1.2.3.4"),
            Err(EmailError::InvalidDomain)
        );
        assert_eq!(
            normalize_email("alice@-x.com"),
            Err(EmailError::InvalidDomain)
        );
        assert_eq!(
            normalize_email("alice@[127.0.0.1]"),
            Err(EmailError::InvalidDomain)
        );
        let long = alloc::format!("{}@example.com", "a".repeat(65));
        assert_eq!(normalize_email(&long), Err(EmailError::InvalidLocalPart));
    }
}
