//! Where webhooks may be delivered (issue 10): the rules for an endpoint's URL, checked at
//! registration and again before every delivery, so that no endpoint can point the
//! service at its own network (SSRF).
//!
//! - `https://` only; `http://` only on a loopback host and only in development.
//! - No userinfo (`user@host`), no fragment, no whitespace, control or non-ASCII bytes
//!   (they must arrive percent-encoded), at most [`MAX_URL_LEN`] bytes.
//! - A host that is an IP literal is read the way URL parsers and resolvers read it,
//!   alternate spellings included: `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`,
//!   `[::ffff:127.0.0.1]`, `[0:0:0:0:0:ffff:7f00:1]` are all 127.0.0.1. In production an
//!   address in a private, loopback, link-local, shared, documentation, benchmarking,
//!   multicast or reserved range is refused (IPv6: anything outside global unicast, and
//!   IPv4-mapped, NAT64 and 6to4 forms by the IPv4 address they carry).
//! - In production the names `localhost`, `*.localhost`, `*.local`, `*.internal`,
//!   `*.home.arpa` and single-label names are refused too: they only ever mean a local
//!   network. A public name that resolves to a private address is the platform's to
//!   stop (a Worker's `fetch` does not reach private networks); redirects are never
//!   followed, so an answer cannot send a delivery elsewhere.

use alloc::string::{String, ToString};
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::error::ErrorCode;

/// The longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2000;

/// Which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployment {
    /// `ENVIRONMENT=production` (the default): public `https://` hosts only.
    Production,
    /// `ENVIRONMENT=development`: also `http://` on loopback, and local addresses.
    Development,
}

/// Why an endpoint URL is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookUrlError {
    /// Empty, too long, or with bytes that must be percent-encoded.
    Malformed,
    /// Not `https://` (or `http://` on loopback in development).
    Scheme,
    /// `user@host`.
    Userinfo,
    /// A `#fragment`.
    Fragment,
    /// A host that is neither a DNS name nor an IP address, or a bad port.
    Host,
    /// An address or name of a private, local or otherwise special network.
    PrivateAddress,
}

impl core::error::Error for WebhookUrlError {}

impl ErrorCode for WebhookUrlError {
    fn code(&self) -> &'static str {
        "invalid_url"
    }
}

impl fmt::Display for WebhookUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "url must be at most 2000 bytes of printable ASCII",
            Self::Scheme => "url must be https:// (http:// only on a loopback host in development)",
            Self::Userinfo => "url must not contain userinfo (user@host)",
            Self::Fragment => "url must not contain a fragment",
            Self::Host => "url host must be a DNS name or an IP address, with a valid port",
            Self::PrivateAddress => {
                "url must not point at a private, loopback, link-local or otherwise special address"
            }
        })
    }
}

/// A checked endpoint URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks `text` under the rules of `deployment` (module doc).
    pub fn parse(text: &str, deployment: Deployment) -> Result<Self, WebhookUrlError> {
        if text.is_empty()
            || text.len() > MAX_URL_LEN
            || !text.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(WebhookUrlError::Malformed);
        }
        if text.contains('#') {
            return Err(WebhookUrlError::Fragment);
        }
        let (scheme, after) = text.split_once("://").ok_or(WebhookUrlError::Scheme)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(WebhookUrlError::Scheme),
        };
        let end = after.find(['/', '?', '\\']).unwrap_or(after.len());
        if after[end..].starts_with('\\') {
            return Err(WebhookUrlError::Host);
        }
        let authority = &after[..end];
        if authority.contains('@') {
            return Err(WebhookUrlError::Userinfo);
        }
        let host = host_of(authority)?;
        let local = host.is_local();
        match (https, deployment) {
            (false, Deployment::Development) if host.is_loopback() => {}
            (false, _) => return Err(WebhookUrlError::Scheme),
            (true, Deployment::Production) if local => return Err(WebhookUrlError::PrivateAddress),
            (true, _) => {}
        }
        Ok(Self(text.to_string()))
    }

    /// The URL as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Self::Name(n) => n == "localhost",
            Self::V4(a) => a.octets()[0] == 127,
            Self::V6(a) => *a == Ipv6Addr::LOCALHOST,
        }
    }

    /// Whether the host can only mean a local or special network.
    fn is_local(&self) -> bool {
        match self {
            Self::Name(n) => {
                !n.contains('.')
                    || [
                        ".localhost",
                        ".local",
                        ".internal",
                        ".home.arpa",
                        ".localdomain",
                    ]
                    .iter()
                    .any(|s| n.ends_with(s))
            }
            Self::V4(a) => special_v4(*a),
            Self::V6(a) => special_v6(*a),
        }
    }
}

