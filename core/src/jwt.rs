//! Session JWTs: EdDSA (Ed25519) compact JWS, signed and verified with one allow-listed
//! algorithm.
//!
//! Why the verifier is this narrow: every classic JWT forgery comes from a verifier
//! that lets the token choose how it is checked. So the token chooses nothing here:
//!
//! - the algorithm is fixed (`EdDSA`, exactly); `none`, every HMAC (the "HMAC keyed with
//!   the public key" confusion), `ES256` and case variants are refused before any
//!   cryptography runs;
//! - the header may hold only `alg`, `typ` and `kid`. Headers that point at keys
//!   (`jku`, `x5u`, `jwk`, `x5c`, `x5t`, `x5t#S256`) or change processing (`crit`,
//!   `b64`, `cty`, `zip`, …) are refused, not ignored: the key always comes from the
//!   caller, looked up by `kid` in Keyward's own key set;
//! - every part must be canonical base64url (RFC 4648 §5, no padding, zero trailing
//!   bits), the header and the claims must be JSON objects without duplicate members,
//!   and the signature is checked with `verify_strict` (no small-order keys or `R`, no
//!   non-canonical `s`), so a token has one spelling and one meaning;
//! - `exp` is mandatory, `iss` and `aud` must equal what the caller expects, and the
//!   caller passes `now` ([`Expect::now`]); the core reads no clock.
//!
//! Verification is in two steps because the key depends on the token: [`header_kid`]
//! parses only the header and returns the `kid`; the caller fetches that key (an unknown
//! `kid` is the caller's refusal) and calls [`verify`], which repeats every header check,
//! then checks the signature, then the claims. A logged-out session's token still
//! verifies here until it expires: refusing it is the caller's session lookup (`sid`).
//!
//! Signing keys are derived, not stored: [`SigningKey::derive`] turns the deployment's
//! master secret and a `kid` into an Ed25519 seed, so rotating is choosing a new `kid`
//! and the worker needs no key storage. Ed25519 signing is deterministic (RFC 8032), so
//! neither signing nor verifying needs randomness.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::Signer as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::digest::{hmac_sha256, sha256};
use crate::encoding::{b64url_decode, b64url_decode_exact, b64url_encode};
use crate::time::UnixTime;

/// The one algorithm accepted, as written in the JOSE header (RFC 8037 §3.1).
pub const ALG: &str = "EdDSA";
/// The `typ` header Keyward writes; a token may omit it, but may not say anything else.
pub const TYP: &str = "JWT";
/// The `aud` of Keyward's session JWTs: short, so that a token with a 64-character issuer
/// still fits the 512-character bearer limit (`bearer::MAX_TOKEN_LEN`).
pub const SESSION_AUDIENCE: &str = "keyward";
/// The longest token looked at. A session token is about 400 bytes; the bound keeps
/// hostile input from costing base64 and JSON work.
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest `kid` accepted.
pub const MAX_KID_LEN: usize = 64;
/// The domain-separation label of [`SigningKey::derive`]; `v1` changes only with the
/// derivation itself.
const DERIVE_LABEL: &[u8] = b"keyward/jwt/ed25519/v1/";
/// The only header members a token may carry.
const ALLOWED_HEADERS: [&str; 3] = ["alg", "typ", "kid"];

