//! The grant state machine (RFC 6749 §4.1, §6, §10.4; RFC 9700 §2.2.2, §4.14): one
//! person's authorization of one client in one org, from its code to its revocation.
//!
//! ```text
//!   pending (code issued, 10 min, single use)
//!      │ exchange: code + client + redirect_uri + PKCE verifier all match
//!      ▼
//!   active ──refresh (the current refresh token)──► active (rotated: a new pair)
//!      │
//!      ├─ the spent code presented again ───────────┐
//!      ├─ a rotated refresh token presented again ──┤ (replay / reuse)
//!      └─ revoke (any token of the grant) ──────────┴──► revoked (final)
//! ```
//!
//! Every step is a function `(state, input, now) → (state, outcome)`; the caller mints
//! the new tokens and passes only their keyed hashes in (`Issue`), then hands the plain
//! tokens out if the outcome is [`Outcome::Issued`]. Nothing here reads a clock or
//! storage, so the worker's Durable Object per grant runs exactly this, serialised.
//!
//! Policy where the RFCs leave room:
//! - a wrong code, a code for another client or redirect URI, or a wrong verifier is
//!   refused and changes nothing: the legitimate holder can still redeem it, and a
//!   stranger who guesses cannot revoke someone else's grant;
//! - the spent code presented again revokes the grant (RFC 6749 §4.1.2);
//! - a refresh token is single use: presenting one that was already rotated revokes the
//!   grant (RFC 9700 §4.14.2), except an identical retry of the latest rotation within
//!   the grace period (`REFRESH_REUSE_GRACE_SECONDS`, default 0), which is told to repeat
//!   the previous answer instead; a refresh token never issued for this grant is refused
//!   without revoking, for the same reason as a wrong code;
//! - a refresh never widens scope; it may narrow the new access token's;
//! - the grant remembers the last [`MAX_ROTATED`] rotated refresh tokens (older ones
//!   count as never issued) and at most [`MAX_LIVE_ACCESS`] live access tokens (the
//!   oldest is dropped first).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::error::{OAuthError, OAuthErrorCode};
use super::scope::{ScopeRefusal, Scopes};
use crate::digest::Digest32;
use crate::pkce::{CodeChallenge, CodeVerifier};
use crate::secret::ct_eq;

/// Rotated refresh tokens remembered for reuse detection.
pub const MAX_ROTATED: usize = 64;
/// Access tokens of one grant live at once.
pub const MAX_LIVE_ACCESS: usize = 8;

/// Token lifetimes, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetimes {
    /// Access tokens (default 1 hour).
    pub access: u64,
    /// Each refresh token (default 90 days).
    pub refresh: u64,
    /// The authorization code (default 10 minutes).
    pub code: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access: 3600,
            refresh: 90 * 24 * 3600,
            code: 600,
        }
    }
}

/// Why a grant ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ending {
    /// Revoked by the person, the client (RFC 7009) or an admin.
    Revoked,
    /// Its spent code was presented again.
    CodeReplay,
    /// A rotated refresh token was presented again.
    RefreshReuse,
}

impl Ending {
    /// The stable name stored with an ended grant and shown in audit entries.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::CodeReplay => "code_replay",
            Self::RefreshReuse => "refresh_reuse",
        }
    }
}

/// A hash with the time it stops working.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Live {
    hash: Digest32,
    expires_at: u64,
}

/// An access token: its hash, expiry and scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LiveAccess {
    hash: Digest32,
    expires_at: u64,
    scope: Scopes,
}

/// The code waiting to be exchanged, and what it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// Keyed hash of the code.
    pub hash: Digest32,
    /// When it stops working.
    pub expires_at: u64,
    /// The redirect URI the code was sent to: the exchange must name it again.
    pub redirect_uri: String,
    /// The PKCE challenge: the exchange must bring its verifier.
    pub challenge: String,
}

