//! People in several orgs (SPEC §2): a person is one account, and a human entity is
//! that account's membership in one org. Two decisions live here, for the service, the
//! SDK and the CLI alike:
//!
//! - which membership a password login opens ([`login_org`]): the org asked for, else
//!   the org the person last used, else their oldest active membership;
//! - the last-owner rule ([`keeps_an_owner`]): no change leaves an org without an active
//!   owner. The worker also guards its write with the same condition in SQL, so two
//!   concurrent demotions cannot both pass.
//!
//! Where an org admin's power over a person ends is an access decision:
//! [`crate::access::Actor::may_set_password`].

use core::fmt;

use crate::error::ErrorCode;

/// One of an account's memberships, as a login sees it.
#[derive(Clone, Copy, Debug)]
pub struct Membership<'a> {
    /// The org.
    pub org_id: &'a str,
    /// The membership's status (`active`, `inactive`, `suspended`).
    pub status: &'a str,
}

/// Why no membership could be opened. Every one answers the caller like a wrong
/// password; the code goes to the audit log only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginOrgRefusal {
    /// The requested org has no membership of this person.
    NotAMember,
    /// The requested membership exists but is not active.
    MembershipNotActive,
    /// No org was requested and no membership is active.
    NoActiveMembership,
}

impl fmt::Display for LoginOrgRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAMember => "the person is not a member of the requested org",
            Self::MembershipNotActive => "the membership in the requested org is not active",
            Self::NoActiveMembership => "the person has no active membership",
        })
    }
}

impl core::error::Error for LoginOrgRefusal {}

impl ErrorCode for LoginOrgRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAMember => "not_a_member",
            Self::MembershipNotActive => "membership_not_active",
            Self::NoActiveMembership => "no_active_membership",
        }
    }
}

/// The index in `memberships` (oldest first) that a login opens: `requested` when
/// given (and active), else `last_used` when still active, else the oldest active one.
pub fn login_org(
    memberships: &[Membership<'_>],
    requested: Option<&str>,
    last_used: Option<&str>,
) -> Result<usize, LoginOrgRefusal> {
    let active = |m: &Membership<'_>| m.status == "active";
    if let Some(org) = requested {
        let index = memberships
            .iter()
            .position(|m| m.org_id == org)
            .ok_or(LoginOrgRefusal::NotAMember)?;
        return if active(&memberships[index]) {
            Ok(index)
        } else {
            Err(LoginOrgRefusal::MembershipNotActive)
        };
    }
    last_used
        .and_then(|org| {
            memberships
                .iter()
                .position(|m| m.org_id == org && active(m))
        })
        .or_else(|| memberships.iter().position(active))
        .ok_or(LoginOrgRefusal::NoActiveMembership)
}

/// A change would leave its org without an active owner (HTTP 409).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastOwner;

impl fmt::Display for LastOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an org always keeps at least one active owner: make another member an owner first",
        )
    }
}

impl core::error::Error for LastOwner {}

impl ErrorCode for LastOwner {
    fn code(&self) -> &'static str {
        "last_owner"
    }
}

/// A role and status, before or after a change.
#[derive(Clone, Copy, Debug)]
pub struct Standing<'a> {
    /// `owner`, `admin` or `member`.
    pub role: &'a str,
    /// `active`, `inactive`, `suspended` or `deleted`.
    pub status: &'a str,
}

impl Standing<'_> {
    /// An active owner.
    #[must_use]
    pub fn is_active_owner(&self) -> bool {
        self.role == "owner" && self.status == "active"
    }
}

/// Whether a change from `before` to `after` takes an active owner away (a demotion,
/// suspension or removal of one): the changes the last-owner rule looks at.
#[must_use]
pub fn takes_an_owner(before: Standing<'_>, after: Standing<'_>) -> bool {
    before.is_active_owner() && !after.is_active_owner()
}

/// Refuses a change from `before` to `after` that takes away the org's last active
/// owner; `other_active_owners` counts the org's active owners other than the target.
pub fn keeps_an_owner(
    before: Standing<'_>,
    after: Standing<'_>,
    other_active_owners: u64,
) -> Result<(), LastOwner> {
    if takes_an_owner(before, after) && other_active_owners == 0 {
        Err(LastOwner)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn m<'a>(org_id: &'a str, status: &'a str) -> Membership<'a> {
        Membership { org_id, status }
    }

    #[test]
    fn a_login_opens_the_requested_org_only_if_active() {
        let all = [m("a", "active"), m("b", "suspended"), m("c", "active")];
        assert_eq!(login_org(&all, Some("c"), Some("a")), Ok(2));
        assert_eq!(
            login_org(&all, Some("b"), None),
            Err(LoginOrgRefusal::MembershipNotActive)
        );
        assert_eq!(
            login_org(&all, Some("z"), None),
            Err(LoginOrgRefusal::NotAMember)
        );
    }

    #[test]
    fn without_a_request_the_last_used_org_then_the_oldest_active_one() {
        let all = [m("a", "inactive"), m("b", "active"), m("c", "active")];
        assert_eq!(login_org(&all, None, Some("c")), Ok(2));
        assert_eq!(
            login_org(&all, None, Some("a")),
            Ok(1),
            "last used, suspended"
        );
        assert_eq!(login_org(&all, None, Some("gone")), Ok(1));
        assert_eq!(login_org(&all, None, None), Ok(1));
        assert_eq!(
            login_org(&[m("a", "suspended")], None, Some("a")),
            Err(LoginOrgRefusal::NoActiveMembership)
        );
        assert_eq!(
            login_org(&[], None, None),
            Err(LoginOrgRefusal::NoActiveMembership)
        );
    }

    #[test]
    fn the_last_active_owner_stays() {
        let owner = Standing {
            role: "owner",
            status: "active",
        };
        for after in [
            Standing {
                role: "admin",
                status: "active",
            },
            Standing {
                role: "owner",
                status: "suspended",
            },
            Standing {
                role: "owner",
                status: "deleted",
            },
            Standing {
                role: "member",
                status: "inactive",
            },
        ] {
            assert_eq!(keeps_an_owner(owner, after, 0), Err(LastOwner));
            assert_eq!(keeps_an_owner(owner, after, 1), Ok(()));
        }
        assert_eq!(keeps_an_owner(owner, owner, 0), Ok(()), "a rename");
        let suspended_owner = Standing {
            role: "owner",
            status: "suspended",
        };
        let admin = Standing {
            role: "admin",
            status: "active",
        };
        assert_eq!(keeps_an_owner(suspended_owner, admin, 0), Ok(()));
        assert_eq!(keeps_an_owner(admin, suspended_owner, 0), Ok(()));
        assert_eq!(LastOwner.code(), "last_owner");
    }
}
