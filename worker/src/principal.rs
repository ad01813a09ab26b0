//! Who a request acts as, once authenticated: the one shape every credential (key,
//! certificate, session, OAuth access token) resolves to, and what routes decide on.
//! It sits low in the layers so that `lease.rs` can keep admitted callers and `auth.rs`
//! can produce them.

use crate::store::audit::AuditEvent;

/// What the `RateLimit-*` headers report.
#[derive(Clone)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
}

/// An authenticated caller.
#[derive(Clone)]
pub struct Principal {
    pub org_id: String,
    pub entity_id: String,
    /// The person's account, for a session (keys and certificates act for the
    /// membership alone).
    pub account_id: Option<String>,
    /// The OAuth client, for an access token.
    pub client_id: Option<String>,
    pub role: String,
    /// The key, certificate or session the request presented.
    pub credential_id: String,
    pub key_prefix: String,
    pub auth_method: &'static str,
    pub namespaces: Vec<String>,
    /// Keys and certificates are rate-limited (SPEC §6); sessions are not.
    pub rate: Option<RateInfo>,
}

impl Principal {
    /// Owners and admins manage their org.
    pub fn is_admin(&self) -> bool {
        keyward_core::rules::is_admin_role(&self.role)
    }

    /// An audit entry of `event` done by this caller, in their org.
    pub fn audit(&self, event: &'static str) -> AuditEvent {
        AuditEvent::by(&self.org_id, &self.entity_id, event)
    }

    /// The caller as the core's access rules see it, acting on an entity that is
    /// (`is_target`) or is not themselves.
    pub fn acting_on(&self, is_target: bool) -> keyward_core::access::Actor<'_> {
        keyward_core::access::Actor {
            role: &self.role,
            is_target,
        }
    }
}
