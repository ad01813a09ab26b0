//! argon2id (RFC 9106) hashing of low-entropy and medium-entropy secrets: passwords and
//! the secret half of `id_secret` API keys.
//!
//! Parameters are a value ([`Argon2Profile`]), not a constant: passwords use
//! [`Argon2Profile::PASSWORD`] (OWASP's minimum, m = 19 MiB, t = 2, p = 1), while
//! `id_secret` secrets, which already carry 256 random bits, use the light
//! [`Argon2Profile::LIGHT`] (4 MiB, t = 2) that fits a Worker's CPU budget. A stored
//! hash records its own parameters in the PHC string format, so raising a profile later
//! is a settings change: [`needs_rehash`] tells when a stored hash is weaker than the
//! current profile, and the caller re-hashes at the next successful verification.
//!
//! PHC strings are written and read here, strictly, for argon2id version 19 only:
//! `$argon2id$v=19$m=<kib>,t=<passes>,p=<lanes>$<B64 salt>$<B64 hash>`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::encoding::{b64_nopad_decode, b64_nopad_encode};
use crate::secret::{ct_eq, random_bytes};

/// Bytes of salt drawn for each new hash (RFC 9106 recommends 16).
const SALT_LEN: usize = 16;
/// Bytes of argon2 output stored.
const HASH_LEN: usize = 32;

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Profile {
    /// Memory in KiB (`m`).
    pub m_cost_kib: u32,
    /// Passes over memory (`t`).
    pub t_cost: u32,
    /// Lanes (`p`).
    pub p_cost: u32,
}

impl Argon2Profile {
    /// Passwords: OWASP's argon2id baseline (m = 19,456 KiB, t = 2, p = 1).
    pub const PASSWORD: Self = Self {
        m_cost_kib: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
    /// Secrets with 256 random bits (`id_secret` keys): 4 MiB, t = 2, p = 1. The input
    /// cannot be guessed, so memory-hardness only needs to blunt an offline attack on a
    /// stolen table, and the cost stays within a Worker's per-request CPU budget.
    pub const LIGHT: Self = Self {
        m_cost_kib: 4_096,
        t_cost: 2,
        p_cost: 1,
    };

    fn params(self, output_len: usize) -> Result<Params, PasswordError> {
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(output_len))
            .map_err(|_| PasswordError::InvalidParameters)
    }

    /// Whether `self` is at least as costly as `other` in every dimension that makes
    /// an attack more expensive (memory and passes).
    #[must_use]
    pub fn at_least(self, other: Self) -> bool {
        self.m_cost_kib >= other.m_cost_kib && self.t_cost >= other.t_cost
    }
}

/// Why hashing or verification could not run (not "wrong secret": that is `Ok(false)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// The stored string is not an argon2id v19 PHC string this module wrote.
    MalformedHash,
    /// The parameters are outside argon2's limits: a configuration error.
    InvalidParameters,
}

impl crate::error::ErrorCode for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            Self::MalformedHash => "malformed_hash",
            Self::InvalidParameters => "invalid_parameters",
        }
    }
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedHash => "stored hash is not an argon2id v19 PHC string",
            Self::InvalidParameters => "argon2 parameters out of range",
        })
    }
}

impl core::error::Error for PasswordError {}

/// A parsed PHC string.
struct Phc {
    profile: Argon2Profile,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Hashes `secret` with a fresh salt from `rng` and returns the PHC string to store.
pub fn hash(
    secret: &[u8],
    profile: Argon2Profile,
    rng: &mut impl rand_core::CryptoRng,
) -> Result<String, PasswordError> {
    let salt = random_bytes::<SALT_LEN>(rng);
    let out = raw(secret, salt.as_ref(), profile, HASH_LEN)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        profile.m_cost_kib,
        profile.t_cost,
        profile.p_cost,
        b64_nopad_encode(salt.as_ref()),
        b64_nopad_encode(&out)
    ))
}

/// Verifies `secret` against a stored PHC string, comparing in constant time.
/// `Ok(false)` means the secret is wrong; `Err` means the stored value is unusable.
pub fn verify(secret: &[u8], stored: &str) -> Result<bool, PasswordError> {
    let phc = parse(stored)?;
    let out = raw(secret, &phc.salt, phc.profile, phc.hash.len())?;
    Ok(ct_eq(&out, &phc.hash))
}

/// Spends the same work as a [`verify`] under `profile` and returns `false`: called when
/// the credential does not exist, so that an unknown id and a wrong secret cost the
/// same time.
pub fn verify_dummy(secret: &[u8], profile: Argon2Profile) -> Result<bool, PasswordError> {
    const DUMMY_SALT: [u8; SALT_LEN] = *b"keyward-dummy-sa";
    let out = raw(secret, &DUMMY_SALT, profile, HASH_LEN)?;
    // Keep the comparison so the work matches `verify`; its result means nothing.
    core::hint::black_box(ct_eq(&out, &[0u8; HASH_LEN]));
    Ok(false)
}

/// Whether a stored hash was made with weaker parameters than `current` (or is not a
/// PHC string at all) and should be replaced at the next successful verification.
#[must_use]
pub fn needs_rehash(stored: &str, current: Argon2Profile) -> bool {
    parse(stored).map_or(true, |phc| {
        !phc.profile.at_least(current) || phc.hash.len() < HASH_LEN
    })
}

