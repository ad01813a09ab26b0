//! `application/x-www-form-urlencoded` (the token, revocation and authorization
//! endpoints' bodies, and query strings), decoded strictly: a `%` must start two hex
//! digits, the decoded bytes must be UTF-8, and no name may appear twice (RFC 6749 §3.1,
//! §3.2: "parameters MUST NOT be included more than once").

use alloc::string::String;
use alloc::vec::Vec;

/// Why a form was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    /// Bad percent-encoding or invalid UTF-8.
    Malformed,
    /// A parameter given more than once.
    Repeated,
}

/// The pairs of a form body or query string, in order.
pub fn parse(input: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let name = decode(name)?;
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(FormError::Repeated);
        }
        pairs.push((name, decode(value)?));
    }
    Ok(pairs)
}

fn decode(bytes: &[u8]) -> Result<String, FormError> {
    crate::encoding::percent_decode(bytes, true).ok_or(FormError::Malformed)
}

/// The value of `name` among decoded `pairs` (a name appears at most once).
#[must_use]
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Appends `text` form-encoded (unreserved bytes kept, space as `+`, the rest `%XX`).
pub fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// `name=value&…` of `pairs`, form-encoded.
#[must_use]
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, name);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn forms_decode_strictly_and_round_trip() {
        let pairs = parse(b"grant_type=authorization_code&code=a%2Bb&state=x+y&empty=&flag")
            .expect("valid");
        assert_eq!(
            pairs,
            vec![
                ("grant_type".to_string(), "authorization_code".to_string()),
                ("code".to_string(), "a+b".to_string()),
                ("state".to_string(), "x y".to_string()),
                ("empty".to_string(), String::new()),
                ("flag".to_string(), String::new()),
            ]
        );
        assert_eq!(value(&pairs, "state"), Some("x y"));
        assert_eq!(value(&pairs, "missing"), None);
        assert_eq!(parse(b"a=1&a=2"), Err(FormError::Repeated));
        assert_eq!(parse(b"a=%zz"), Err(FormError::Malformed));
        assert_eq!(parse(b"a=%2"), Err(FormError::Malformed));
        assert_eq!(parse(b"a=%ff%fe"), Err(FormError::Malformed), "not UTF-8");
        assert_eq!(parse(b"a=\xff"), Err(FormError::Malformed));
        let encoded = encode(&[("code", "a+b/c"), ("state", "x y&z=é")]);
        assert_eq!(encoded, "code=a%2Bb%2Fc&state=x+y%26z%3D%C3%A9");
        let back = parse(encoded.as_bytes()).expect("valid");
        assert_eq!(back[1].1, "x y&z=é");
    }
}
