//! Scopes (RFC 6749 §3.3): space-separated tokens of `%x21 / %x23-5B / %x5D-7E`. A set
//! is kept sorted and without duplicates, so two spellings of one set compare equal. The
//! deployment offers a set (`OAUTH_SCOPE`, default `keyward:api`); a request without
//! `scope` gets all of it, and a refresh may only keep or narrow what was granted.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The longest `scope` parameter accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 1000;

/// A set of scope tokens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scopes(Vec<String>);

/// A `scope` that is empty, too long, or has characters RFC 6749 §3.3 does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedScope;

/// A scope outside what is offered or granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// Not a valid `scope` value.
    Malformed,
    /// Names a scope not in the set it must stay within.
    Wider,
}

impl Scopes {
    /// Parses a non-empty `scope` value.
    pub fn parse(text: &str) -> Result<Self, MalformedScope> {
        if text.is_empty() || text.len() > MAX_SCOPE_LEN {
            return Err(MalformedScope);
        }
        let mut tokens = Vec::new();
        for token in text.split(' ') {
            let valid = !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(MalformedScope);
            }
            tokens.push(token.to_string());
        }
        tokens.sort();
        tokens.dedup();
        Ok(Self(tokens))
    }

    /// All of this set: what a request without `scope` gets.
    #[must_use]
    pub fn default_scope(&self) -> Self {
        self.clone()
    }

    /// The set `asked` names, if it stays within `self`.
    pub fn narrow(&self, asked: &str) -> Result<Self, ScopeRefusal> {
        let asked = Self::parse(asked).map_err(|_| ScopeRefusal::Malformed)?;
        if asked.is_within(self) {
            Ok(asked)
        } else {
            Err(ScopeRefusal::Wider)
        }
    }

    /// Whether every token of `self` is in `outer`.
    #[must_use]
    pub fn is_within(&self, outer: &Self) -> bool {
        self.0.iter().all(|t| outer.0.contains(t))
    }

    /// The `scope` value: tokens sorted, separated by spaces.
    #[must_use]
    pub fn to_scope_string(&self) -> String {
        self.0.join(" ")
    }

    /// The tokens.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_compare_by_content_and_narrow_only_inward() {
        let offered = Scopes::parse("keyward:api keyward:read").expect("valid");
        assert_eq!(
            Scopes::parse("keyward:read keyward:api keyward:api"),
            Ok(offered.clone())
        );
        assert_eq!(offered.to_scope_string(), "keyward:api keyward:read");
        assert_eq!(
            offered.narrow("keyward:read").map(|s| s.to_scope_string()),
            Ok("keyward:read".into())
        );
        assert_eq!(
            offered.narrow("keyward:read admin"),
            Err(ScopeRefusal::Wider)
        );
        for bad in ["", " ", "a  b", "a\"b", "a\\b", "caf\u{e9}", "a\tb", " a"] {
            assert_eq!(Scopes::parse(bad), Err(MalformedScope), "{bad:?}");
            assert_eq!(offered.narrow(bad), Err(ScopeRefusal::Malformed), "{bad:?}");
        }
        assert_eq!(
            Scopes::parse(&"a".repeat(MAX_SCOPE_LEN + 1)),
            Err(MalformedScope)
        );
        assert!(
            Scopes::parse("keyward:api")
                .expect("valid")
                .is_within(&offered)
        );
    }
}
