//! Input rules shared by the service, the SDK and the CLI: what a name, a namespace list,
//! a rate limit and an entity's kind, role or status may be. The worker refuses what
//! these refuse; the SDK and CLI can check the same rules before sending anything.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::ErrorCode;

/// Longest name or description, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Default `rate_limit_rpm` of a new key, and the most a member may set.
pub const MEMBER_MAX_RPM: u32 = 60;
/// The most an admin or owner may set.
pub const ADMIN_MAX_RPM: u32 = 100_000;
/// Longest description of a webhook endpoint, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Namespaces one key may carry.
pub const MAX_NAMESPACES: usize = 50;
/// Entity kinds (SPEC §2).
pub const ENTITY_KINDS: [&str; 3] = ["human", "service", "device"];
/// Roles, strongest first.
pub const ROLES: [&str; 3] = ["owner", "admin", "member"];
/// Entity statuses; `deleted` is a soft delete and final.
pub const ENTITY_STATUSES: [&str; 4] = ["active", "inactive", "suspended", "deleted"];

/// Why an input breaks a rule. Codes are stable; `Display` is the message to show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleError {
    /// Empty, longer than [`MAX_NAME_CHARS`], or with control characters.
    Name,
    /// Longer than [`MAX_DESCRIPTION_CHARS`], or with control characters.
    Description,
    /// Outside `1..=max` for the caller's role.
    RateLimit {
        /// The most this role may set.
        max: u32,
    },
    /// More than [`MAX_NAMESPACES`], or a name outside `[a-z0-9][a-z0-9._-]{0,62}`.
    Namespaces,
    /// `["*"]` (every namespace) asked by someone who is not an owner or admin.
    AllNamespaces,
    /// Not one of the allowed values of `field`.
    NotOneOf {
        /// The field.
        field: &'static str,
        /// Its allowed values.
        allowed: &'static [&'static str],
    },
}

impl ErrorCode for RuleError {
    fn code(&self) -> &'static str {
        match self {
            Self::Name => "invalid_name",
            Self::Description => "invalid_description",
            Self::RateLimit { .. } => "invalid_rate_limit",
            Self::Namespaces => "invalid_namespaces",
            Self::AllNamespaces => "forbidden",
            Self::NotOneOf { .. } => "invalid_value",
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name => write!(
                f,
                "name must be 1-{MAX_NAME_CHARS} characters without control characters"
            ),
            Self::Description => write!(
                f,
                "description must be at most {MAX_DESCRIPTION_CHARS} characters without control characters"
            ),
            Self::RateLimit { max } => write!(
                f,
                "rate_limit_rpm must be between 1 and {max} for your role"
            ),
            Self::Namespaces => write!(
                f,
                "namespaces must be at most {MAX_NAMESPACES} names of [a-z0-9._-], 1-63 characters"
            ),
            Self::AllNamespaces => write!(
                f,
                "permission denied: only owners and admins may grant every namespace (\"*\")"
            ),
            Self::NotOneOf { field, allowed } => {
                write!(f, "{field} must be one of {}", allowed.join(", "))
            }
        }
    }
}

impl core::error::Error for RuleError {}

/// A name or description, trimmed: 1-100 characters, no control characters.
pub fn name(input: &str) -> Result<String, RuleError> {
    let name = input.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(char::is_control);
    if ok {
        Ok(name.to_owned())
    } else {
        Err(RuleError::Name)
    }
}

/// A webhook endpoint's description, as given: at most 500 characters (empty is
/// allowed), no control characters.
pub fn description(input: &str) -> Result<String, RuleError> {
    let ok = input.chars().count() <= MAX_DESCRIPTION_CHARS && !input.chars().any(char::is_control);
    if ok {
        Ok(input.to_owned())
    } else {
        Err(RuleError::Description)
    }
}

/// Whether `role` administers its org.
#[must_use]
pub fn is_admin_role(role: &str) -> bool {
    matches!(role, "owner" | "admin")
}

/// A rate limit the caller's role may set on a key.
pub fn rate_limit(rpm: u32, role: &str) -> Result<u32, RuleError> {
    let max = if is_admin_role(role) {
        ADMIN_MAX_RPM
    } else {
        MEMBER_MAX_RPM
    };
    if (1..=max).contains(&rpm) {
        Ok(rpm)
    } else {
        Err(RuleError::RateLimit { max })
    }
}