/// One grant's whole state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    client_id: String,
    scope: Scopes,
    code: Option<PendingCode>,
    spent_code: Option<Digest32>,
    refresh: Option<Live>,
    /// Rotated refresh tokens, newest first, with the time of their rotation.
    rotated: Vec<(Digest32, u64)>,
    access: Vec<LiveAccess>,
    ended: Option<(Ending, u64)>,
}

/// The hashes of tokens the caller minted for this step.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Issue {
    /// The new access token's keyed hash.
    pub access: Digest32,
    /// The new refresh token's keyed hash (`None`: the client gets no refresh token).
    pub refresh: Option<Digest32>,
}

/// What a step decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The tokens of [`Issue`] are live: hand them out.
    Issued {
        /// The access token's scope.
        scope: Scopes,
        /// When the access token expires.
        access_expires_at: u64,
        /// Whether the refresh token of [`Issue`] was kept.
        refresh: bool,
    },
    /// An identical retry of the latest rotation within the grace period: answer what
    /// the rotation answered (nothing new was issued).
    Repeat,
    /// Refused; nothing changed.
    Refused(OAuthError),
    /// This input ended the grant (replay or reuse): refuse it, and audit.
    Ended(Ending),
    /// The grant had already ended.
    AlreadyEnded(Ending),
    /// `revoke` ended the grant.
    Revoked,
}

/// A code exchange (`grant_type=authorization_code`). Its `Debug` hides the verifier.
#[derive(Clone, Copy)]
pub struct Exchange<'a> {
    /// Keyed hash of the presented code.
    pub code_hash: Digest32,
    /// The client presenting it.
    pub client_id: &'a str,
    /// `redirect_uri` of the token request.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` of the token request.
    pub code_verifier: Option<&'a str>,
}

impl core::fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exchange")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &self.code_verifier.map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A refresh (`grant_type=refresh_token`).
#[derive(Clone, Copy, Debug)]
pub struct Refresh<'a> {
    /// Keyed hash of the presented refresh token.
    pub token_hash: Digest32,
    /// The client presenting it.
    pub client_id: &'a str,
    /// `scope` of the token request, if any.
    pub scope: Option<&'a str>,
}

/// Why an access token does not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessRefusal {
    /// Not a live token of this grant.
    Unknown,
    /// Expired.
    Expired,
    /// The grant has ended.
    Ended(Ending),
}

const fn invalid_grant(description: &'static str) -> Outcome {
    Outcome::Refused(OAuthError::new(OAuthErrorCode::InvalidGrant, description))
}

impl Grant {
    /// A grant whose code was just issued to `client_id` for `scope`.
    #[must_use]
    pub fn pending(client_id: String, scope: Scopes, code: PendingCode) -> Self {
        Self {
            client_id,
            scope,
            code: Some(code),
            spent_code: None,
            refresh: None,
            rotated: Vec::new(),
            access: Vec::new(),
            ended: None,
        }
    }

    /// The client the grant belongs to.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scope the person granted.
    #[must_use]
    pub fn scope(&self) -> &Scopes {
        &self.scope
    }

    /// How and when the grant ended, if it has.
    #[must_use]
    pub fn ended(&self) -> Option<(Ending, u64)> {
        self.ended
    }

