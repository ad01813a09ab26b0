//! Identifiers and the platform CSPRNG.

use keyward_core::encoding::hex_encode;
use rand_core::UnwrapErr;

/// The platform CSPRNG (`crypto.getRandomValues`) as the core's `CryptoRng`.
pub fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

/// `n` random bytes as lowercase hex.
fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand_core::Rng::fill_bytes(&mut rng(), &mut bytes);
    hex_encode(&bytes)
}

/// `req_` + 16 random bytes in hex: every response's `X-Request-Id`.
pub fn request_id() -> String {
    format!("req_{}", random_hex::<16>())
}

/// `org_` + 16 random bytes in hex.
pub fn org_id() -> String {
    format!("org_{}", random_hex::<16>())
}

/// `ent_` + 16 random bytes in hex.
pub fn entity_id() -> String {
    format!("ent_{}", random_hex::<16>())
}

/// `acc_` + 16 random bytes in hex: a person's account.
pub fn account_id() -> String {
    format!("acc_{}", random_hex::<16>())
}

/// `whk_` + 16 random bytes in hex: a webhook endpoint.
pub fn webhook_endpoint_id() -> String {
    format!("whk_{}", random_hex::<16>())
}

/// `msg_` + 16 random bytes in hex: a webhook event, the `webhook-id` of its deliveries.
pub fn webhook_message_id() -> String {
    format!("msg_{}", random_hex::<16>())
}

/// `nsp_` + 16 random bytes in hex: a namespace, and the KV prefix of its values.
pub fn namespace_id() -> String {
    format!("nsp_{}", random_hex::<16>())
}

/// `cli_` + 16 random bytes in hex: an OAuth client's `client_id`.
pub fn client_id() -> String {
    format!("cli_{}", random_hex::<16>())
}

/// `inv_` + 16 random bytes in hex: an invitation.
pub fn invitation_id() -> String {
    format!("inv_{}", random_hex::<16>())
}

/// Whether `id` has the shape of an id minted with `prefix` (`org_`, `ent_`, `inv_`…):
/// the prefix and 32 lowercase hex digits. Anything else names nothing.
pub fn has_id_shape(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An org id's shape.
pub fn is_org_id(id: &str) -> bool {
    has_id_shape(id, "org_")
}

/// Unix seconds from the Worker's clock (frozen during a request, advanced by I/O).
pub fn now_secs() -> u64 {
    worker::Date::now().as_millis() / 1000
}

/// 16 random bytes in hex: a session id (the JWT's `sid`).
pub fn session_id() -> String {
    random_hex::<16>()
}

/// 8 random bytes in hex: a signing key's `kid`.
pub fn kid() -> String {
    random_hex::<8>()
}
