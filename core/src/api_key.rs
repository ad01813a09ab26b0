//! API keys: the deployment prefix, the two schemes, and what is stored of them.
//!
//! | scheme | shape | stored as |
//! |---|---|---|
//! | `lookup` | `{p}_` + base64url(32 random bytes), 43 chars | PBKDF2-HMAC-SHA256(key, salt = hash secret), indexed |
//! | `id_secret` | `{p}_{32 hex credential id}_{64 hex secret}` | argon2id PHC string of the secret; row found by the id |
//!
//! Both are parsed strictly: one spelling per key (canonical base64url, lowercase hex,
//! exact lengths), so the hash of a key is a function of the key and nothing else.
//! The first [`KEY_PREFIX_LEN`] characters ([`key_prefix`]) are the only part ever
//! logged or shown.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use crate::digest::{Digest32, pbkdf2_sha256};
use crate::encoding::{b64url_decode_exact, b64url_encode, hex_decode_exact, hex_encode};
use crate::secret::{SecretString, random_bytes};

/// How many leading characters of a token may be shown and logged.
pub const KEY_PREFIX_LEN: usize = 12;

/// The sub-prefixes that mark OAuth tokens (`{p}_oat_…`, `{p}_ort_…`). A `lookup` key
/// body never starts with one, so routing by prefix is unambiguous.
pub const RESERVED_SUB_PREFIXES: [&str; 2] = ["oat_", "ort_"];

/// Characters of a `lookup` key's body: base64url of 32 bytes.
pub const LOOKUP_BODY_LEN: usize = 43;

/// The default PBKDF2 iteration count of the `lookup` scheme. The key has 256 random
/// bits, so the iterations defend nothing against guessing; they only slow an offline
/// attacker who stole both the table and the hash secret. 1,000 costs about 0.3 ms in
/// the worker (see `docs/benchmarks.md`) and keeps verification far under a Worker's CPU
/// budget.
pub const DEFAULT_LOOKUP_ITERATIONS: u32 = 1_000;

/// Why a prefix or a key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The deployment prefix is not `[a-z][a-z0-9]{1,15}`: a configuration error.
    InvalidPrefix,
    /// The token does not start with the deployment's `{p}_`.
    WrongPrefix,
    /// The token has the prefix but not the exact shape of either scheme.
    Malformed,
    /// A `lookup`-shaped body starting with a reserved sub-prefix.
    ReservedSubPrefix,
}

impl crate::error::ErrorCode for KeyError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidPrefix => "invalid_prefix",
            Self::WrongPrefix => "wrong_prefix",
            Self::Malformed => "malformed_key",
            Self::ReservedSubPrefix => "reserved_sub_prefix",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidPrefix => "key prefix must match [a-z][a-z0-9]{1,15}",
            Self::WrongPrefix => "token does not carry this deployment's key prefix",
            Self::Malformed => "token does not have the shape of an API key",
            Self::ReservedSubPrefix => "API key body starts with a reserved sub-prefix",
        })
    }
}

impl core::error::Error for KeyError {}

/// The deployment's key prefix (`KEY_PREFIX`), validated: `[a-z][a-z0-9]{1,15}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Validates a prefix such as `ptmc`, `prim` or `atom`.
    pub fn new(prefix: &str) -> Result<Self, KeyError> {
        let bytes = prefix.as_bytes();
        let valid = (2..=16).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes[1..]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(prefix.to_string()))
        } else {
            Err(KeyError::InvalidPrefix)
        }
    }

    /// The prefix a token claims: the text before its first `_`, if that is a valid
    /// prefix. For clients (the SDK, the CLI) that hold a token but not the
    /// deployment's settings; the server always uses its configured prefix.
    pub fn of_token(token: &str) -> Result<Self, KeyError> {
        let (claimed, _) = token.split_once('_').ok_or(KeyError::WrongPrefix)?;
        Self::new(claimed).map_err(|_| KeyError::WrongPrefix)
    }

    /// The prefix without the trailing underscore.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// If `token` starts with `{p}_`, the rest of it.
    #[must_use]
    pub fn strip<'a>(&self, token: &'a str) -> Option<&'a str> {
        token.strip_prefix(self.0.as_str())?.strip_prefix('_')
    }
}