    /// Exchanges the code for the first tokens.
    #[must_use]
    pub fn exchange(
        mut self,
        input: &Exchange<'_>,
        now: u64,
        lifetimes: Lifetimes,
        issue: Issue,
    ) -> (Self, Outcome) {
        if let Some((ending, _)) = self.ended {
            return (self, Outcome::AlreadyEnded(ending));
        }
        if self.spent_code.is_some_and(|h| ct_eq(&h, &input.code_hash)) {
            return self.end(Ending::CodeReplay, now);
        }
        let Some(code) = self
            .code
            .as_ref()
            .filter(|c| ct_eq(&c.hash, &input.code_hash))
        else {
            return (self, invalid_grant("the code is invalid"));
        };
        if now >= code.expires_at {
            return (self, invalid_grant("the code has expired"));
        }
        if input.client_id != self.client_id {
            return (self, invalid_grant("the code was issued to another client"));
        }
        if input.redirect_uri != Some(code.redirect_uri.as_str()) {
            return (
                self,
                invalid_grant("redirect_uri must be the one the code was sent to"),
            );
        }
        let verified = match (
            input.code_verifier,
            CodeChallenge::parse(&code.challenge, Some("S256")),
        ) {
            (Some(verifier), Ok(challenge)) => {
                CodeVerifier::parse(verifier).is_ok_and(|v| challenge.verify(&v))
            }
            _ => false,
        };
        if !verified {
            return (
                self,
                invalid_grant("code_verifier is missing or does not match the code_challenge"),
            );
        }
        self.spent_code = self.code.take().map(|c| c.hash);
        let scope = self.scope.clone();
        let outcome = self.issue(issue, scope, now, lifetimes);
        (self, outcome)
    }

    /// Rotates the refresh token: the presented one is spent, a new pair is live.
    #[must_use]
    pub fn refresh(
        mut self,
        input: &Refresh<'_>,
        now: u64,
        lifetimes: Lifetimes,
        grace_secs: u64,
        issue: Issue,
    ) -> (Self, Outcome) {
        if let Some((ending, _)) = self.ended {
            return (self, Outcome::AlreadyEnded(ending));
        }
        if input.client_id != self.client_id {
            return (
                self,
                invalid_grant("the refresh token was issued to another client"),
            );
        }
        let current = self
            .refresh
            .as_ref()
            .is_some_and(|r| ct_eq(&r.hash, &input.token_hash));
        if !current {
            return match self
                .rotated
                .iter()
                .position(|(h, _)| ct_eq(h, &input.token_hash))
            {
                Some(0) if now < self.rotated[0].1.saturating_add(grace_secs) => {
                    (self, Outcome::Repeat)
                }
                Some(_) => self.end(Ending::RefreshReuse, now),
                None => (self, invalid_grant("the refresh token is invalid")),
            };
        }
        if self.refresh.as_ref().is_some_and(|r| now >= r.expires_at) {
            return (self, invalid_grant("the refresh token has expired"));
        }
        let scope = match input.scope {
            None => self.scope.clone(),
            Some(asked) => match self.scope.narrow(asked) {
                Ok(scope) => scope,
                Err(ScopeRefusal::Malformed) => {
                    return (
                        self,
                        Outcome::Refused(OAuthError::new(
                            OAuthErrorCode::InvalidScope,
                            "scope is malformed",
                        )),
                    );
                }
                Err(ScopeRefusal::Wider) => {
                    return (
                        self,
                        Outcome::Refused(OAuthError::new(
                            OAuthErrorCode::InvalidScope,
                            "a refresh cannot widen the granted scope",
                        )),
                    );
                }
            },
        };
        if let Some(spent) = self.refresh.take() {
            self.rotated.insert(0, (spent.hash, now));
            self.rotated.truncate(MAX_ROTATED);
        }
        let outcome = self.issue(issue, scope, now, lifetimes);
        (self, outcome)
    }

    /// Revokes the grant (idempotent): every token of it stops working.
    #[must_use]
    pub fn revoke(self, now: u64) -> (Self, Outcome) {
        if let Some((ending, _)) = self.ended {
            return (self, Outcome::AlreadyEnded(ending));
        }
        let (grant, _) = self.end(Ending::Revoked, now);
        (grant, Outcome::Revoked)
    }

    /// Whether an access token (by keyed hash) is live at `now`; its scope if it is.
    pub fn check_access(&self, hash: &Digest32, now: u64) -> Result<&Scopes, AccessRefusal> {
        if let Some((ending, _)) = self.ended {
            return Err(AccessRefusal::Ended(ending));
        }
        let token = self
            .access
            .iter()
            .find(|a| ct_eq(&a.hash, hash))
            .ok_or(AccessRefusal::Unknown)?;
        if now >= token.expires_at {
            return Err(AccessRefusal::Expired);
        }
        Ok(&token.scope)
    }