/// The host (and a valid port) of an authority.
fn host_of(authority: &str) -> Result<Host, WebhookUrlError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, rest) = v6.split_once(']').ok_or(WebhookUrlError::Host)?;
        let address: Ipv6Addr = inner.parse().map_err(|_| WebhookUrlError::Host)?;
        let port = match rest {
            "" => None,
            r => Some(r.strip_prefix(':').ok_or(WebhookUrlError::Host)?),
        };
        (Host::V6(address), port)
    } else {
        let (name, port) = match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        let name = name.to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name).to_string();
        (classify_name(&name)?, port)
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(WebhookUrlError::Host);
        }
    }
    Ok(host)
}

/// A DNS name, or an IPv4 address in any spelling a URL parser accepts (WHATWG: a host
/// whose last label is a number is an IPv4 address, and must then be a valid one).
fn classify_name(name: &str) -> Result<Host, WebhookUrlError> {
    if name.is_empty() || name.len() > 253 {
        return Err(WebhookUrlError::Host);
    }
    let last = name.rsplit('.').next().unwrap_or_default();
    let numeric =
        !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x"));
    if numeric {
        return lenient_ipv4(name)
            .map(Host::V4)
            .ok_or(WebhookUrlError::Host);
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.split('.').all(label_ok) {
        Ok(Host::Name(name.to_string()))
    } else {
        Err(WebhookUrlError::Host)
    }
}

/// WHATWG's IPv4 parser: 1-4 parts, each decimal, octal (`0` prefix) or hex (`0x`); the
/// last part fills the remaining bytes.
fn lenient_ipv4(text: &str) -> Option<Ipv4Addr> {
    let parts: alloc::vec::Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = alloc::vec::Vec::with_capacity(4);
    for part in &parts {
        let (digits, radix) =
            if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (hex, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        let value = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        numbers.push(value);
    }
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|n| *n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut address = *last;
    for (i, n) in leading.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(address).ok()?))
}

/// IPv4 ranges that are not public (IANA special-purpose registry).
fn special_v4(a: Ipv4Addr) -> bool {
    let [b0, b1, b2, _] = a.octets();
    b0 == 0
        || b0 == 10
        || b0 == 127
        || (b0 == 100 && (64..128).contains(&b1))
        || (b0 == 169 && b1 == 254)
        || (b0 == 172 && (16..32).contains(&b1))
        || (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2))
        || (b0 == 192 && b1 == 88 && b2 == 99)
        || (b0 == 192 && b1 == 168)
        || (b0 == 198 && (b1 == 18 || b1 == 19))
        || (b0 == 198 && b1 == 51 && b2 == 100)
        || (b0 == 203 && b1 == 0 && b2 == 113)
        || b0 >= 224
}

