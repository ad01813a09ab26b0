//! The browser session of the OAuth pages: a signed cookie, no storage. It carries the
//! signed-in account (or none yet), a random nonce, and an expiry; the CSRF token of
//! every form is derived from the nonce, so a form is good only in the browser whose
//! session rendered it. `HttpOnly`, `SameSite=Lax`, and on https `Secure` with the
//! `__Host-` prefix. What a signed-in cookie allows is re-read live where it matters
//! (the account's status and memberships, at consent).

use keyward_core::digest::hmac_sha256;
use keyward_core::encoding::{b64url_decode, b64url_encode, hex_encode};
use keyward_core::secret::ct_eq;
use serde::{Deserialize, Serialize};
use worker::Request;

use crate::context::Cx;
use crate::ids::now_secs;

/// How long a browser session lasts.
const LIFETIME_SECS: u64 = 3600;

/// A verified (or fresh) browser session. No `Debug`: the nonce derives its CSRF token.
#[derive(Clone, Serialize, Deserialize)]
pub struct BrowserSession {
    /// The signed-in account.
    #[serde(rename = "a")]
    pub account_id: Option<String>,
    #[serde(rename = "n")]
    nonce: String,
    #[serde(rename = "e")]
    expires_at: u64,
}

impl BrowserSession {
    /// A new session, signed in as `account_id` or not yet.
    pub fn fresh(account_id: Option<String>) -> Self {
        Self {
            account_id,
            // 16 random bytes in hex, as any session id.
            nonce: crate::ids::session_id(),
            expires_at: now_secs() + LIFETIME_SECS,
        }
    }

    /// The session the request's cookie carries, if its signature and expiry hold.
    pub fn from_request(req: &Request, cx: &Cx<'_>) -> Option<Self> {
        let cookies = req.headers().get("Cookie").ok().flatten()?;
        let name = cookie_name(req);
        let value = cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(n, _)| *n == name)?
            .1;
        let (payload, signature) = value.split_once('.')?;
        let expected = b64url_encode(&sign(cx, payload));
        if !ct_eq(expected.as_bytes(), signature.as_bytes()) {
            return None;
        }
        let session: Self = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
        (session.expires_at > now_secs()).then_some(session)
    }

    /// The `Set-Cookie` value that stores this session.
    pub fn set_cookie(&self, req: &Request, cx: &Cx<'_>) -> String {
        let payload = b64url_encode(&serde_json::to_vec(self).unwrap_or_default());
        let signature = b64url_encode(&sign(cx, &payload));
        let secure = if is_https(req) { "; Secure" } else { "" };
        format!(
            "{}={payload}.{signature}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LIFETIME_SECS}{secure}",
            cookie_name(req)
        )
    }

    /// The CSRF token of this session's forms.
    pub fn csrf(&self, cx: &Cx<'_>) -> String {
        hex_encode(&hmac_sha256(
            cx.config.hash_secret.expose(),
            &[b"csrf:", self.nonce.as_bytes()],
        ))
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, cx: &Cx<'_>, presented: &str) -> bool {
        ct_eq(self.csrf(cx).as_bytes(), presented.as_bytes())
    }
}

fn sign(cx: &Cx<'_>, payload: &str) -> [u8; 32] {
    hmac_sha256(
        cx.config.hash_secret.expose(),
        &[b"browser-session:", payload.as_bytes()],
    )
}

fn is_https(req: &Request) -> bool {
    req.url().is_ok_and(|u| u.scheme() == "https")
}

/// `__Host-` names require `Secure`, which browsers refuse over plain http (local runs).
fn cookie_name(req: &Request) -> &'static str {
    if is_https(req) {
        "__Host-kw_browser"
    } else {
        "kw_browser"
    }
}

/// A page's sign-in form checked like `/auth/login` (`login::check_password`, the same
/// limit and audit): the signed-in session, or the message the form shows again.
pub async fn sign_in(
    cx: &Cx<'_>,
    email: Option<&str>,
    password: Option<&str>,
) -> Result<Result<BrowserSession, &'static str>, crate::http::ApiError> {
    let (Some(email), Some(password)) = (email, password) else {
        return Ok(Err("Enter your email and password."));
    };
    let Ok(identifier) = keyward_core::email::normalize_email(email) else {
        return Ok(Err("Invalid email or password."));
    };
    let rows = match crate::routes::login::check_password(cx, &identifier, password).await {
        Ok(rows) => rows,
        Err(error) if error.status == 429 => {
            return Ok(Err("Too many attempts. Wait a minute and try again."));
        }
        Err(error) if error.status == 401 => return Ok(Err("Invalid email or password.")),
        Err(error) => return Err(error),
    };
    if crate::routes::login::unverified(cx, &rows[0]).is_err() {
        return Ok(Err(
            "Verify your email address first: follow the link we sent you.",
        ));
    }
    Ok(Ok(BrowserSession::fresh(Some(rows[0].account_id.clone()))))
}
