//! The one place where outcomes become HTTP: status codes, the three response families,
//! the 401 rule, security headers and `X-Request-Id`.

use serde_json::{Value, json};
use worker::{Headers, Response};

/// JSON request bodies larger than this are refused with 413 (SPEC §8).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Which error shape a path answers with (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `/v1/*`: `{"success": …, "data" | "error"}`.
    V1,
    /// `/auth/*`, `/entities/*`, `/admin/*`, `/health`: bare bodies, `{"error": {…}}`.
    Bare,
    /// `/oauth/*`: RFC 6749 §5.2 bodies, `{"error", "error_description"}`.
    OAuth,
}

impl Family {
    pub fn of(path: &str) -> Self {
        // Read as routing reads it (`routes::dispatch` ignores extra leading slashes), so
        // `//v1/…` is answered in the shape of the route that serves it.
        let path = path.trim_start_matches('/');
        if path == "v1" || path.starts_with("v1/") {
            Self::V1
        } else if path.starts_with("oauth/") {
            Self::OAuth
        } else {
            Self::Bare
        }
    }
}

/// Paths any web origin may call without credentials (SPEC §4): the OAuth endpoints a
/// single-page app uses, and the discovery documents.
pub fn is_public_cors(path: &str) -> bool {
    matches!(
        path,
        "/oauth/token"
            | "/oauth/revoke"
            | "/oauth/register"
            | "/.well-known/oauth-authorization-server"
            | "/.well-known/oauth-protected-resource"
            | "/.well-known/jwks.json"
    )
}

/// The request's `Origin`, if it is one of `allowed` (`CORS_ALLOWED_ORIGINS`) and the
/// path is one browser clients of the API use (`/v1/*`, `/auth/*`, `/entities*`).
pub fn cors_origin(req: &worker::Request, path: &str, allowed: &[String]) -> Option<String> {
    let api = path.starts_with("/v1/")
        || path.starts_with("/auth/")
        || path == "/entities"
        || path.starts_with("/entities/");
    let origin = req.headers().get("Origin").ok().flatten()?;
    (api && allowed.contains(&origin)).then_some(origin)
}

/// A refusal, rendered by [`error_response`].
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 401 under the 401 rule: one message for every reason.
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "authentication failed: provide a valid bearer credential",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    /// 403 with a precise code, for a caller who proved who they are.
    pub fn forbidden_because(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }
    /// A failed login: one status, code and message for every reason.
    pub fn invalid_credentials() -> Self {
        Self::new(401, "invalid_credentials", "invalid identifier or password")
    }
    pub fn not_found() -> Self {
        Self::new(404, "not_found", "no such resource")
    }
    /// 404 naming what is missing, where the caller may know it exists or not (a
    /// namespace they may use, a key in it).
    pub fn not_found_because(message: &'static str) -> Self {
        Self::new(404, "not_found", message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", message)
    }
    /// 400 with a precise code (e.g. `certificate_expired`), for input the caller can
    /// fix once told why.
    pub fn invalid_because(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    /// 400 carrying a core refusal's stable code and reason (e.g. `password_common`).
    pub fn refused_input<E: keyward_core::ErrorCode>(why: E) -> Self {
        Self::new(400, why.code(), why.to_string())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    }
    pub fn method_not_allowed() -> Self {
        Self::new(405, "method_not_allowed", "method not allowed on this path")
    }
    pub fn rate_limited(retry_after: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(429, "rate_limit_exceeded", message)
        }
    }
    /// A dependency (the rate limiter) cannot be reached: refuse rather than wave through.
    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(503, "unavailable", "service temporarily unavailable")
        }
    }
    pub fn internal() -> Self {
        Self::new(500, "internal", "internal error")
    }
    /// The same refusal with another status.
    pub fn with_status(self, status: u16) -> Self {
        Self { status, ..self }
    }
    /// An OAuth error (`/oauth/*`), with the status RFC 6749 gives it.
    pub fn oauth(error: keyward_core::oauth::error::OAuthError) -> Self {
        use keyward_core::oauth::error::OAuthErrorCode;
        let status = match error.code {
            OAuthErrorCode::InvalidClient => 401,
            OAuthErrorCode::SlowDown => 429,
            OAuthErrorCode::ServerError => 500,
            _ => 400,
        };
        Self::new(status, error.code.as_str(), error.description.into_owned())
    }
}