/// Why a token was refused. The codes are the audit log's reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three dot-separated canonical base64url parts, a header or claims that are not
    /// a JSON object (or repeat a member), or a claim missing or of the wrong type.
    Malformed,
    /// The token is longer than [`MAX_TOKEN_LEN`].
    TooLong,
    /// `alg` is missing or anything but exactly `EdDSA`.
    AlgorithmNotAllowed,
    /// A header other than `alg`, `typ` and `kid` (e.g. `jku`, `x5u`, `jwk`, `crit`).
    ForbiddenHeader,
    /// `kid` is missing, not a string, empty, longer than [`MAX_KID_LEN`] or not
    /// printable ASCII: no key can be chosen.
    MissingKid,
    /// `typ` is present and not `JWT` (e.g. `at+jwt`: another kind of token).
    TypeNotAllowed,
    /// The signature is not a valid Ed25519 signature of this token by this key.
    BadSignature,
    /// The claims carry no `exp`: every session token must expire.
    MissingExp,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `iat` (or `nbf`) is in the future (beyond the leeway).
    NotYetValid,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` is not the expected audience.
    WrongAudience,
    /// A public key that is not the canonical encoding of an Ed25519 point of more than
    /// small order (or, as a JWK `x`, not canonical base64url of 32 bytes).
    InvalidKey,
}

impl crate::error::ErrorCode for JwtError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "jwt_malformed",
            Self::TooLong => "jwt_too_long",
            Self::AlgorithmNotAllowed => "jwt_alg_not_allowed",
            Self::ForbiddenHeader => "jwt_forbidden_header",
            Self::MissingKid => "jwt_missing_kid",
            Self::TypeNotAllowed => "jwt_typ_not_allowed",
            Self::BadSignature => "jwt_bad_signature",
            Self::MissingExp => "jwt_missing_exp",
            Self::Expired => "jwt_expired",
            Self::NotYetValid => "jwt_not_yet_valid",
            Self::WrongIssuer => "jwt_wrong_issuer",
            Self::WrongAudience => "jwt_wrong_audience",
            Self::InvalidKey => "jwt_invalid_key",
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "token is not a well-formed compact JWS with JSON object parts",
            Self::TooLong => "token is too long",
            Self::AlgorithmNotAllowed => "token algorithm is not EdDSA",
            Self::ForbiddenHeader => "token header carries a member other than alg, typ and kid",
            Self::MissingKid => "token header has no usable kid",
            Self::TypeNotAllowed => "token typ is not JWT",
            Self::BadSignature => "token signature does not verify",
            Self::MissingExp => "token has no exp claim",
            Self::Expired => "token has expired",
            Self::NotYetValid => "token is not valid yet",
            Self::WrongIssuer => "token issuer is not the expected one",
            Self::WrongAudience => "token audience is not the expected one",
            Self::InvalidKey => "public key is not a valid Ed25519 key",
        })
    }
}

impl core::error::Error for JwtError {}

/// An Ed25519 private key. `Debug` prints `[redacted]`; the key is zeroized on drop
/// (by `ed25519-dalek`'s `zeroize` feature). Not `Clone`, like the secret newtypes.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// The key whose RFC 8032 private key (the JWK `d`) is `seed`.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The deterministic key for `kid` under the deployment's master secret:
    /// seed = HMAC-SHA256(master, `"keyward/jwt/ed25519/v1/" || kid`).
    ///
    /// Different `kid`s give unrelated keys, so a rotation is a new `kid`, and every
    /// worker instance derives the same key without storing it. `kid` should satisfy
    /// [`header_kid`]'s rule (1–64 printable ASCII characters), or the tokens signed
    /// under it will not verify.
    #[must_use]
    pub fn derive(master: &[u8], kid: &str) -> Self {
        let seed = Zeroizing::new(hmac_sha256(master, &[DERIVE_LABEL, kid.as_bytes()]));
        Self::from_seed(&seed)
    }

    /// The public half, for the JWKS and for verification.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

/// An Ed25519 public key: always the canonical encoding of a curve point not of small
/// order, since every constructor checks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// Parses 32 public-key bytes. Refused: bytes that are not a point, a non-canonical
    /// encoding of one (so each key has one spelling in the JWKS), and small-order
    /// ("weak") points, for which a signature can verify on many messages.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, JwtError> {
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| JwtError::InvalidKey)?;
        let canonical = key.to_edwards().compress().to_bytes() == *bytes;
        if canonical && !key.is_weak() {
            Ok(Self(key))
        } else {
            Err(JwtError::InvalidKey)
        }
    }

    /// The 32 public-key bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// base64url (no padding) of the public key: the JWK `x` member.
    #[must_use]
    pub fn x(&self) -> String {
        b64url_encode(self.0.as_bytes())
    }

    /// Parses a JWK `x` value: canonical base64url of 32 bytes, then as [`Self::from_bytes`].
    pub fn from_x(x: &str) -> Result<Self, JwtError> {
        let bytes = b64url_decode_exact::<32>(x).ok_or(JwtError::InvalidKey)?;
        Self::from_bytes(&bytes)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifyingKey").field(&self.x()).finish()
    }
}

/// One public JWK as published in the JWKS (RFC 8037 §2, RFC 7517 §4).
#[derive(Serialize)]
struct Jwk<'a> {
    kty: &'static str,
    crv: &'static str,
    x: String,
    kid: &'a str,
    alg: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
}

impl<'a> Jwk<'a> {
    fn new(kid: &'a str, key: &VerifyingKey) -> Self {
        Self {
            kty: "OKP",
            crv: "Ed25519",
            x: key.x(),
            kid,
            alg: ALG,
            use_: "sig",
        }
    }
}

/// The public JWK as a JSON object:
/// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}`.
#[must_use]
pub fn jwk_json(kid: &str, key: &VerifyingKey) -> String {
    to_json_string(&Jwk::new(kid, key))
}

