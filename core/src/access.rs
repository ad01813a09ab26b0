//! Who may do what to an entity of their own org (SPEC §2, §4): the decisions behind
//! `/entities` and `/entities/{id}/credentials`, in one place for the service, the SDK
//! and the CLI. Org membership is checked before these (another org's ids are 404).
//!
//! - Owners and admins manage the org's entities; anyone may read themselves.
//! - Nobody changes their own role or status, so an org cannot lock itself out by
//!   accident.
//! - Only an owner makes an owner, changes an owner's role or status, or manages an
//!   owner's credentials (other than their own).
//! - A person's password belongs to their account, which may span orgs. It is set
//!   through an entity only while the account is *org-held*: a member of that one org
//!   that has never proved its address. Once the person verified their address or joined
//!   a second org, only they change it (with the current password or a mailed link).

use core::fmt;

use crate::error::ErrorCode;
use crate::rules::is_admin_role;

/// A refusal: the caller is authenticated but may not do this (HTTP 403).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forbidden(pub &'static str);

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "permission denied: {}", self.0)
    }
}

impl core::error::Error for Forbidden {}

impl ErrorCode for Forbidden {
    fn code(&self) -> &'static str {
        "forbidden"
    }
}

/// The caller: their role, and whether the entity acted on is themselves.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// The caller's role in the org.
    pub role: &'a str,
    /// The entity acted on is the caller.
    pub is_target: bool,
}

impl Actor<'_> {
    fn is_owner(&self) -> bool {
        self.role == "owner"
    }

    /// Reading an entity and its credential list: admins read any, others themselves.
    pub fn may_read(&self) -> Result<(), Forbidden> {
        if self.is_target || is_admin_role(self.role) {
            Ok(())
        } else {
            Err(Forbidden("you may only act on your own entity"))
        }
    }

    /// Creating, listing or changing entities.
    pub fn may_manage_entities(&self) -> Result<(), Forbidden> {
        if is_admin_role(self.role) {
            Ok(())
        } else {
            Err(Forbidden(
                "managing entities requires the owner or admin role",
            ))
        }
    }

    /// Creating an entity with `role`.
    pub fn may_create(&self, role: &str) -> Result<(), Forbidden> {
        self.may_manage_entities()?;
        if role == "owner" && !self.is_owner() {
            return Err(Forbidden("only an owner may create an owner"));
        }
        Ok(())
    }

    /// Changing the target's role from `role_before` to `role_after`, or its status
    /// (`access_changes` says whether either changes; a rename alone is not one).
    pub fn may_change(
        &self,
        role_before: &str,
        role_after: &str,
        access_changes: bool,
    ) -> Result<(), Forbidden> {
        self.may_manage_entities()?;
        if !access_changes {
            return Ok(());
        }
        if self.is_target {
            return Err(Forbidden("you cannot change your own role or status"));
        }
        if (role_before == "owner" || role_after == "owner") && !self.is_owner() {
            return Err(Forbidden("only an owner may change an owner or make one"));
        }
        Ok(())
    }

    /// Setting a password, minting a key, registering or revoking a certificate of a
    /// target whose role is `target_role`.
    pub fn may_manage_credentials(&self, target_role: &str) -> Result<(), Forbidden> {
        self.may_read()?;
        if !self.is_target && target_role == "owner" && !self.is_owner() {
            return Err(Forbidden("only an owner manages an owner's credentials"));
        }
        Ok(())
    }
}

/// What an org may know of a person's account when deciding who sets its password.
#[derive(Clone, Copy, Debug)]
pub struct AccountHold {
    /// The person proved the address (signup, a verification link, an invitation).
    pub verified: bool,
    /// Live memberships of the account, in every org.
    pub memberships: u64,
}

impl AccountHold {
    /// Created by this org's admin, used nowhere else, and never claimed by its person.
    #[must_use]
    pub const fn is_org_held(&self) -> bool {
        !self.verified && self.memberships <= 1
    }
}

impl Actor<'_> {
    /// Setting or revoking the password of a person whose membership has `target_role`.
    /// Past the org's hold, nobody does it through an entity, the person included: the
    /// account is theirs, and an API key of one org must not change how they sign in to
    /// another.
    pub fn may_set_password(
        &self,
        target_role: &str,
        account: AccountHold,
    ) -> Result<(), Forbidden> {
        self.may_manage_credentials(target_role)?;
        if account.is_org_held() {
            Ok(())
        } else {
            Err(Forbidden(
                "this person's password belongs to their account: they change it with /auth/password/change or a reset link",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn actor(role: &str, is_target: bool) -> Actor<'_> {
        Actor { role, is_target }
    }

    #[test]
    fn members_read_and_manage_only_themselves() {
        assert_eq!(actor("member", true).may_read(), Ok(()));
        assert!(actor("member", false).may_read().is_err());
        assert!(actor("member", true).may_manage_entities().is_err());
        assert_eq!(
            actor("member", true).may_manage_credentials("member"),
            Ok(())
        );
        assert!(
            actor("member", false)
                .may_manage_credentials("member")
                .is_err()
        );
    }

    #[test]
    fn only_owners_make_or_touch_owners() {
        assert_eq!(actor("admin", false).may_create("admin"), Ok(()));
        assert!(actor("admin", false).may_create("owner").is_err());
        assert_eq!(actor("owner", false).may_create("owner"), Ok(()));
        assert!(
            actor("admin", false)
                .may_change("member", "owner", true)
                .is_err()
        );
        assert!(
            actor("admin", false)
                .may_change("owner", "owner", true)
                .is_err()
        );
        assert_eq!(
            actor("owner", false).may_change("owner", "admin", true),
            Ok(())
        );
        assert!(
            actor("admin", false)
                .may_manage_credentials("owner")
                .is_err()
        );
        assert_eq!(
            actor("owner", false).may_manage_credentials("owner"),
            Ok(())
        );
        assert_eq!(actor("admin", true).may_manage_credentials("admin"), Ok(()));
    }

    #[test]
    fn nobody_changes_their_own_access_but_anyone_admin_renames() {
        assert!(
            actor("owner", true)
                .may_change("owner", "owner", true)
                .is_err()
        );
        assert_eq!(
            actor("owner", true).may_change("owner", "owner", false),
            Ok(())
        );
        assert_eq!(
            actor("admin", false).may_change("owner", "owner", false),
            Ok(()),
            "a rename of an owner"
        );
        let refused = actor("admin", true)
            .may_change("admin", "member", true)
            .expect_err("own role");
        assert_eq!(refused.code(), "forbidden");
        assert!(alloc::format!("{refused}").starts_with("permission denied: "));
    }

    #[test]
    fn an_admin_sets_a_password_only_while_the_org_holds_the_account() {
        let held = AccountHold {
            verified: false,
            memberships: 1,
        };
        assert_eq!(
            actor("admin", false).may_set_password("member", held),
            Ok(())
        );
        assert!(
            actor("member", false)
                .may_set_password("member", held)
                .is_err()
        );
        for claimed in [
            AccountHold {
                verified: true,
                memberships: 1,
            },
            AccountHold {
                verified: false,
                memberships: 2,
            },
        ] {
            assert!(!claimed.is_org_held());
            assert!(
                actor("owner", false)
                    .may_set_password("member", claimed)
                    .is_err()
            );
            assert!(
                actor("member", true)
                    .may_set_password("member", claimed)
                    .is_err()
            );
        }
    }
}
