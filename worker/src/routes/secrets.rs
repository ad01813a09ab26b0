//! What several routes mint or check the same way: a person's new password (SPEC §5's
//! rules, then argon2id at the password profile) and mailed tokens (minted with their
//! keyed hash, or presented back and turned into it).

use keyward_core::api_key::CredentialId;
use keyward_core::email_token::{EmailToken, TokenPurpose};
use keyward_core::encoding::hex_encode;
use keyward_core::password::{self, Argon2Profile};
use keyward_core::password_policy;
use keyward_core::secret::SecretString;
use worker::{D1Database, D1PreparedStatement};

use crate::http::ApiError;
use crate::ids::rng;
use crate::routes::Cx;
use crate::store::tokens::{self, TokenTable};

/// A password checked against SPEC §5's rules (400 with the core's reason otherwise),
/// NFKC-normalised, not hashed yet: check it before any slow work.
pub fn acceptable(text: &str) -> Result<SecretString, ApiError> {
    password_policy::prepare(text).map_err(ApiError::refused_input)
}

/// A new password row's id and argon2id PHC string.
pub struct NewPassword {
    pub id: String,
    pub phc: String,
}

/// Hashes an [`acceptable`] password for storage under a fresh credential id.
pub fn hash_password(prepared: &SecretString) -> Result<NewPassword, ApiError> {
    let mut rng = rng();
    let phc = password::hash(
        prepared.expose().as_bytes(),
        Argon2Profile::PASSWORD,
        &mut rng,
    )
    .map_err(|_| ApiError::internal())?;
    Ok(NewPassword {
        id: CredentialId::generate(&mut rng).to_hex(),
        phc,
    })
}

/// A fresh token of `purpose`, and the hex keyed hash that is stored in its place.
pub fn mint(cx: &Cx<'_>, purpose: TokenPurpose) -> (EmailToken, String) {
    let token = EmailToken::generate(purpose, &cx.config.prefix, &mut rng());
    let hash = hex_encode(&token.keyed_hash(cx.config.hash_secret.expose()));
    (token, hash)
}

/// The stored form of a presented token of `purpose`, or `None` when `text` is not one.
pub fn presented(cx: &Cx<'_>, purpose: TokenPurpose, text: &str) -> Option<String> {
    let token = EmailToken::parse(purpose, &cx.config.prefix, text).ok()?;
    Some(hex_encode(
        &token.keyed_hash(cx.config.hash_secret.expose()),
    ))
}

/// A fresh token for the account's `email` kept in `table` (a verification or a reset),
/// and the statements that store its keyed hash and retire every earlier one.
pub fn account_token(
    cx: &Cx<'_>,
    db: &D1Database,
    table: TokenTable,
    account_id: &str,
    email: &str,
    now: u64,
) -> worker::Result<(EmailToken, Vec<D1PreparedStatement>)> {
    let purpose = match table {
        TokenTable::Verification => TokenPurpose::Verification,
        TokenTable::PasswordReset => TokenPurpose::PasswordReset,
    };
    let (token, hash) = mint(cx, purpose);
    let statements = tokens::replace(
        db,
        table,
        &hash,
        account_id,
        email,
        now,
        now + purpose.lifetime_secs(),
    )?;
    Ok((token, statements))
}
