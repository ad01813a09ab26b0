//! Redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7.3 and §8.3, RFC 9700 §4.1): what a client
//! may register, and whether a presented `redirect_uri` matches a registered one.
//!
//! Registration accepts `https://` URIs, and `http://` only on a loopback host
//! (`localhost`, `127.0.0.1`, `[::1]`). Refused: any other scheme (`javascript:`,
//! `data:`, private-use schemes), a fragment, userinfo (`user@host`), whitespace,
//! control or non-ASCII characters (they must arrive percent-encoded), malformed
//! percent-encoding, dot segments (`.`, `..`, or their `%2e` spellings), backslashes,
//! IP literals other than the loopback ones, and anything longer than
//! [`MAX_REDIRECT_URI_LEN`].
//!
//! Matching is byte-exact on the path and query. The scheme and host compare
//! case-insensitively (RFC 3986 §6.2.2.1: they are case-insensitive by definition); the
//! port compares exactly, so `https://a.example/cb` and `https://a.example:443/cb` are
//! different URIs. The one exception is RFC 8252 §7.3: for `http://127.0.0.1` and
//! `http://[::1]` any port matches, since a native app listens on whatever port it got.
//! `localhost` gets no such exception: it is a name that can resolve elsewhere (RFC 8252
//! §8.3), so a client that registers it must present the port it registered.

use alloc::string::{String, ToString};
use core::fmt;

use crate::error::ErrorCode;

/// The longest redirect URI accepted, in bytes.
pub const MAX_REDIRECT_URI_LEN: usize = 2000;
/// The most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 20;

/// Why a redirect URI is refused at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectError {
    /// Empty or longer than [`MAX_REDIRECT_URI_LEN`].
    Length,
    /// Whitespace, a control character or a non-ASCII character.
    Characters,
    /// Not `https://`, or `http://` on a loopback host.
    Scheme,
    /// `http://` on a host that is not loopback.
    HttpNotLoopback,
    /// A `#` fragment (RFC 6749 §3.1.2).
    Fragment,
    /// `user@` before the host.
    Userinfo,
    /// A host that is not a DNS name or a loopback IP literal.
    Host,
    /// A port that is not 1 to 65535 in plain digits.
    Port,
    /// `%` not followed by two hex digits.
    PercentEncoding,
    /// A `.` or `..` segment (also spelled `%2e`), or a backslash.
    DotSegment,
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "redirect URI is empty or longer than 2000 characters",
            Self::Characters => {
                "redirect URI has whitespace, control or non-ASCII characters (percent-encode them)"
            }
            Self::Scheme => "redirect URI must be https://, or http:// on a loopback host",
            Self::HttpNotLoopback => {
                "http:// redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]"
            }
            Self::Fragment => "redirect URI must not have a fragment",
            Self::Userinfo => "redirect URI must not have userinfo (user@host)",
            Self::Host => "redirect URI host is not a DNS name or a loopback IP literal",
            Self::Port => "redirect URI port must be 1-65535",
            Self::PercentEncoding => "redirect URI has malformed percent-encoding",
            Self::DotSegment => "redirect URI path must not have . or .. segments or backslashes",
        })
    }
}

impl core::error::Error for RedirectError {}

impl ErrorCode for RedirectError {
    fn code(&self) -> &'static str {
        "invalid_redirect_uri"
    }
}

/// The host of a redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    /// A DNS name, lowercased (`localhost` included).
    Name(String),
    /// `127.0.0.1`.
    Loopback4,
    /// `[::1]`.
    Loopback6,
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Self::Name(name) => name == "localhost",
            Self::Loopback4 | Self::Loopback6 => true,
        }
    }
}

/// A registered (or presented) redirect URI, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri {
    text: String,
    https: bool,
    host: Host,
    port: Option<u16>,
    /// Path and query, exactly as given.
    rest: String,
}

impl RedirectUri {
    /// Checks a URI under the registration rules of the module doc.
    pub fn parse(text: &str) -> Result<Self, RedirectError> {
        if text.is_empty() || text.len() > MAX_REDIRECT_URI_LEN {
            return Err(RedirectError::Length);
        }
        if !text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(RedirectError::Characters);
        }
        if text.contains('#') {
            return Err(RedirectError::Fragment);
        }
        let (scheme, after) = text.split_once("://").ok_or(RedirectError::Scheme)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(RedirectError::Scheme),
        };
        let split = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(split);
        if authority.contains('@') {
            return Err(RedirectError::Userinfo);
        }
        let (host, port) = host_and_port(authority)?;
        if !https && !host.is_loopback() {
            return Err(RedirectError::HttpNotLoopback);
        }
        check_path_and_query(rest)?;
        Ok(Self {
            text: text.to_string(),
            https,
            host,
            port,
            rest: rest.to_string(),
        })
    }

    /// Checks a web origin (`CORS_ALLOWED_ORIGINS`) under the same scheme and host rules:
    /// `https://host[:port]`, or `http://` on a loopback host, with no path, query or
    /// upper case (browsers send origins lowercase, and they are compared exactly).
    pub fn web_origin(text: &str) -> Result<Self, RedirectError> {
        let origin = Self::parse(text)?;
        if !origin.rest.is_empty() || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(RedirectError::Characters);
        }
        Ok(origin)
    }

    /// The URI as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `presented` names this registered URI (see the module doc).
    #[must_use]
    pub fn matches(&self, presented: &str) -> bool {
        let Ok(other) = Self::parse(presented) else {
            return false;
        };
        let any_port = !self.https && matches!(self.host, Host::Loopback4 | Host::Loopback6);
        self.https == other.https
            && self.host == other.host
            && (any_port || self.port == other.port)
            && self.rest == other.rest
    }
}