/// Which API-key scheme a key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyScheme {
    /// Keyed PBKDF2 hash, found by its hash: the fast path.
    Lookup,
    /// Embedded credential id + argon2id-hashed secret: the slow path, O(1) by id.
    IdSecret,
}

impl KeyScheme {
    /// The scheme's name in settings and in the API (`lookup`, `id_secret`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lookup => "lookup",
            Self::IdSecret => "id_secret",
        }
    }

    /// Parses a scheme name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "lookup" => Some(Self::Lookup),
            "id_secret" => Some(Self::IdSecret),
            _ => None,
        }
    }
}

/// A `lookup`-scheme key: `{p}_` + base64url(32 bytes).
#[derive(Debug, PartialEq, Eq)]
pub struct LookupKey(SecretString);

impl LookupKey {
    /// Mints a fresh key from the caller's CSPRNG. Bodies that would start with a
    /// reserved sub-prefix are drawn again (probability about 2⁻²³ per draw).
    pub fn generate(prefix: &KeyPrefix, rng: &mut impl rand_core::CryptoRng) -> Self {
        loop {
            let bytes = random_bytes::<32>(rng);
            let body = zeroize::Zeroizing::new(b64url_encode(bytes.as_ref()));
            if !starts_with_reserved(&body) {
                return Self(SecretString::new(format!("{}_{}", prefix.as_str(), *body)));
            }
        }
    }

    /// Parses a presented key strictly.
    pub fn parse(prefix: &KeyPrefix, token: &str) -> Result<Self, KeyError> {
        let body = prefix.strip(token).ok_or(KeyError::WrongPrefix)?;
        if starts_with_reserved(body) {
            return Err(KeyError::ReservedSubPrefix);
        }
        b64url_decode_exact::<32>(body).ok_or(KeyError::Malformed)?;
        Ok(Self(SecretString::new(token.to_string())))
    }

    /// The full key. Return it once, at creation; never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The first 12 characters: safe to log and show.
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        key_prefix(self.0.expose())
    }

    /// The value stored and indexed for this key: PBKDF2-HMAC-SHA256 of the whole key,
    /// salted with the server's hash secret.
    #[must_use]
    pub fn lookup_hash(&self, hash_secret: &[u8], iterations: u32) -> Digest32 {
        lookup_hash(self.0.expose().as_bytes(), hash_secret, iterations)
    }
}

/// PBKDF2-HMAC-SHA256(key, salt = hash secret, iterations) → 32 bytes: the stored,
/// indexed value of a `lookup` key.
#[must_use]
pub fn lookup_hash(key: &[u8], hash_secret: &[u8], iterations: u32) -> Digest32 {
    let mut out = [0u8; 32];
    pbkdf2_sha256(key, hash_secret, iterations, &mut out);
    out
}

/// A credential id: 16 random bytes, shown as 32 lowercase hex characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CredentialId([u8; 16]);

impl CredentialId {
    /// Draws a fresh id.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        Self(id)
    }

    /// Parses 32 lowercase hex characters.
    #[must_use]
    pub fn parse(hex: &str) -> Option<Self> {
        hex_decode_exact::<16>(hex).map(Self)
    }

    /// The 32-character lowercase hex form.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }
}

/// An `id_secret`-scheme key: `{p}_{32 hex id}_{64 hex secret}`.
#[derive(Debug, PartialEq, Eq)]
pub struct IdSecretKey {
    id: CredentialId,
    full: SecretString,
}

/// Characters of an `id_secret` body: 32 hex + `_` + 64 hex.
const ID_SECRET_BODY_LEN: usize = 32 + 1 + 64;

impl IdSecretKey {
    /// Mints a key with a fresh credential id and a 256-bit secret.
    pub fn generate(prefix: &KeyPrefix, rng: &mut impl rand_core::CryptoRng) -> Self {
        let id = CredentialId::generate(rng);
        let secret = random_bytes::<32>(rng);
        let secret_hex = zeroize::Zeroizing::new(hex_encode(secret.as_ref()));
        let full = format!("{}_{}_{}", prefix.as_str(), id.to_hex(), *secret_hex);
        Self {
            id,
            full: SecretString::new(full),
        }
    }