/// The parameters recorded in a stored hash.
pub fn profile_of(stored: &str) -> Result<Argon2Profile, PasswordError> {
    parse(stored).map(|phc| phc.profile)
}

/// The raw argon2id function (RFC 9106 §3) with optional secret and associated data:
/// exposed for the RFC's known-answer test; everything else goes through [`hash`].
pub fn argon2id_raw(
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    associated_data: &[u8],
    profile: Argon2Profile,
    output_len: usize,
) -> Result<Vec<u8>, PasswordError> {
    let mut builder = argon2::ParamsBuilder::new();
    builder
        .m_cost(profile.m_cost_kib)
        .t_cost(profile.t_cost)
        .p_cost(profile.p_cost)
        .output_len(output_len)
        .data(
            argon2::AssociatedData::new(associated_data)
                .map_err(|_| PasswordError::InvalidParameters)?,
        );
    let params = builder
        .build()
        .map_err(|_| PasswordError::InvalidParameters)?;
    let ctx = Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|_| PasswordError::InvalidParameters)?;
    let mut out = alloc::vec![0u8; output_len];
    ctx.hash_password_into(password, salt, &mut out)
        .map_err(|_| PasswordError::InvalidParameters)?;
    Ok(out)
}

fn raw(
    secret: &[u8],
    salt: &[u8],
    profile: Argon2Profile,
    output_len: usize,
) -> Result<Zeroizing<Vec<u8>>, PasswordError> {
    let ctx = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        profile.params(output_len)?,
    );
    let mut out = Zeroizing::new(alloc::vec![0u8; output_len]);
    ctx.hash_password_into(secret, salt, &mut out)
        .map_err(|_| PasswordError::InvalidParameters)?;
    Ok(out)
}

/// Upper bounds on what a stored string may ask for, so that a corrupted row cannot
/// make one verification allocate gigabytes or spin for minutes.
const MAX_M_COST_KIB: u32 = 1 << 20;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

fn parse(stored: &str) -> Result<Phc, PasswordError> {
    let bad = PasswordError::MalformedHash;
    let rest = stored.strip_prefix("$argon2id$v=19$m=").ok_or(bad)?;
    let (m, rest) = rest.split_once(",t=").ok_or(bad)?;
    let (t, rest) = rest.split_once(",p=").ok_or(bad)?;
    let (p, rest) = rest.split_once('$').ok_or(bad)?;
    let (salt, hash) = rest.split_once('$').ok_or(bad)?;
    let profile = Argon2Profile {
        m_cost_kib: parse_decimal(m, MAX_M_COST_KIB)?,
        t_cost: parse_decimal(t, MAX_T_COST)?,
        p_cost: parse_decimal(p, MAX_P_COST)?,
    };
    let salt = b64_nopad_decode(salt).ok_or(bad)?;
    let hash = b64_nopad_decode(hash).ok_or(bad)?;
    if !(8..=64).contains(&salt.len()) || !(16..=64).contains(&hash.len()) {
        return Err(bad);
    }
    profile.params(hash.len()).map_err(|_| bad)?;
    Ok(Phc {
        profile,
        salt,
        hash,
    })
}

/// A decimal without sign or leading zeros, at most `max`.
fn parse_decimal(text: &str, max: u32) -> Result<u32, PasswordError> {
    let canonical = !text.is_empty()
        && text.len() <= 10
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let value: u32 = if canonical {
        text.parse().map_err(|_| PasswordError::MalformedHash)?
    } else {
        0
    };
    if canonical && value <= max {
        Ok(value)
    } else {
        Err(PasswordError::MalformedHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;

    /// Cheap parameters so unit tests stay fast; the profiles are exercised in the
    /// integration tests.
    const TINY: Argon2Profile = Argon2Profile {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    #[test]
    fn hash_then_verify() {
        let mut rng = SeededRng::new(3);
        let stored = hash(b"correct horse", TINY, &mut rng).expect("hashes");
        assert!(stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(verify(b"correct horse", &stored), Ok(true));
        assert_eq!(verify(b"correct horsf", &stored), Ok(false));
        assert_eq!(verify_dummy(b"correct horse", TINY), Ok(false));
    }

    #[test]
    fn rehash_when_weaker() {
        let mut rng = SeededRng::new(4);
        let stored = hash(b"x", TINY, &mut rng).expect("hashes");
        assert!(needs_rehash(
            &stored,
            Argon2Profile {
                m_cost_kib: 128,
                ..TINY
            }
        ));
        assert!(needs_rehash(&stored, Argon2Profile { t_cost: 2, ..TINY }));
        assert!(!needs_rehash(&stored, TINY));
        assert!(needs_rehash("not a hash", TINY));
        assert_eq!(profile_of(&stored), Ok(TINY));
    }

    #[test]
    fn malformed_stored_strings_are_errors_not_panics() {
        let good =
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss";
        assert!(verify(b"x", good).is_ok());
        for bad in [
            "",
            "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=19$m=64,t=1,p=1$c2Fs$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ=$qpLDBHpxAE4bY1uQnTsg9ZL3k3KjNi0RUI5oNPaZ9Ss",
        ] {
            assert_eq!(
                verify(b"x", bad),
                Err(PasswordError::MalformedHash),
                "{bad}"
            );
        }
    }
}