    /// Revokes the grant by one of its tokens (RFC 7009): only a live access token or the
    /// current refresh token of this grant ends it. Anything else, a token merely naming
    /// the grant's id included (the id is not a secret), is refused and changes nothing.
    #[must_use]
    pub fn revoke_by_token(self, hash: &Digest32, now: u64) -> (Self, Outcome) {
        if let Some((ending, _)) = self.ended {
            return (self, Outcome::AlreadyEnded(ending));
        }
        let current_refresh = self.refresh.as_ref().is_some_and(|r| ct_eq(&r.hash, hash));
        if current_refresh || self.check_access(hash, now).is_ok() {
            self.revoke(now)
        } else {
            (self, invalid_grant("not a live token of this grant"))
        }
    }

    /// When a live access token (by keyed hash) expires.
    #[must_use]
    pub fn access_expires_at(&self, hash: &Digest32) -> Option<u64> {
        self.access
            .iter()
            .find(|a| ct_eq(&a.hash, hash))
            .map(|a| a.expires_at)
    }

    fn issue(&mut self, issue: Issue, scope: Scopes, now: u64, lifetimes: Lifetimes) -> Outcome {
        let access_expires_at = now.saturating_add(lifetimes.access);
        self.access.retain(|a| a.expires_at > now);
        if self.access.len() >= MAX_LIVE_ACCESS {
            self.access.remove(0);
        }
        self.access.push(LiveAccess {
            hash: issue.access,
            expires_at: access_expires_at,
            scope: scope.clone(),
        });
        self.refresh = issue.refresh.map(|hash| Live {
            hash,
            expires_at: now.saturating_add(lifetimes.refresh),
        });
        Outcome::Issued {
            scope,
            access_expires_at,
            refresh: issue.refresh.is_some(),
        }
    }

