//! Namespaces (SPEC §2, §4; the Primatomic seed): named key-value spaces of an org whose
//! values live in KV. The rules are here, once, so that the worker and the SDK (offline,
//! through wasm) refuse the same names.
//!
//! ## Storage layout
//!
//! A value is stored under `{org id}/{namespace id}/{key}`. Both ids have a fixed length
//! and no `/`, and the namespace id is random, made when the namespace is created, so:
//! - no prefix listing of one namespace ever reaches another (namespaces `a` and `ab`
//!   have unrelated ids, and every listing prefix ends in `/`), and no org's prefix is a
//!   prefix of another's;
//! - a key, whatever it holds (`/`, `..`, `%2e%2e`, once decoded), only ever extends its
//!   own namespace's prefix: the server builds the prefix, the client only the tail;
//! - a deleted namespace's values are unreachable the moment its record is gone (their
//!   removal from KV follows), and a namespace created again under the same name starts
//!   empty.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::ErrorCode;

/// A namespace name is at most this many bytes.
pub const MAX_NAME_BYTES: usize = 63;
/// A key is at most this many bytes (KV allows 512 for the whole stored key; the
/// prefix takes 74).
pub const MAX_KEY_BYTES: usize = 400;
/// A value is at most 1 MiB (SPEC §8).
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// In a key's `namespaces`, the one entry that means every namespace of the org.
pub const ALL: &str = "*";

/// Why a name, key or prefix was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceError {
    /// Not `[a-z0-9][a-z0-9._-]{0,62}`.
    Name,
    /// Empty, longer than [`MAX_KEY_BYTES`], with a control character, or badly
    /// percent-encoded.
    Key,
    /// Longer than [`MAX_KEY_BYTES`], or with a control character.
    Prefix,
}

impl core::error::Error for NamespaceError {}

impl ErrorCode for NamespaceError {
    fn code(&self) -> &'static str {
        match self {
            Self::Name => "invalid_namespace",
            Self::Key => "invalid_key",
            Self::Prefix => "invalid_prefix",
        }
    }
}

impl fmt::Display for NamespaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name => write!(
                f,
                "a namespace name is 1-{MAX_NAME_BYTES} characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
            ),
            Self::Key => write!(
                f,
                "a key is 1-{MAX_KEY_BYTES} bytes of UTF-8 without control characters, and not \".\" or \"..\" (percent-encode it in the path)"
            ),
            Self::Prefix => write!(
                f,
                "prefix must be at most {MAX_KEY_BYTES} bytes of UTF-8 without control characters"
            ),
        }
    }
}

/// Checks a namespace name: `[a-z0-9][a-z0-9._-]{0,62}`.
pub fn check_name(name: &str) -> Result<(), NamespaceError> {
    let b = name.as_bytes();
    let ok = (1..=MAX_NAME_BYTES).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(NamespaceError::Name)
    }
}

/// Checks a key: 1 to [`MAX_KEY_BYTES`] bytes, no control character (NUL included), and
/// not `.` or `..`, which no URL path can carry as a segment (they are dot segments,
/// resolved away before routing, however they are encoded).
pub fn check_key(key: &str) -> Result<(), NamespaceError> {
    let addressable = key != "." && key != "..";
    if (1..=MAX_KEY_BYTES).contains(&key.len()) && addressable && !key.chars().any(char::is_control)
    {
        Ok(())
    } else {
        Err(NamespaceError::Key)
    }
}

/// Checks a listing prefix: at most [`MAX_KEY_BYTES`] bytes without control characters
/// (empty, `.` and `..` included: a prefix travels in the query, not the path).
pub fn check_prefix(prefix: &str) -> Result<(), NamespaceError> {
    if prefix.len() <= MAX_KEY_BYTES && !prefix.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(NamespaceError::Prefix)
    }
}

/// The key named by one path segment: percent-decoded exactly once and strictly (a `%`
/// must start two hex digits, `+` is a plus), then checked. A `/` inside a key travels
/// as `%2F`.
pub fn decode_key(segment: &str) -> Result<String, NamespaceError> {
    let key =
        crate::encoding::percent_decode(segment.as_bytes(), false).ok_or(NamespaceError::Key)?;
    check_key(&key)?;
    Ok(key)
}

