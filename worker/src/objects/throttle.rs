//! `Throttle`: one Durable Object per (purpose, subject), counting attempts in the
//! core's exact rolling-minute window. It limits what is not an API key: login attempts
//! per identifier, signups, verification emails, reset links and invitations per
//! address (SPEC §6).
//!
//! Subjects arrive as keyed hashes (`HASH_SECRET`), so no email address names an object
//! or sits in its storage. The window is persisted after every counted attempt, so a
//! restart does not reopen it; these are low-rate paths, one write each is cheap.

// The `durable_object` macro generates undocumented glue.
#![allow(missing_docs)]

use std::cell::RefCell;

use keyward_core::digest::keyed_token_hash;
use keyward_core::encoding::hex_encode;
use keyward_core::ratelimit::RateWindow;
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use crate::context::Cx;
use crate::http::ApiError;

/// What is being limited, and how many attempts per rolling minute.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// `POST /auth/login` per identifier: every attempt counts.
    Login,
    /// `POST /auth/signup` per address.
    Signup,
    /// Verification emails (signup and resend) per address.
    VerificationEmail,
    /// Password reset links per address.
    PasswordReset,
    /// Invitations and join notices per address (`POST /v1/members`).
    Invitation,
    /// OAuth client registrations per client address (`POST /oauth/register`).
    ClientRegistration,
    /// Token requests per client (`POST /oauth/token`).
    TokenRequest,
}

impl Purpose {
    const fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Signup => "signup",
            Self::VerificationEmail => "verification-email",
            Self::PasswordReset => "password-reset",
            Self::Invitation => "invitation",
            Self::ClientRegistration => "client-registration",
            Self::TokenRequest => "token-request",
        }
    }

    /// Attempts per rolling 60 seconds.
    pub const fn per_minute(self) -> u32 {
        match self {
            Self::Login => 10,
            Self::Signup => 3,
            Self::VerificationEmail => 3,
            Self::PasswordReset => 3,
            Self::Invitation => 3,
            Self::ClientRegistration => 10,
            Self::TokenRequest => 120,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Attempt {
    limit: u32,
    now_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Verdict {
    allowed: bool,
    retry_after: u64,
}

/// Counts one attempt of `purpose` by `subject`; a refusal is 429 with `Retry-After`.
/// If the object cannot be reached the attempt is refused (fail closed, 503).
pub async fn attempt(cx: &Cx<'_>, purpose: Purpose, subject: &str) -> Result<(), ApiError> {
    let digest = keyed_token_hash(cx.config.hash_secret.expose(), subject);
    let name = format!("{}:{}", purpose.name(), hex_encode(&digest));
    let verdict = super::call::<Verdict>(
        cx.env,
        "THROTTLE",
        &name,
        "https://throttle/attempt",
        &Attempt {
            limit: purpose.per_minute(),
            now_ms: worker::Date::now().as_millis(),
        },
    )
    .await
    .map_err(|error| {
        worker::console_error!("throttle unreachable: {error}");
        ApiError::unavailable()
    })?;
    if verdict.allowed {
        Ok(())
    } else {
        Err(ApiError::rate_limited(
            verdict.retry_after,
            "too many attempts; retry later",
        ))
    }
}

#[durable_object]
pub struct Throttle {
    state: State,
    window: RefCell<Option<RateWindow>>,
}

impl DurableObject for Throttle {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            window: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        if req.path() != "/attempt" {
            return Response::error("not found", 404);
        }
        let ask: Attempt = req.json().await?;
        if self.window.borrow().is_none() {
            let stored = super::stored_window(&self.state).await?;
            self.window.borrow_mut().get_or_insert(stored);
        }
        let (decision, entries) = {
            let mut guard = self.window.borrow_mut();
            let window = guard.get_or_insert_with(RateWindow::default);
            let decision = window.check(ask.now_ms / 1000, ask.limit);
            (decision, window.entries())
        };
        if decision.allowed() {
            super::store_window(&self.state, entries).await?;
        }
        Response::from_json(&Verdict {
            allowed: decision.allowed(),
            retry_after: decision.reset_secs.max(1),
        })
    }
}