/// A key's namespaces ([`crate::namespace::check_grant`]): names, or `["*"]` alone for
/// every namespace of the org, which only owners and admins may grant; at most
/// [`MAX_NAMESPACES`], sorted and deduplicated.
pub fn namespaces(names: Vec<String>, role: &str) -> Result<Vec<String>, RuleError> {
    let names =
        crate::namespace::check_grant(names, MAX_NAMESPACES).map_err(|_| RuleError::Namespaces)?;
    if names.iter().any(|n| n == crate::namespace::ALL) && !is_admin_role(role) {
        return Err(RuleError::AllNamespaces);
    }
    Ok(names)
}

/// `value` if it is one of `allowed` (e.g. [`ROLES`] for `field` "role").
pub fn one_of(
    value: &str,
    allowed: &'static [&'static str],
    field: &'static str,
) -> Result<&'static str, RuleError> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or(RuleError::NotOneOf { field, allowed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_controls() {
        assert_eq!(name("  device-01 "), Ok("device-01".into()));
        assert_eq!(name(&"n".repeat(100)).map(|n| n.len()), Ok(100));
        assert_eq!(name(&"é".repeat(100)).map(|n| n.chars().count()), Ok(100));
        for bad in ["", "   ", "a\nb", "a\u{0}b", &"n".repeat(101)] {
            assert_eq!(name(bad), Err(RuleError::Name), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_bounded_and_free_of_controls() {
        assert_eq!(description(""), Ok(String::new()));
        assert_eq!(
            description(&"é".repeat(500)).map(|d| d.chars().count()),
            Ok(500)
        );
        for bad in ["a\nb", "a\u{0}b", "tab\there", &"d".repeat(501)] {
            assert_eq!(description(bad), Err(RuleError::Description), "{bad:?}");
        }
        assert_eq!(RuleError::Description.code(), "invalid_description");
    }

    #[test]
    fn rate_limits_depend_on_the_role() {
        assert_eq!(rate_limit(60, "member"), Ok(60));
        assert_eq!(
            rate_limit(61, "member"),
            Err(RuleError::RateLimit { max: 60 })
        );
        assert_eq!(rate_limit(100_000, "admin"), Ok(100_000));
        assert_eq!(rate_limit(100_000, "owner"), Ok(100_000));
        assert_eq!(
            rate_limit(100_001, "owner"),
            Err(RuleError::RateLimit { max: 100_000 })
        );
        assert_eq!(
            rate_limit(0, "owner"),
            Err(RuleError::RateLimit { max: 100_000 })
        );
        assert_eq!(
            rate_limit(61, "unknown-role"),
            Err(RuleError::RateLimit { max: 60 })
        );
    }

    #[test]
    fn namespaces_are_checked_sorted_and_deduplicated() {
        let given = vec![
            "prod".to_string(),
            "a.b_c-d".into(),
            "prod".into(),
            "0x".into(),
        ];
        assert_eq!(
            namespaces(given, "member"),
            Ok(vec!["0x".to_string(), "a.b_c-d".into(), "prod".into()])
        );
        for bad in ["", "Prod", "-x", "a/b", "ns\n", &"n".repeat(64)] {
            assert_eq!(
                namespaces(vec![bad.to_string()], "owner"),
                Err(RuleError::Namespaces),
                "{bad:?}"
            );
        }
        let too_many = (0..51).map(|i| alloc::format!("ns{i}")).collect();
        assert_eq!(namespaces(too_many, "owner"), Err(RuleError::Namespaces));
    }

    #[test]
    fn only_owners_and_admins_grant_every_namespace() {
        for role in ["owner", "admin"] {
            assert_eq!(
                namespaces(vec!["*".into()], role),
                Ok(vec!["*".to_string()])
            );
        }
        assert_eq!(
            namespaces(vec!["*".into()], "member"),
            Err(RuleError::AllNamespaces)
        );
        assert_eq!(
            namespaces(vec!["*".into(), "prod".into()], "owner"),
            Err(RuleError::Namespaces),
            "\"*\" stands alone"
        );
    }

    #[test]
    fn enumerations_accept_exactly_their_values() {
        assert_eq!(one_of("device", &ENTITY_KINDS, "kind"), Ok("device"));
        assert_eq!(one_of("deleted", &ENTITY_STATUSES, "status"), Ok("deleted"));
        let refused = one_of("Owner", &ROLES, "role").expect_err("roles are lowercase");
        assert_eq!(refused.code(), "invalid_value");
        assert_eq!(
            refused.to_string(),
            "role must be one of owner, admin, member"
        );
    }
}