/// Whether a credential granted `granted` (a key's `namespaces`) may use `name`.
#[must_use]
pub fn may_use(granted: &[String], name: &str) -> bool {
    granted.iter().any(|g| g == ALL || g == name)
}

/// Whether a credential granted `granted` reaches every namespace of its org.
#[must_use]
pub fn reaches_all(granted: &[String]) -> bool {
    granted.iter().any(|g| g == ALL)
}

/// Whether a credential granted `granted` may give a new key `asked`: never more than
/// it can use itself.
#[must_use]
pub fn covers(granted: &[String], asked: &[String]) -> bool {
    reaches_all(granted) || asked.iter().all(|a| a != ALL && may_use(granted, a))
}

/// The KV prefix of every value of a namespace: `{org id}/{namespace id}/`.
#[must_use]
pub fn storage_prefix(org_id: &str, namespace_id: &str) -> String {
    let mut prefix = String::with_capacity(org_id.len() + namespace_id.len() + 2);
    prefix.push_str(org_id);
    prefix.push('/');
    prefix.push_str(namespace_id);
    prefix.push('/');
    prefix
}

/// The KV key of `key` in a namespace whose prefix is `prefix` ([`storage_prefix`]).
#[must_use]
pub fn storage_key(prefix: &str, key: &str) -> String {
    let mut stored = String::with_capacity(prefix.len() + key.len());
    stored.push_str(prefix);
    stored.push_str(key);
    stored
}

/// The key a stored KV key names, if it is under `prefix`.
#[must_use]
pub fn key_of<'a>(prefix: &str, stored: &'a str) -> Option<&'a str> {
    stored.strip_prefix(prefix)
}

/// A listing cursor as clients see it: KV's cursor with a MAC binding it to the
/// namespace (keyed by the deployment's `HASH_SECRET`), so a cursor is opaque, cannot be
/// forged, and cannot be carried to another namespace.
#[must_use]
pub fn seal_cursor(secret: &[u8], namespace_id: &str, cursor: &str) -> String {
    let mac = cursor_mac(secret, namespace_id, cursor);
    let mut sealed = crate::encoding::b64url_encode(cursor.as_bytes());
    sealed.push('.');
    sealed.push_str(&crate::encoding::b64url_encode(&mac));
    sealed
}

/// The KV cursor inside a [`seal_cursor`] value, if it is intact and of this namespace.
#[must_use]
pub fn open_cursor(secret: &[u8], namespace_id: &str, sealed: &str) -> Option<String> {
    let (body, mac) = sealed.split_once('.')?;
    let cursor = String::from_utf8(crate::encoding::b64url_decode(body)?).ok()?;
    let mac = crate::encoding::b64url_decode(mac)?;
    crate::secret::ct_eq(&mac, &cursor_mac(secret, namespace_id, &cursor)).then_some(cursor)
}

fn cursor_mac(secret: &[u8], namespace_id: &str, cursor: &str) -> [u8; 16] {
    let full = crate::digest::hmac_sha256(
        secret,
        &[
            b"keyward namespace cursor:",
            namespace_id.as_bytes(),
            b":",
            cursor.as_bytes(),
        ],
    );
    let mut mac = [0u8; 16];
    mac.copy_from_slice(&full[..16]);
    mac
}