    /// Parses a presented key strictly.
    pub fn parse(prefix: &KeyPrefix, token: &str) -> Result<Self, KeyError> {
        let body = prefix.strip(token).ok_or(KeyError::WrongPrefix)?;
        if body.len() != ID_SECRET_BODY_LEN || body.as_bytes()[32] != b'_' {
            return Err(KeyError::Malformed);
        }
        let id = CredentialId::parse(&body[..32]).ok_or(KeyError::Malformed)?;
        hex_decode_exact::<32>(&body[33..]).ok_or(KeyError::Malformed)?;
        Ok(Self {
            id,
            full: SecretString::new(token.to_string()),
        })
    }

    /// The embedded credential id: how the row is found.
    #[must_use]
    pub fn credential_id(&self) -> CredentialId {
        self.id
    }

    /// The 64-hex secret part: what the argon2id PHC string is computed over.
    #[must_use]
    pub fn secret(&self) -> &str {
        let full = self.full.expose();
        &full[full.len() - 64..]
    }

    /// The full key. Return it once, at creation; never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.full.expose()
    }

    /// The first 12 characters: safe to log and show.
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        key_prefix(self.full.expose())
    }
}

/// The first [`KEY_PREFIX_LEN`] characters of a token (all of it if shorter), cut on a
/// character boundary so that hostile non-ASCII input cannot panic.
#[must_use]
pub fn key_prefix(token: &str) -> &str {
    match token.char_indices().nth(KEY_PREFIX_LEN) {
        Some((end, _)) => &token[..end],
        None => token,
    }
}