/// A broken input rule (`keyward_core::rules`): 400 `invalid_request` with the rule's
/// message, the code SPEC gives the `/v1` family for bad input; a rule about the
/// caller's role is 403.
impl From<keyward_core::rules::RuleError> for ApiError {
    fn from(error: keyward_core::rules::RuleError) -> Self {
        match error {
            keyward_core::rules::RuleError::AllNamespaces => Self::forbidden(error.to_string()),
            _ => Self::invalid(error.to_string()),
        }
    }
}

/// A decision of `keyward_core::access`: 403 `forbidden`, the message saying
/// "permission denied: …" (SPEC §4).
impl From<keyward_core::access::Forbidden> for ApiError {
    fn from(refusal: keyward_core::access::Forbidden) -> Self {
        Self::forbidden(refusal.to_string())
    }
}

/// Storage and runtime failures are ours, not the caller's: 500, details to the log.
impl From<worker::Error> for ApiError {
    fn from(error: worker::Error) -> Self {
        worker::console_error!("runtime error: {error}");
        Self::internal()
    }
}

/// Renders an error in its family's shape. A 401 carries the `WWW-Authenticate`
/// challenge that points at the protected-resource metadata (RFC 9728); `challenge` is
/// its `(realm, issuer)`.
pub fn error_response(
    error: &ApiError,
    family: Family,
    request_id: &str,
    challenge: Option<(String, String)>,
) -> Response {
    let inner = json!({ "code": error.code, "message": error.message, "request_id": request_id });
    let body = match family {
        Family::V1 => json!({ "success": false, "error": inner }),
        Family::Bare => json!({ "error": inner }),
        Family::OAuth => json!({ "error": oauth_code(error), "error_description": error.message }),
    };
    let mut response = json_response(error.status, &body);
    let headers = response.headers_mut();
    if let Some(seconds) = error.retry_after {
        let _ = headers.set("Retry-After", &seconds.to_string());
    }
    if let Some((realm, issuer)) = challenge {
        let value = keyward_core::oauth::metadata::challenge(&realm, &issuer);
        let _ = headers.set("WWW-Authenticate", &value);
    }
    response
}

/// The RFC 6749 `error` value of a refusal made outside the OAuth code (bad JSON, a
/// full rate window, a body too large…).
fn oauth_code(error: &ApiError) -> &'static str {
    match (error.status, error.code) {
        (429, _) => "slow_down",
        (500, _) => "server_error",
        (503, _) => "temporarily_unavailable",
        (_, "payload_too_large" | "method_not_allowed" | "not_found") => "invalid_request",
        (_, code) => code,
    }
}

/// A `/v1` success: `{"success": true, "data": …}` (plus `next_cursor` for lists).
pub fn v1_ok(status: u16, data: Value, next_cursor: Option<Option<String>>) -> Response {
    let mut body = json!({ "success": true, "data": data });
    if let Some(cursor) = next_cursor {
        body["next_cursor"] = cursor.map_or(Value::Null, Value::String);
    }
    json_response(status, &body)
}

/// A bare JSON body.
pub fn bare_ok(status: u16, body: &Value) -> Response {
    json_response(status, body)
}

fn json_response(status: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    // Building a Response from bytes cannot fail short of the runtime itself failing.
    Response::from_bytes(bytes)
        .expect("the runtime builds a response from bytes")
        .with_status(status)
        .with_headers(headers)
}

/// The answer to a CORS preflight: of a public path, or (`api`) of `/v1`, `/auth` or
/// `/entities` from an allowed origin.
pub fn preflight(api: bool) -> Response {
    let headers = Headers::new();
    let methods = if api {
        "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    } else {
        "GET, POST, OPTIONS"
    };
    let _ = headers.set("Access-Control-Allow-Methods", methods);
    let _ = headers.set(
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type",
    );
    let _ = headers.set("Access-Control-Max-Age", "86400");
    Response::empty()
        .expect("the runtime builds an empty response")
        .with_status(204)
        .with_headers(headers)
}