/// The JWK Set (`/.well-known/jwks.json`) of the given `(kid, key)` pairs, in order:
/// `{"keys":[…]}`. Publish the current key and the previous one during a rotation, so
/// tokens signed just before it keep verifying until they expire.
#[must_use]
pub fn jwks_json(keys: &[(&str, VerifyingKey)]) -> String {
    #[derive(Serialize)]
    struct Jwks<'a> {
        keys: Vec<Jwk<'a>>,
    }
    let keys = keys.iter().map(|(kid, key)| Jwk::new(kid, key)).collect();
    to_json_string(&Jwks { keys })
}

/// The RFC 7638 thumbprint of the public key (RFC 8037 §2, Appendix A.3): base64url of
/// SHA-256 over `{"crv":"Ed25519","kty":"OKP","x":…}`. A name for a key that anyone
/// holding the JWK can recompute; usable as a `kid`.
#[must_use]
pub fn jwk_thumbprint(key: &VerifyingKey) -> String {
    // The members in lexicographic order, no whitespace; `x` is base64url, which needs
    // no JSON escaping.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, key.x());
    b64url_encode(&sha256(canonical.as_bytes()))
}

/// The claims of a Keyward session token. All are required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer: the deployment's `ISSUER` setting.
    pub iss: String,
    /// The audience (a single string; see [`verify`]).
    pub aud: String,
    /// The subject: the user id.
    pub sub: String,
    /// The session id: the caller refuses the token once this session is logged out.
    pub sid: String,
    /// The org the session acts in.
    pub org: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// What [`verify`] checks the claims against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect<'a> {
    /// The required `iss`, exactly.
    pub issuer: &'a str,
    /// The required `aud`, exactly.
    pub audience: &'a str,
    /// The caller's clock.
    pub now: UnixTime,
    /// Tolerated clock skew in seconds, applied to `exp`, `iat` and `nbf`.
    pub leeway_secs: u64,
}

/// The header Keyward writes, members in this order.
#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs `claims` as a compact JWS with header `{"alg":"EdDSA","typ":"JWT","kid":kid}`.
///
/// `kid` should satisfy [`header_kid`]'s rule (1–64 printable ASCII characters), or the
/// token will not verify.
#[must_use]
pub fn sign(key: &SigningKey, kid: &str, claims: &Claims) -> String {
    let header = to_json_string(&Header {
        alg: ALG,
        typ: TYP,
        kid,
    });
    sign_compact(
        key,
        &b64url_encode(header.as_bytes()),
        to_json_string(claims).as_bytes(),
    )
}

/// The low-level signer: `header_b64 "." base64url(payload) "." base64url(signature)`,
/// the signature being Ed25519 over the first two parts as ASCII (RFC 7515 §5.1).
///
/// It checks nothing about the header: it exists for known-answer tests (RFC 8037 A.4)
/// and for building refusal cases. Products call [`sign`].
#[must_use]
pub fn sign_compact(key: &SigningKey, header_b64: &str, payload: &[u8]) -> String {
    let signing_input = format!("{header_b64}.{}", b64url_encode(payload));
    let signature = key.0.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url_encode(&signature.to_bytes()))
}