    fn end(mut self, ending: Ending, now: u64) -> (Self, Outcome) {
        self.ended = Some((ending, now));
        self.code = None;
        self.refresh = None;
        self.access.clear();
        (self, Outcome::Ended(ending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // RFC 7636 Appendix B
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const T0: u64 = 1_000_000;

    fn h(n: u8) -> Digest32 {
        [n; 32]
    }

    fn pending() -> Grant {
        Grant::pending(
            "client-a".into(),
            Scopes::parse("keyward:api keyward:read").expect("valid"),
            PendingCode {
                hash: h(1),
                expires_at: T0 + 600,
                redirect_uri: "http://127.0.0.1:5000/cb".into(),
                challenge: CHALLENGE.into(),
            },
        )
    }

    fn exchange<'a>(code: u8, client: &'a str, verifier: Option<&'a str>) -> Exchange<'a> {
        Exchange {
            code_hash: h(code),
            client_id: client,
            redirect_uri: Some("http://127.0.0.1:5000/cb"),
            code_verifier: verifier,
        }
    }

    fn issue(n: u8) -> Issue {
        Issue {
            access: h(n),
            refresh: Some(h(n + 100)),
        }
    }

    fn refresh(token: u8) -> Refresh<'static> {
        Refresh {
            token_hash: h(token),
            client_id: "client-a",
            scope: None,
        }
    }

    fn active() -> Grant {
        let (grant, outcome) = pending().exchange(
            &exchange(1, "client-a", Some(VERIFIER)),
            T0,
            Lifetimes::default(),
            issue(10),
        );
        assert!(
            matches!(outcome, Outcome::Issued { refresh: true, .. }),
            "{outcome:?}"
        );
        grant
    }

    fn refused(outcome: &Outcome) -> Option<OAuthErrorCode> {
        match outcome {
            Outcome::Refused(e) => Some(e.code),
            _ => None,
        }
    }

    #[test]
    fn the_code_is_bound_to_client_redirect_verifier_and_time() {
        let g = pending();
        let lt = Lifetimes::default();
        for (input, now) in [
            (exchange(2, "client-a", Some(VERIFIER)), T0),
            (exchange(1, "client-b", Some(VERIFIER)), T0),
            (exchange(1, "client-a", None), T0),
            (exchange(1, "client-a", Some(&CHALLENGE[..43])), T0),
            (exchange(1, "client-a", Some(VERIFIER)), T0 + 600),
            (
                Exchange {
                    redirect_uri: Some("http://127.0.0.1:5001/cb"),
                    ..exchange(1, "client-a", Some(VERIFIER))
                },
                T0,
            ),
            (
                Exchange {
                    redirect_uri: None,
                    ..exchange(1, "client-a", Some(VERIFIER))
                },
                T0,
            ),
        ] {
            let (after, outcome) = g.clone().exchange(&input, now, lt, issue(10));
            assert_eq!(
                refused(&outcome),
                Some(OAuthErrorCode::InvalidGrant),
                "{input:?}"
            );
            assert_eq!(after, g, "a refused exchange changes nothing");
        }
        let grant = active();
        assert_eq!(
            grant
                .check_access(&h(10), T0 + 3599)
                .map(Scopes::to_scope_string),
            Ok("keyward:api keyward:read".to_string())
        );
        assert_eq!(
            grant.check_access(&h(10), T0 + 3600),
            Err(AccessRefusal::Expired)
        );
        assert_eq!(grant.check_access(&h(11), T0), Err(AccessRefusal::Unknown));
    }

    #[test]
    fn a_replayed_code_ends_the_grant_and_everything_it_issued() {
        let (grant, outcome) = active().exchange(
            &exchange(1, "client-a", Some(VERIFIER)),
            T0 + 5,
            Lifetimes::default(),
            issue(20),
        );
        assert_eq!(outcome, Outcome::Ended(Ending::CodeReplay));
        assert_eq!(
            grant.check_access(&h(10), T0 + 6),
            Err(AccessRefusal::Ended(Ending::CodeReplay))
        );
        let (_, after) = grant.refresh(&refresh(110), T0 + 7, Lifetimes::default(), 0, issue(30));
        assert_eq!(after, Outcome::AlreadyEnded(Ending::CodeReplay));
    }

    #[test]
    fn refresh_rotates_and_reuse_ends_the_grant() {
        let lt = Lifetimes::default();
        let (grant, outcome) = active().refresh(&refresh(110), T0 + 10, lt, 0, issue(20));
        assert!(matches!(outcome, Outcome::Issued { .. }));
        assert!(grant.check_access(&h(20), T0 + 11).is_ok());
        assert!(
            grant.check_access(&h(10), T0 + 11).is_ok(),
            "earlier access tokens live out their hour"
        );
        let (still, unknown) = grant
            .clone()
            .refresh(&refresh(99), T0 + 12, lt, 0, issue(30));
        assert_eq!(refused(&unknown), Some(OAuthErrorCode::InvalidGrant));
        assert_eq!(still, grant, "a never-issued token changes nothing");
        let (ended, reuse) = grant.refresh(&refresh(110), T0 + 12, lt, 0, issue(30));
        assert_eq!(reuse, Outcome::Ended(Ending::RefreshReuse));
        assert_eq!(
            ended.check_access(&h(20), T0 + 13),
            Err(AccessRefusal::Ended(Ending::RefreshReuse))
        );
        let (_, current) = ended.refresh(&refresh(120), T0 + 13, lt, 0, issue(40));
        assert_eq!(
            current,
            Outcome::AlreadyEnded(Ending::RefreshReuse),
            "the successor dies too"
        );
    }

    #[test]
    fn within_the_grace_an_identical_retry_repeats_and_after_it_revokes() {
        let lt = Lifetimes::default();
        let (grant, _) = active().refresh(&refresh(110), T0 + 10, lt, 5, issue(20));
        let (grant, retry) = grant.refresh(&refresh(110), T0 + 14, lt, 5, issue(30));
        assert_eq!(retry, Outcome::Repeat);
        assert!(
            grant.check_access(&h(30), T0 + 14).is_err(),
            "a repeat issues nothing"
        );
        let (_, late) = grant.refresh(&refresh(110), T0 + 15, lt, 5, issue(30));
        assert_eq!(late, Outcome::Ended(Ending::RefreshReuse));
    }

    #[test]
    fn refresh_never_widens_scope_and_expires() {
        let lt = Lifetimes::default();
        let grant = active();
        let wide = Refresh {
            scope: Some("keyward:api admin"),
            ..refresh(110)
        };
        let (same, outcome) = grant.clone().refresh(&wide, T0 + 1, lt, 0, issue(20));
        assert_eq!(refused(&outcome), Some(OAuthErrorCode::InvalidScope));
        assert_eq!(same, grant);
        let narrow = Refresh {
            scope: Some("keyward:read"),
            ..refresh(110)
        };
        let (narrowed, outcome) = grant.clone().refresh(&narrow, T0 + 1, lt, 0, issue(20));
        assert!(
            matches!(&outcome, Outcome::Issued { scope, .. } if scope.to_scope_string() == "keyward:read")
        );
        assert_eq!(
            narrowed.scope().to_scope_string(),
            "keyward:api keyward:read",
            "the grant keeps its scope"
        );
        let (_, expired) = grant
            .clone()
            .refresh(&refresh(110), T0 + lt.refresh, lt, 0, issue(20));
        assert_eq!(refused(&expired), Some(OAuthErrorCode::InvalidGrant));
        let other = Refresh {
            client_id: "client-b",
            ..refresh(110)
        };
        let (unchanged, foreign) = grant.clone().refresh(&other, T0 + 1, lt, 0, issue(20));
        assert_eq!(refused(&foreign), Some(OAuthErrorCode::InvalidGrant));
        assert_eq!(unchanged, grant);
    }

    #[test]
    fn an_exchange_never_prints_its_verifier() {
        let printed = alloc::format!("{:?}", exchange(1, "client-a", Some(VERIFIER)));
        assert!(!printed.contains(VERIFIER), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn only_a_live_token_of_the_grant_revokes_it() {
        let grant = active();
        let (same, forged) = grant.clone().revoke_by_token(&h(99), T0 + 1);
        assert_eq!(refused(&forged), Some(OAuthErrorCode::InvalidGrant));
        assert_eq!(
            same, grant,
            "a token that only names the grant changes nothing"
        );
        let (_, by_access) = grant.clone().revoke_by_token(&h(10), T0 + 1);
        assert_eq!(by_access, Outcome::Revoked);
        let (_, by_refresh) = grant.clone().revoke_by_token(&h(110), T0 + 1);
        assert_eq!(by_refresh, Outcome::Revoked);
        let (_, expired_access) = grant.revoke_by_token(&h(10), T0 + 3600);
        assert!(
            matches!(expired_access, Outcome::Refused(_)),
            "an expired access token no longer speaks for the grant"
        );
    }

    #[test]
    fn revocation_is_final_and_idempotent() {
        let (grant, outcome) = active().revoke(T0 + 1);
        assert_eq!(outcome, Outcome::Revoked);
        let (grant, again) = grant.revoke(T0 + 2);
        assert_eq!(again, Outcome::AlreadyEnded(Ending::Revoked));
        assert_eq!(grant.ended(), Some((Ending::Revoked, T0 + 1)));
        assert_eq!(
            grant.check_access(&h(10), T0 + 3),
            Err(AccessRefusal::Ended(Ending::Revoked))
        );
    }
}
