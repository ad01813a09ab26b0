//! Server-rendered HTML (the OAuth sign-in, consent and error pages): one layout, one
//! inline stylesheet allowed by its hash, no script, nothing from another origin, and
//! the headers SPEC §4 asks of every page.

use keyward_core::digest::sha256;
use keyward_core::encoding::b64_encode;
use worker::{Headers, Response};

/// The one stylesheet: readable at 320 px, visible focus, no external fonts.
const STYLE: &str = "\
:root{color-scheme:light dark;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.5}\
body{margin:0;background:#f4f5f7;color:#1d2330}\
main{box-sizing:border-box;max-width:26rem;margin:3rem auto;padding:1.75rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}\
h1{font-size:1.35rem;margin:0 0 .75rem}\
p{margin:.5rem 0}\
.app{font-weight:600;overflow-wrap:anywhere}\
.muted{color:#5b6476;font-size:.9rem;overflow-wrap:anywhere}\
.error{background:#fdecec;color:#8a1c1c;border-radius:8px;padding:.6rem .8rem}\
label{display:block;margin:.9rem 0 .3rem;font-weight:600}\
input[type=email],input[type=password]{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #b8bfcc;border-radius:8px;font:inherit}\
fieldset{border:1px solid #d5d9e1;border-radius:8px;margin:1rem 0;padding:.5rem .9rem}\
legend{font-weight:600;padding:0 .3rem}\
.org{display:flex;gap:.5rem;align-items:baseline;margin:.4rem 0;font-weight:400}\
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}\
.grants{list-style:none;padding:0;margin:1rem 0 0}\
.grant{border-top:1px solid #d5d9e1;padding:.75rem 0}\
.grant p{margin:.2rem 0}.grant form{margin-top:.4rem}\
button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #2856c3;background:#2856c3;color:#fff;cursor:pointer}\
button.secondary{background:transparent;color:#2856c3}\
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}\
@media (prefers-color-scheme:dark){body{background:#14171c;color:#e7e9ee}main{background:#1e222a;box-shadow:none}.muted{color:#a3abba}\
input[type=email],input[type=password]{background:#14171c;color:#e7e9ee;border-color:#4a5262}fieldset{border-color:#3a4150}\
button.secondary{color:#8fb0ff;border-color:#8fb0ff}.error{background:#3d1d1d;color:#ffc9c9}}\
@media (max-width:480px){main{margin:0;border-radius:0;min-height:100vh;padding:1.25rem}}";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` (escaped here) and `body` (already escaped HTML).
pub fn page(status: u16, title: &str, body: &str, extra_headers: &[(&str, String)]) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    );
    let headers = Headers::new();
    let style_hash = b64_encode(&sha256(STYLE.as_bytes()));
    let _ = headers.set("Content-Type", "text/html; charset=utf-8");
    let _ = headers.set(
        "Content-Security-Policy",
        &format!(
            "default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
    );
    let _ = headers.set("X-Frame-Options", "DENY");
    let _ = headers.set("Referrer-Policy", "no-referrer");
    let _ = headers.set("Cache-Control", "no-store");
    for (name, value) in extra_headers {
        let _ = headers.append(name, value);
    }
    Response::from_html(html)
        .expect("the runtime builds an HTML response")
        .with_status(status)
        .with_headers(headers)
}

/// A 303 to `location` (after every POST), with `extra_headers` (a cookie).
pub fn see_other(location: &str, extra_headers: &[(&str, String)]) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    let _ = headers.set("Cache-Control", "no-store");
    let _ = headers.set("Referrer-Policy", "no-referrer");
    for (name, value) in extra_headers {
        let _ = headers.append(name, value);
    }
    Response::empty()
        .expect("the runtime builds an empty response")
        .with_status(303)
        .with_headers(headers)
}

/// An error page: never a redirect.
pub fn error_page(status: u16, message: &str) -> Response {
    page(
        status,
        "Cannot continue",
        &format!(
            "<h1>Cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p class=\"muted\">Return to the application and start again.</p>",
            escape(message)
        ),
        &[],
    )
}