/// Headers every response carries. CORS: `*` on the public paths; the page's own origin
/// (never with credentials: the API takes bearer tokens, not cookies) when it is an
/// allowed one, with the headers a client needs to read exposed.
pub fn finish(
    mut response: Response,
    request_id: &str,
    path: &str,
    cors: Option<&str>,
) -> worker::Result<Response> {
    let headers = response.headers_mut();
    if is_public_cors(path) {
        headers.set("Access-Control-Allow-Origin", "*")?;
    } else if let Some(origin) = cors {
        headers.set("Access-Control-Allow-Origin", origin)?;
        headers.set(
            "Access-Control-Expose-Headers",
            "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate",
        )?;
    }
    if !is_public_cors(path) {
        // The answer depends on the Origin: caches must keep them apart.
        headers.append("Vary", "Origin")?;
    }
    headers.set("X-Request-Id", request_id)?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    if !headers.has("Cache-Control")? {
        headers.set("Cache-Control", "no-store")?;
    }
    Ok(response)
}

/// A body this much larger than its limit is still read (and dropped) before the 413,
/// so that the client sees the answer instead of a connection closed mid-upload.
const MAX_DRAIN: usize = 1024 * 1024;

/// Reads a JSON body: refused with 413 past [`MAX_JSON_BODY`], parsed strictly into `T`
/// (`serde(deny_unknown_fields)` on `T` refuses mass assignment).
pub async fn json_body<T: serde::de::DeserializeOwned>(
    req: &mut worker::Request,
) -> Result<T, ApiError> {
    let body = read_limited(req, MAX_JSON_BODY).await?;
    // serde reads a JSON array into a struct, field by field: every body here is an
    // object, so anything else is refused before it can be read that way.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::invalid("invalid JSON body: expected an object"));
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("invalid JSON body: {}", describe_json_error(&e))))
}

/// Reads a form body (`application/x-www-form-urlencoded`, at most [`MAX_JSON_BODY`]
/// bytes) strictly: malformed encoding or a repeated parameter is 400.
pub async fn form_body(req: &mut worker::Request) -> Result<Vec<(String, String)>, ApiError> {
    let body = read_limited(req, MAX_JSON_BODY).await?;
    form_pairs(&body, "form body")
}

/// Decodes form pairs (a body, or a query string: `what` names it in the message)
/// strictly with the core (`keyward_core::oauth::form`): bad percent-encoding, invalid
/// UTF-8 or a repeated parameter is 400, never a silent guess.
pub fn form_pairs(bytes: &[u8], what: &str) -> Result<Vec<(String, String)>, ApiError> {
    keyward_core::oauth::form::parse(bytes).map_err(|e| match e {
        keyward_core::oauth::form::FormError::Repeated => {
            ApiError::invalid(format!("a parameter of the {what} is repeated"))
        }
        keyward_core::oauth::form::FormError::Malformed => {
            ApiError::invalid(format!("the {what} is not valid percent-encoded UTF-8"))
        }
    })
}

/// Reads a request body of at most `limit` bytes (413 past it).
pub async fn read_limited(req: &mut worker::Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt as _;
    let mut stream = req
        .stream()
        .map_err(|_| ApiError::invalid("unreadable request body"))?;
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid("unreadable request body"))?;
        seen += chunk.len();
        if seen <= limit {
            body.extend_from_slice(&chunk);
        } else if seen > limit + MAX_DRAIN {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(body)
}

/// Reads and drops up to [`MAX_DRAIN`] bytes of an unread body.
pub async fn drain(req: &mut worker::Request) {
    use futures_util::StreamExt as _;
    if let Ok(mut stream) = req.stream() {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len();
            if seen > MAX_DRAIN {
                break;
            }
        }
    }
}

/// serde_json's message without echoing input back (it may hold a secret).
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    // serde_json messages name fields and types, never values, except for `invalid
    // value: string "…"`; cut anything quoted to be safe.
    match text.find('"') {
        Some(i) => format!("{}…", &text[..i]),
        None => text,
    }
}