/// Strictly parses only the header and returns its `kid`, so the caller can fetch the
/// key to pass to [`verify`]. The signature is not checked: trust nothing else here.
///
/// Refused, in this order: tokens over [`MAX_TOKEN_LEN`] bytes; anything but three
/// dot-separated canonical base64url parts; a header that is not a JSON object or
/// repeats a member; `alg` other than exactly `EdDSA`; any header besides `alg`, `typ`
/// and `kid`; a missing, non-string, empty, over-64-character or non-printable-ASCII
/// `kid`; a `typ` other than `JWT`.
pub fn header_kid(token: &str) -> Result<String, JwtError> {
    let compact = Compact::split(token)?;
    check_header(&compact.header)
}

/// Verifies a session token: everything [`header_kid`] checks, then the Ed25519
/// signature (`verify_strict`) over `header.payload`, then the claims.
///
/// The claims must be a JSON object without repeated members in which `iss`, `aud`,
/// `sub`, `sid` and `org` are strings (`sub`, `sid`, `org` non-empty) and `iat` and
/// `exp` non-negative integers; a missing `exp` is [`JwtError::MissingExp`], any other
/// missing or mistyped claim [`JwtError::Malformed`]. Then: `exp + leeway > now`
/// (a token is expired at its `exp` second), `iat <= now + leeway`, `nbf <= now +
/// leeway` if `nbf` is present, `iss == expect.issuer`, `aud == expect.audience`.
/// Other claims are ignored.
///
/// `aud` must be a single string: Keyward only issues that form, and accepting the
/// array form (RFC 7519 §4.1.3) would only widen what a token may say. An array is
/// [`JwtError::Malformed`].
pub fn verify(token: &str, key: &VerifyingKey, expect: &Expect<'_>) -> Result<Claims, JwtError> {
    let compact = Compact::split(token)?;
    check_header(&compact.header)?;
    compact.check_signature(key)?;
    check_claims(&compact.payload, expect)
}

/// Checks only the structure and the signature of a compact JWS, whatever its header
/// says. For known-answer tests (RFC 8037 A.5); products call [`verify`].
pub fn verify_compact_signature(token: &str, key: &VerifyingKey) -> Result<(), JwtError> {
    Compact::split(token)?.check_signature(key)
}

/// A compact JWS cut into its parts, each decoded from canonical base64url.
struct Compact<'t> {
    /// `header_b64 "." payload_b64`: the bytes the signature covers.
    signing_input: &'t str,
    header: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'t> Compact<'t> {
    fn split(token: &'t str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| b64url_decode(part).ok_or(JwtError::Malformed);
        Ok(Self {
            signing_input: &token[..header.len() + 1 + payload.len()],
            header: decode(header)?,
            payload: decode(payload)?,
            signature: decode(signature)?,
        })
    }

    fn check_signature(&self, key: &VerifyingKey) -> Result<(), JwtError> {
        let bytes: &[u8; 64] = self
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| JwtError::BadSignature)?;
        let signature = ed25519_dalek::Signature::from_bytes(bytes);
        key.0
            .verify_strict(self.signing_input.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)
    }
}

/// Applies the header rules of [`header_kid`] and returns the `kid`.
fn check_header(header: &[u8]) -> Result<String, JwtError> {
    let mut members = parse_object(header)?;
    if members.get("alg").and_then(Value::as_str) != Some(ALG) {
        return Err(JwtError::AlgorithmNotAllowed);
    }
    if members
        .keys()
        .any(|name| !ALLOWED_HEADERS.contains(&name.as_str()))
    {
        return Err(JwtError::ForbiddenHeader);
    }
    let kid = match members.remove("kid") {
        Some(Value::String(kid)) if is_valid_kid(&kid) => kid,
        _ => return Err(JwtError::MissingKid),
    };
    match members.get("typ") {
        None => Ok(kid),
        Some(typ) if typ.as_str() == Some(TYP) => Ok(kid),
        Some(_) => Err(JwtError::TypeNotAllowed),
    }
}