/// IPv6: only global unicast (2000::/3) that is not documentation, Teredo or ORCHID;
/// forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by it.
fn special_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    if let Some(v4) = a.to_ipv4_mapped() {
        return special_v4(v4);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        // NAT64 (64:ff9b::/96 and 64:ff9b:1::/48): the IPv4 address in the last 32 bits.
        return special_v4(Ipv4Addr::from(((u32::from(s[6])) << 16) | u32::from(s[7])));
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address in bits 16-47.
        return special_v4(Ipv4Addr::from(((u32::from(s[1])) << 16) | u32::from(s[2])));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8 || s[0] == 0x3fff && s[1] < 0x1000;
    let teredo_or_orchid = s[0] == 0x2001 && (s[1] == 0 || (0x10..0x30).contains(&s[1]));
    !global_unicast || documentation || teredo_or_orchid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod(url: &str) -> Result<WebhookUrl, WebhookUrlError> {
        WebhookUrl::parse(url, Deployment::Production)
    }

    #[test]
    fn public_https_urls_are_accepted() {
        for url in [
            "https://hooks.example.com/keyward",
            "https://HOOKS.Example.com:8443/a?b=c",
            "https://8.8.8.8/hook",
            "https://[2606:4700:4700::1111]/hook",
            "https://hooks.example.com./x",
        ] {
            assert!(prod(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn local_and_special_targets_are_refused_in_production() {
        let refused = [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f.0.0.1/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://017700000001/",
            "https://0/",
            "https://0.0.0.0/",
            "https://10.0.0.1/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://198.18.0.1/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[0:0:0:0:0:ffff:7f00:1]/",
            "https://[fe80::1]/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[2002:c0a8:0101::1]/",
            "https://[2001:db8::1]/",
            "https://[ff02::1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://intranet/",
        ];
        assert!(refused.len() >= 25);
        for url in refused {
            assert!(prod(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn malformed_and_tricky_urls_are_refused() {
        let cases = [
            ("http://hooks.example.com/", WebhookUrlError::Scheme),
            ("ftp://hooks.example.com/", WebhookUrlError::Scheme),
            ("javascript:alert(1)", WebhookUrlError::Scheme),
            (
                "https://user:pass@hooks.example.com/",
                WebhookUrlError::Userinfo,
            ),
            (
                "https://hooks.example.com@127.0.0.1/",
                WebhookUrlError::Userinfo,
            ),
            ("https://hooks.example.com/#frag", WebhookUrlError::Fragment),
            ("https://hooks.example.com/ a", WebhookUrlError::Malformed),
            (
                "https://hooks.example.com\\@127.0.0.1/",
                WebhookUrlError::Host,
            ),
            ("https://256.0.0.1/", WebhookUrlError::Host),
            ("https://1.2.3.4.5/", WebhookUrlError::Host),
            ("https://hooks.example.com:0/", WebhookUrlError::Host),
            ("https://hooks.example.com:99999/", WebhookUrlError::Host),
            ("https://[::1/", WebhookUrlError::Host),
            ("https://-bad-.example/", WebhookUrlError::Host),
            ("", WebhookUrlError::Malformed),
        ];
        for (url, expected) in cases {
            assert_eq!(prod(url), Err(expected), "{url}");
        }
    }

    #[test]
    fn development_allows_http_on_loopback_only() {
        let dev = |u| WebhookUrl::parse(u, Deployment::Development);
        assert!(dev("http://127.0.0.1:8080/hook").is_ok());
        assert!(dev("http://localhost:3000/hook").is_ok());
        assert!(dev("http://[::1]:3000/hook").is_ok());
        assert!(
            dev("https://10.0.0.1/").is_ok(),
            "local addresses over https, in development"
        );
        assert_eq!(
            dev("http://hooks.example.com/"),
            Err(WebhookUrlError::Scheme)
        );
        assert_eq!(
            prod("http://127.0.0.1:8080/hook"),
            Err(WebhookUrlError::Scheme)
        );
    }

    #[test]
    fn ipv4_spellings_are_read_as_url_parsers_read_them() {
        for (text, expected) in [
            ("2130706433", [127, 0, 0, 1]),
            ("0177.0.0.1", [127, 0, 0, 1]),
            ("0x7f.1", [127, 0, 0, 1]),
            ("127.1", [127, 0, 0, 1]),
            ("10.1.65535", [10, 1, 255, 255]),
        ] {
            assert_eq!(lenient_ipv4(text), Some(Ipv4Addr::from(expected)), "{text}");
        }
        assert_eq!(lenient_ipv4("4294967296"), None);
        assert_eq!(lenient_ipv4("1.256.0.0"), None);
    }
}