fn host_and_port(authority: &str) -> Result<(Host, Option<u16>), RedirectError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']').ok_or(RedirectError::Host)?;
        if inner != "::1" {
            return Err(RedirectError::Host);
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(RedirectError::Port)?),
        };
        (Host::Loopback6, port)
    } else {
        let (name, port) = match authority.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        (dns_or_ipv4(name)?, port)
    };
    let port = port.map(parse_port).transpose()?;
    Ok((host, port))
}

fn parse_port(text: &str) -> Result<u16, RedirectError> {
    let plain = !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u16>() {
        Ok(port) if plain && port > 0 && !text.starts_with('0') => Ok(port),
        _ => Err(RedirectError::Port),
    }
}

/// A DNS name (lowercased) or `127.0.0.1`; other IPv4 literals are refused.
fn dns_or_ipv4(name: &str) -> Result<Host, RedirectError> {
    let lower = name.to_ascii_lowercase();
    if lower
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    {
        return if lower == "127.0.0.1" {
            Ok(Host::Loopback4)
        } else {
            Err(RedirectError::Host)
        };
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let body = lower.strip_suffix('.').unwrap_or(&lower);
    if body.len() > 253 || !body.split('.').all(label_ok) {
        return Err(RedirectError::Host);
    }
    // A trailing dot names the same host another way: refuse rather than normalise.
    if lower.ends_with('.') {
        return Err(RedirectError::Host);
    }
    Ok(Host::Name(lower))
}

fn check_path_and_query(rest: &str) -> Result<(), RedirectError> {
    if rest.contains('\\') {
        return Err(RedirectError::DotSegment);
    }
    let bytes = rest.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(RedirectError::PercentEncoding);
        }
    }
    let path = rest.split('?').next().unwrap_or("");
    let dotted = |segment: &str| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    };
    if path.split('/').any(dotted) {
        return Err(RedirectError::DotSegment);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registration: each URI and whether it is accepted (`Ok`) or why not.
    const REGISTRATION: &[(&str, Result<(), RedirectError>)] = &[
        ("https://app.example/callback", Ok(())),
        ("https://app.example/callback?x=1&y=2", Ok(())),
        ("https://app.example", Ok(())),
        ("https://app.example:8443/cb", Ok(())),
        ("HTTPS://App.Example/cb", Ok(())),
        ("https://a-b.c.example/cb%20x", Ok(())),
        ("http://localhost/cb", Ok(())),
        ("http://localhost:7777/cb", Ok(())),
        ("http://127.0.0.1/cb", Ok(())),
        ("http://127.0.0.1:49152/cb", Ok(())),
        ("http://[::1]/cb", Ok(())),
        ("http://[::1]:8080/cb", Ok(())),
        ("https://127.0.0.1.evil.com/cb", Ok(())),
        (
            "http://127.0.0.1.evil.com/cb",
            Err(RedirectError::HttpNotLoopback),
        ),
        (
            "http://localhost.evil.com/cb",
            Err(RedirectError::HttpNotLoopback),
        ),
        ("http://app.example/cb", Err(RedirectError::HttpNotLoopback)),
        ("http://10.0.0.1/cb", Err(RedirectError::Host)),
        ("https://192.168.1.1/cb", Err(RedirectError::Host)),
        ("http://[::2]/cb", Err(RedirectError::Host)),
        ("http://[::1/cb", Err(RedirectError::Host)),
        ("JaVaScRiPt:alert(1)", Err(RedirectError::Scheme)),
        (
            "javascript://app.example/%0aalert(1)",
            Err(RedirectError::Scheme),
        ),
        ("data:text/html,hi", Err(RedirectError::Scheme)),
        ("com.example.app:/callback", Err(RedirectError::Scheme)),
        ("ftp://app.example/cb", Err(RedirectError::Scheme)),
        ("//app.example/cb", Err(RedirectError::Scheme)),
        ("/relative/cb", Err(RedirectError::Scheme)),
        ("https://app.example/cb#frag", Err(RedirectError::Fragment)),
        ("https://app.example/cb#", Err(RedirectError::Fragment)),
        ("https://user@app.example/cb", Err(RedirectError::Userinfo)),
        (
            "https://app.example@evil.example/cb",
            Err(RedirectError::Userinfo),
        ),
        (
            "https://user:pw@app.example/cb",
            Err(RedirectError::Userinfo),
        ),
        ("https://app.example/c b", Err(RedirectError::Characters)),
        ("https://app.example/cb\n", Err(RedirectError::Characters)),
        (
            "https://app.example/cb\u{0}",
            Err(RedirectError::Characters),
        ),
        (
            "https://app.example/caf\u{e9}",
            Err(RedirectError::Characters),
        ),
        (" https://app.example/cb", Err(RedirectError::Characters)),
        (
            "https://app.example/../admin",
            Err(RedirectError::DotSegment),
        ),
        ("https://app.example/a/./b", Err(RedirectError::DotSegment)),
        (
            "https://app.example/%2E%2E/admin",
            Err(RedirectError::DotSegment),
        ),
        (
            "https://app.example/%2e./admin",
            Err(RedirectError::DotSegment),
        ),
        ("https://app.example/a\\b", Err(RedirectError::DotSegment)),
        ("https://app.example/%252E%252E/x", Ok(())),
        (
            "https://app.example/%zz",
            Err(RedirectError::PercentEncoding),
        ),
        (
            "https://app.example/%2",
            Err(RedirectError::PercentEncoding),
        ),
        ("https://app.example:0/cb", Err(RedirectError::Port)),
        ("https://app.example:65536/cb", Err(RedirectError::Port)),
        ("https://app.example:/cb", Err(RedirectError::Port)),
        ("https://app.example:08080/cb", Err(RedirectError::Port)),
        ("https://app.example:+80/cb", Err(RedirectError::Port)),
        ("https://app.example./cb", Err(RedirectError::Host)),
        ("https://-app.example/cb", Err(RedirectError::Host)),
        ("https://app..example/cb", Err(RedirectError::Host)),
        ("https:///cb", Err(RedirectError::Host)),
        ("https://app_example.com/cb", Err(RedirectError::Host)),
        ("", Err(RedirectError::Length)),
    ];

    #[test]
    fn registration_accepts_and_refuses_as_pinned() {
        assert!(REGISTRATION.len() >= 40);
        for (uri, expected) in REGISTRATION {
            assert_eq!(RedirectUri::parse(uri).map(|_| ()), *expected, "{uri:?}");
        }
        let long = alloc::format!("https://app.example/{}", "a".repeat(MAX_REDIRECT_URI_LEN));
        assert_eq!(RedirectUri::parse(&long), Err(RedirectError::Length));
    }

    /// Matching: (registered, presented, matches).
    const MATCHING: &[(&str, &str, bool)] = &[
        ("https://app.example/cb", "https://app.example/cb", true),
        ("https://app.example/cb", "HTTPS://APP.EXAMPLE/cb", true),
        ("https://app.example/cb", "https://app.example/CB", false),
        (
            "https://app.example/cb",
            "https://app.example:443/cb",
            false,
        ),
        (
            "https://app.example:443/cb",
            "https://app.example/cb",
            false,
        ),
        ("https://app.example/cb", "https://app.example/cb/", false),
        (
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            false,
        ),
        (
            "https://app.example/cb?x=1",
            "https://app.example/cb?x=1",
            true,
        ),
        (
            "https://app.example/cb?x=1",
            "https://app.example/cb?x=1&y=2",
            false,
        ),
        (
            "https://app.example/cb",
            "https://app.example/cb/../cb",
            false,
        ),
        ("https://app.example/cb", "https://app.example/%63b", false),
        (
            "https://app.example/cb",
            "https://app.example.evil.com/cb",
            false,
        ),
        (
            "https://app.example/cb",
            "https://evil.com@app.example/cb",
            false,
        ),
        ("https://app.example/cb", "https://app.example/cb#x", false),
        ("https://app.example/cb", "http://app.example/cb", false),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", true),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1:9000/cb", true),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51234/other", false),
        ("http://[::1]/cb", "http://[::1]:6000/cb", true),
        ("http://[::1]/cb", "http://127.0.0.1:6000/cb", false),
        ("http://localhost:7777/cb", "http://localhost:7777/cb", true),
        (
            "http://localhost:7777/cb",
            "http://localhost:7778/cb",
            false,
        ),
        ("http://localhost/cb", "http://localhost:7777/cb", false),
        ("http://localhost/cb", "http://127.0.0.1/cb", false),
        ("https://127.0.0.1/cb", "https://127.0.0.1:9/cb", false),
        ("https://app.example/cb", "not a uri", false),
    ];

    #[test]
    fn web_origins_are_bare_lowercase_and_https_or_loopback() {
        for good in [
            "https://app.example",
            "https://app.example:8443",
            "http://127.0.0.1:5173",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert!(RedirectUri::web_origin(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example",
            "https://app.example/",
            "https://App.example",
            "https://a.example/x",
            "https://u@a.example",
            "ftp://a.example",
            "https://",
            "*",
        ] {
            assert!(RedirectUri::web_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_but_for_case_and_loopback_ip_ports() {
        for (registered, presented, expected) in MATCHING {
            let registered = RedirectUri::parse(registered).expect("registrable");
            assert_eq!(
                registered.matches(presented),
                *expected,
                "{} vs {presented}",
                registered.as_str()
            );
        }
    }
}