/// A key's `namespaces` list: [`check_name`] each, or `["*"]` alone; at most
/// `max` names; sorted and deduplicated.
pub fn check_grant(mut names: Vec<String>, max: usize) -> Result<Vec<String>, NamespaceError> {
    if names.iter().any(|n| n == ALL) {
        return if names.iter().all(|n| n == ALL) {
            Ok(alloc::vec![String::from(ALL)])
        } else {
            Err(NamespaceError::Name)
        };
    }
    if names.len() > max {
        return Err(NamespaceError::Name);
    }
    names.iter().try_for_each(|n| check_name(n))?;
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn names_follow_the_rule() {
        for good in ["a", "0", "myapp", "my-app.v2_x", &"a".repeat(63)] {
            assert_eq!(check_name(good), Ok(()), "{good:?}");
        }
        for bad in [
            "",
            "A",
            "-a",
            ".a",
            "_a",
            "a/b",
            "a b",
            "ä",
            "a\0",
            "*",
            "..",
            &"a".repeat(64),
        ] {
            assert_eq!(check_name(bad), Err(NamespaceError::Name), "{bad:?}");
        }
    }

    #[test]
    fn keys_are_any_utf8_without_control_characters() {
        for good in [
            "k",
            "a/b",
            "...",
            "../x",
            "%2e",
            "ключ",
            "a b",
            &"x".repeat(400),
        ] {
            assert_eq!(check_key(good), Ok(()), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a\0b",
            "a\nb",
            "\u{7f}",
            "\u{85}",
            &"x".repeat(401),
        ] {
            assert_eq!(check_key(bad), Err(NamespaceError::Key), "{bad:?}");
        }
        assert_eq!(check_prefix(""), Ok(()));
        assert_eq!(check_prefix(".."), Ok(()));
        assert_eq!(check_prefix("a\u{1}"), Err(NamespaceError::Prefix));
    }

    #[test]
    fn a_path_segment_is_decoded_once_and_strictly() {
        assert_eq!(decode_key("a%2Fb").as_deref(), Ok("a/b"));
        assert_eq!(
            decode_key("%252e").as_deref(),
            Ok("%2e"),
            "decoded once only"
        );
        assert_eq!(
            decode_key("a+b").as_deref(),
            Ok("a+b"),
            "a plus stays a plus"
        );
        assert_eq!(decode_key("%D0%BA").as_deref(), Ok("к"));
        for bad in ["", "%", "%2", "%zz", "%00", "a%0Ab", "%FF", "%C3"] {
            assert_eq!(decode_key(bad), Err(NamespaceError::Key), "{bad:?}");
        }
    }

    #[test]
    fn grants_reach_their_names_or_everything() {
        let some = vec![String::from("a"), String::from("b")];
        assert!(may_use(&some, "a"));
        assert!(!may_use(&some, "ab"), "no prefix match");
        assert!(!may_use(&[], "a"));
        assert!(may_use(&[String::from(ALL)], "anything"));
        assert!(reaches_all(&[String::from(ALL)]) && !reaches_all(&some));
        assert!(covers(&some, &[String::from("a")]));
        assert!(covers(&some, &[]));
        assert!(
            !covers(&some, &[String::from("c")]),
            "no wider than its creator"
        );
        assert!(!covers(&some, &[String::from(ALL)]));
        assert!(covers(&[String::from(ALL)], &[String::from(ALL)]));
        assert_eq!(
            check_grant(vec!["b".into(), "a".into(), "b".into()], 50),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            check_grant(vec!["*".into(), "*".into()], 50),
            Ok(vec!["*".into()])
        );
        assert_eq!(
            check_grant(vec!["*".into(), "a".into()], 50),
            Err(NamespaceError::Name)
        );
        assert_eq!(
            check_grant(vec!["a".into(); 3], 2),
            Err(NamespaceError::Name)
        );
    }

    #[test]
    fn cursors_are_sealed_to_their_namespace() {
        let sealed = seal_cursor(b"secret", "nsp_a", "kv-cursor/1");
        assert_eq!(
            open_cursor(b"secret", "nsp_a", &sealed).as_deref(),
            Some("kv-cursor/1")
        );
        assert_eq!(
            open_cursor(b"secret", "nsp_b", &sealed),
            None,
            "another namespace"
        );
        assert_eq!(
            open_cursor(b"other", "nsp_a", &sealed),
            None,
            "another deployment"
        );
        let (body, _) = sealed.split_once('.').expect("sealed");
        let forged = alloc::format!("{body}.{}", crate::encoding::b64url_encode(&[0u8; 16]));
        assert_eq!(open_cursor(b"secret", "nsp_a", &forged), None);
        assert_eq!(open_cursor(b"secret", "nsp_a", "bm90LWEtY3Vyc29y"), None);
    }

    #[test]
    fn layouts_keep_namespaces_and_orgs_apart() {
        let a = storage_prefix("org_1", "nsp_a");
        let ab = storage_prefix("org_1", "nsp_ab");
        assert_eq!(a, "org_1/nsp_a/");
        assert!(!ab.starts_with(&a) && !a.starts_with(&ab));
        let stored = storage_key(&a, "../nsp_ab/x");
        assert!(stored.starts_with(&a), "a key only extends its own prefix");
        assert_eq!(key_of(&a, &stored), Some("../nsp_ab/x"));
        assert_eq!(key_of(&ab, &stored), None);
    }
}