/// 1–[`MAX_KID_LEN`] printable ASCII characters: safe to log and to use as a lookup key.
fn is_valid_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID_LEN && kid.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Applies the claim rules of [`verify`].
fn check_claims(payload: &[u8], expect: &Expect<'_>) -> Result<Claims, JwtError> {
    let mut members = parse_object(payload)?;
    let exp = integer_claim(&members, "exp")?.ok_or(JwtError::MissingExp)?;
    let iat = integer_claim(&members, "iat")?.ok_or(JwtError::Malformed)?;
    let nbf = integer_claim(&members, "nbf")?;
    let mut text = |name: &str| match members.remove(name) {
        Some(Value::String(value)) => Ok(value),
        _ => Err(JwtError::Malformed),
    };
    let claims = Claims {
        iss: text("iss")?,
        aud: text("aud")?,
        sub: text("sub")?,
        sid: text("sid")?,
        org: text("org")?,
        iat,
        exp,
    };
    if claims.sub.is_empty() || claims.sid.is_empty() || claims.org.is_empty() {
        return Err(JwtError::Malformed);
    }
    let now = expect.now.secs();
    if exp.saturating_add(expect.leeway_secs) <= now {
        return Err(JwtError::Expired);
    }
    let latest_start = now.saturating_add(expect.leeway_secs);
    if iat > latest_start || nbf.is_some_and(|nbf| nbf > latest_start) {
        return Err(JwtError::NotYetValid);
    }
    if claims.iss != expect.issuer {
        return Err(JwtError::WrongIssuer);
    }
    if claims.aud != expect.audience {
        return Err(JwtError::WrongAudience);
    }
    Ok(claims)
}

/// `Ok(None)` when absent; a present value must be a non-negative JSON integer.
fn integer_claim(members: &BTreeMap<String, Value>, name: &str) -> Result<Option<u64>, JwtError> {
    members
        .get(name)
        .map(|value| value.as_u64().ok_or(JwtError::Malformed))
        .transpose()
}

/// Parses a JSON object, refusing repeated member names (RFC 7515 §4 lets a parser
/// refuse them; taking the last one, as `serde_json` would, lets two parsers read one
/// header differently).
fn parse_object(json: &[u8]) -> Result<BTreeMap<String, Value>, JwtError> {
    serde_json::from_slice::<StrictObject>(json)
        .map(|object| object.0)
        .map_err(|_| JwtError::Malformed)
}

/// A JSON object whose top-level member names are unique.
struct StrictObject(BTreeMap<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object without repeated members")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut members = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
                    if members.insert(name, value).is_some() {
                        return Err(de::Error::custom("repeated member"));
                    }
                }
                Ok(StrictObject(members))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// JSON text of a value made of strings, integers and structs of them.
fn to_json_string<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("strings, integers and structs always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode as _;

    #[test]
    fn duplicate_members_are_refused() {
        assert!(parse_object(br#"{"a":1,"b":2}"#).is_ok());
        assert_eq!(
            parse_object(br#"{"a":1,"a":1}"#).map(|_| ()),
            Err(JwtError::Malformed)
        );
        assert_eq!(parse_object(b"[]").map(|_| ()), Err(JwtError::Malformed));
        assert_eq!(parse_object(b"{} x").map(|_| ()), Err(JwtError::Malformed));
    }

    #[test]
    fn kid_rule() {
        assert!(is_valid_kid("k1"));
        assert!(is_valid_kid(&"a".repeat(MAX_KID_LEN)));
        assert!(!is_valid_kid(""));
        assert!(!is_valid_kid(&"a".repeat(MAX_KID_LEN + 1)));
        assert!(!is_valid_kid("a b"));
        assert!(!is_valid_kid("clé"));
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            JwtError::Malformed,
            JwtError::TooLong,
            JwtError::AlgorithmNotAllowed,
            JwtError::ForbiddenHeader,
            JwtError::MissingKid,
            JwtError::TypeNotAllowed,
            JwtError::BadSignature,
            JwtError::MissingExp,
            JwtError::Expired,
            JwtError::NotYetValid,
            JwtError::WrongIssuer,
            JwtError::WrongAudience,
            JwtError::InvalidKey,
        ];
        let codes: alloc::collections::BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(codes.iter().all(|c| c.starts_with("jwt_")));
    }
}