fn starts_with_reserved(body: &str) -> bool {
    RESERVED_SUB_PREFIXES.iter().any(|r| body.starts_with(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;

    fn prefix() -> KeyPrefix {
        KeyPrefix::new("ptmc").expect("valid prefix")
    }

    #[test]
    fn prefix_rules() {
        for ok in ["ptmc", "prim", "atom", "ab", "a1234567890abcde"] {
            assert!(KeyPrefix::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "1abc",
            "Ptmc",
            "pt_mc",
            "a1234567890abcdef",
            "ptmc_",
            "pté",
        ] {
            assert_eq!(KeyPrefix::new(bad), Err(KeyError::InvalidPrefix), "{bad}");
        }
    }

    #[test]
    fn a_token_names_its_prefix() {
        assert_eq!(
            KeyPrefix::of_token("prim_oat_abc").map(|p| p.0),
            Ok("prim".into())
        );
        assert_eq!(
            KeyPrefix::of_token("eyJhbGciOi"),
            Err(KeyError::WrongPrefix)
        );
        assert_eq!(KeyPrefix::of_token("Prim_x"), Err(KeyError::WrongPrefix));
    }

    #[test]
    fn the_seed_example_key_parses_and_shows_twelve_chars() {
        let key = LookupKey::parse(
            &prefix(),
            "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0",
        )
        .expect("seed key");
        assert_eq!(key.key_prefix(), "ptmc_zI7yqBg");
    }

    #[test]
    fn generated_keys_have_the_documented_shapes() {
        let mut rng = SeededRng::new(1);
        let lookup = LookupKey::generate(&prefix(), &mut rng);
        assert_eq!(lookup.expose().len(), "ptmc_".len() + LOOKUP_BODY_LEN);
        let id_secret = IdSecretKey::generate(&prefix(), &mut rng);
        assert_eq!(id_secret.expose().len(), "ptmc_".len() + 97);
        assert_eq!(
            IdSecretKey::parse(&prefix(), id_secret.expose()),
            Ok(id_secret)
        );
    }

    #[test]
    fn reserved_bodies_are_redrawn_and_refused() {
        // The first draw of this RNG encodes to a body starting with "oat_".
        let reserved =
            crate::encoding::b64url_decode("oat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .expect("decodes");
        let mut rng = crate::testing::ScriptedRng::new(&[&reserved, &[7u8; 32]]);
        let key = LookupKey::generate(&prefix(), &mut rng);
        assert!(!key.expose()["ptmc_".len()..].starts_with("oat_"));
        assert_eq!(
            LookupKey::parse(
                &prefix(),
                "ptmc_oat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            ),
            Err(KeyError::ReservedSubPrefix)
        );
    }

    #[test]
    fn id_secret_exposes_id_and_secret() {
        let token = format!("atom_{}_{}", "0f".repeat(16), "a1".repeat(32));
        let prefix = KeyPrefix::new("atom").expect("valid");
        let key = IdSecretKey::parse(&prefix, &token).expect("parses");
        assert_eq!(key.credential_id().to_hex(), "0f".repeat(16));
        assert_eq!(key.secret(), "a1".repeat(32));
        let upper = format!("atom_{}_{}", "0F".repeat(16), "a1".repeat(32));
        assert_eq!(
            IdSecretKey::parse(&prefix, &upper),
            Err(KeyError::Malformed)
        );
    }

    #[test]
    fn key_prefix_is_char_safe() {
        assert_eq!(key_prefix("ééééééééééééé"), "éééééééééééé");
        assert_eq!(key_prefix("short"), "short");
    }
}

/// Why a stored key may not be used now. Reasons go to the audit log only; every one of
/// them answers the same 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// `revoked_at` is set: permanent.
    Revoked,
    /// `expires_at` has passed.
    Expired,
    /// The owning entity is `inactive`.
    EntityInactive,
    /// The owning entity is `suspended`.
    EntitySuspended,
    /// The owning entity is soft-deleted (or in a status this version does not know,
    /// which is treated the same way: refuse).
    EntityDeleted,
    /// The person's account is disabled everywhere (status `disabled`, reported for a
    /// membership of a disabled account).
    AccountDisabled,
}

impl KeyRefusal {
    /// The audit-log reason.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::EntityInactive => "entity_inactive",
            Self::EntitySuspended => "entity_suspended",
            Self::EntityDeleted => "entity_deleted",
            Self::AccountDisabled => "account_disabled",
        }
    }

    /// Decides whether a stored key may be used at `now`: revocation first, then
    /// expiry (a key is expired from its `expires_at` second on), then the entity's
    /// status. Only `active` entities pass.
    pub fn check(
        revoked: bool,
        expires_at: Option<crate::time::UnixTime>,
        entity_status: &str,
        now: crate::time::UnixTime,
    ) -> Result<(), Self> {
        if revoked {
            return Err(Self::Revoked);
        }
        if expires_at.is_some_and(|at| now >= at) {
            return Err(Self::Expired);
        }
        match entity_status {
            "active" => Ok(()),
            "inactive" => Err(Self::EntityInactive),
            "suspended" => Err(Self::EntitySuspended),
            "disabled" => Err(Self::AccountDisabled),
            _ => Err(Self::EntityDeleted),
        }
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::KeyRefusal;
    use crate::time::UnixTime;

    #[test]
    fn revocation_then_expiry_then_entity_status() {
        let now = UnixTime(1_000);
        assert_eq!(KeyRefusal::check(false, None, "active", now), Ok(()));
        assert_eq!(
            KeyRefusal::check(false, Some(UnixTime(1_001)), "active", now),
            Ok(())
        );
        assert_eq!(
            KeyRefusal::check(false, Some(UnixTime(1_000)), "active", now),
            Err(KeyRefusal::Expired)
        );
        assert_eq!(
            KeyRefusal::check(true, Some(UnixTime(1)), "deleted", now),
            Err(KeyRefusal::Revoked)
        );
        assert_eq!(
            KeyRefusal::check(false, None, "suspended", now),
            Err(KeyRefusal::EntitySuspended)
        );
        assert_eq!(
            KeyRefusal::check(false, None, "inactive", now),
            Err(KeyRefusal::EntityInactive)
        );
        assert_eq!(
            KeyRefusal::check(false, None, "unheard-of", now),
            Err(KeyRefusal::EntityDeleted)
        );
        assert_eq!(
            KeyRefusal::check(false, None, "disabled", now),
            Err(KeyRefusal::AccountDisabled)
        );
    }
}
