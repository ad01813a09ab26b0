//! The events a webhook endpoint may subscribe to (issue 10), and the rule for an
//! endpoint's `event_types`: known names, or `["*"]` (every event, the default) alone.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::ErrorCode;

/// Every event type the service sends.
pub const EVENT_TYPES: [&str; 11] = [
    "key.minted",
    "key.updated",
    "key.revoked",
    "credential.created",
    "credential.revoked",
    "entity.status_changed",
    "signup.completed",
    "oauth.grant_issued",
    "oauth.grant_revoked",
    "oauth.refresh_reuse_detected",
    "webhook_secret.rotated",
];

/// In `event_types`, the one entry that means every event.
pub const ALL: &str = "*";

/// An unknown event type, or `*` mixed with names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTypesError;

impl core::error::Error for EventTypesError {}

impl ErrorCode for EventTypesError {
    fn code(&self) -> &'static str {
        "invalid_event_types"
    }
}

impl fmt::Display for EventTypesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event_types must be [\"*\"] or names among: {}",
            EVENT_TYPES.join(", ")
        )
    }
}

/// An endpoint's `event_types`: `None` or `["*"]` is every event; otherwise known names,
/// sorted and deduplicated (at least one).
pub fn check(asked: Option<Vec<String>>) -> Result<Vec<String>, EventTypesError> {
    let Some(mut names) = asked else {
        return Ok(alloc::vec![String::from(ALL)]);
    };
    if names.iter().any(|n| n == ALL) {
        return if names.iter().all(|n| n == ALL) {
            Ok(alloc::vec![String::from(ALL)])
        } else {
            Err(EventTypesError)
        };
    }
    if names.is_empty() || !names.iter().all(|n| EVENT_TYPES.contains(&n.as_str())) {
        return Err(EventTypesError);
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Whether an endpoint subscribed to `subscribed` wants `event`.
#[must_use]
pub fn wants(subscribed: &[String], event: &str) -> bool {
    subscribed.iter().any(|s| s == ALL || s == event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn event_types_are_known_names_or_everything() {
        assert_eq!(check(None), Ok(vec![String::from("*")]));
        assert_eq!(check(Some(vec!["*".into()])), Ok(vec![String::from("*")]));
        assert_eq!(
            check(Some(vec![
                "key.revoked".into(),
                "key.minted".into(),
                "key.minted".into()
            ])),
            Ok(vec![
                String::from("key.minted"),
                String::from("key.revoked")
            ])
        );
        for bad in [
            vec![],
            vec!["key.deleted".into()],
            vec!["*".into(), "key.minted".into()],
            vec!["KEY.MINTED".into()],
        ] {
            assert_eq!(check(Some(bad.clone())), Err(EventTypesError), "{bad:?}");
        }
        assert!(wants(&[String::from("*")], "key.minted"));
        assert!(wants(&[String::from("key.minted")], "key.minted"));
        assert!(!wants(&[String::from("key.minted")], "key.revoked"));
    }
}
