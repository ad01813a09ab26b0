//! `GET|POST /oauth/authorize` (RFC 6749 §4.1.1, SPEC §4): sign in, pick the org, consent.
//!
//! Every step re-checks the whole authorization request with the core
//! (`keyward_core::oauth::authorize`): the request's parameters travel as hidden fields,
//! so nothing about a half-finished authorization is stored. An unknown client or an
//! unregistered redirect URI gets an error page, never a redirect. Every form carries
//! the CSRF token of the browser session that rendered it (`browser.rs`), every POST
//! answers 303, and a GET never grants anything.
//!
//! Approving creates the grant: its record in D1 first, then its object (`GrantGate`)
//! with the code's keyed hash bound to the client, the redirect URI, the PKCE challenge
//! and the scope; the code goes to the redirect URI with `state` and `iss` (RFC 9207).

use keyward_core::oauth::authorize::{
    AuthorizeFailure, AuthorizeParams, AuthorizeRequest, PARAMETERS, redirect_location,
};
use keyward_core::oauth::form;
use keyward_core::oauth::grant::{Grant, PendingCode};
use keyward_core::oauth::redirect::RedirectUri;
use keyward_core::oauth::scope::Scopes;
use keyward_core::oauth::token::{AuthorizationCode, GrantId};
use worker::{Method, Request, Response};

use crate::Outcome;
use crate::context::Cx;
use crate::http::ApiError;
use crate::ids::{now_secs, rng};
use crate::objects::grant_gate::{self, GrantAsk};
use crate::routes::browser::{self, BrowserSession};
use crate::routes::pages::{self, escape};
use crate::store::accounts;
use crate::store::audit::{self, AuditEvent};
use crate::store::grants::{self, GrantRow};
use crate::store::oauth::{self, ClientRow};

/// An authorization request checked against its client.
struct Checked {
    client: ClientRow,
    request: AuthorizeRequest,
    /// The parameters as received, to carry to the next step.
    carried: Vec<(String, String)>,
}

pub async fn handle(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let post = req.method() == Method::Post;
    let pairs = if post {
        crate::http::form_body(req).await?
    } else {
        let query = req.url()?.query().unwrap_or("").to_owned();
        match form::parse(query.as_bytes()) {
            Ok(pairs) => pairs,
            Err(_) => {
                return Ok(pages::error_page(
                    400,
                    "The authorization request is malformed or repeats a parameter.",
                ));
            }
        }
    };
    let checked = match check(cx, req, &pairs).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let session = BrowserSession::from_request(req, cx);
    if !post {
        let session = session.unwrap_or_else(|| BrowserSession::fresh(None));
        return render(req, cx, &checked, &session, None).await;
    }
    let Some(session) =
        session.filter(|s| form::value(&pairs, "csrf").is_some_and(|t| s.csrf_matches(cx, t)))
    else {
        return Ok(pages::error_page(
            403,
            "This form has expired or did not come from this browser. Start again from the application.",
        ));
    };
    match form::value(&pairs, "action") {
        Some("signin") => sign_in(req, cx, &checked, &pairs).await,
        Some("approve") => approve(req, cx, &checked, &session, &pairs).await,
        Some("deny") => Ok(pages::see_other(
            &deny_location(req, cx, &checked.request),
            &[],
        )),
        _ => Ok(pages::error_page(400, "Unknown action.")),
    }
}

/// The core's checks of the request; `Err` holds the page or redirect that answers a
/// failure.
async fn check(
    cx: &Cx<'_>,
    req: &Request,
    pairs: &[(String, String)],
) -> Result<Result<Checked, Response>, ApiError> {
    let params = match AuthorizeParams::parse(pairs) {
        Ok(params) => params,
        Err(failure) => return Ok(Err(failure_answer(req, cx, failure))),
    };
    let Some(client) = oauth::client(&cx.env.d1("DB")?, &params.client_id).await? else {
        return Ok(Err(pages::error_page(
            400,
            "This application is not registered here.",
        )));
    };
    let uris: Vec<String> = serde_json::from_str(&client.redirect_uris).unwrap_or_default();
    let registered: Vec<RedirectUri> = uris
        .iter()
        .filter_map(|u| RedirectUri::parse(u).ok())
        .collect();
    let scope = Scopes::parse(&client.scope).map_err(|_| ApiError::internal())?;
    let resource = cx.config.issuer_for(req);
    match params.check(&registered, &scope, &resource) {
        Ok(request) => {
            let carried = pairs
                .iter()
                .filter(|(n, _)| PARAMETERS.contains(&n.as_str()))
                .cloned()
                .collect();
            Ok(Ok(Checked {
                client,
                request,
                carried,
            }))
        }
        Err(failure) => Ok(Err(failure_answer(req, cx, failure))),
    }
}

fn failure_answer(req: &Request, cx: &Cx<'_>, failure: AuthorizeFailure) -> Response {
    match failure {
        AuthorizeFailure::Page(why) => pages::error_page(400, why),
        AuthorizeFailure::Redirect {
            redirect_uri,
            error,
            state,
        } => {
            let issuer = cx.config.issuer_for(req);
            let mut params = vec![
                ("error", error.code.as_str()),
                ("error_description", error.description.as_ref()),
            ];
            if let Some(state) = &state {
                params.push(("state", state));
            }
            params.push(("iss", &issuer));
            pages::see_other(&redirect_location(&redirect_uri, &params), &[])
        }
    }
}

fn deny_location(req: &Request, cx: &Cx<'_>, request: &AuthorizeRequest) -> String {
    let issuer = cx.config.issuer_for(req);
    let mut params = vec![
        ("error", "access_denied"),
        ("error_description", "the person declined"),
    ];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", &issuer));
    redirect_location(&request.redirect_uri, &params)
}

/// The sign-in page, or the org-and-consent page for a signed-in person.
async fn render(
    req: &Request,
    cx: &Cx<'_>,
    checked: &Checked,
    session: &BrowserSession,
    error: Option<&str>,
) -> Outcome {
    let cookie = [("Set-Cookie", session.set_cookie(req, cx))];
    let name = checked.client.name.as_deref().unwrap_or("An application");
    let host = url_host(&checked.request.redirect_uri);
    let hidden = hidden_fields(&checked.carried, &session.csrf(cx));
    let alert = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    let orgs = match &session.account_id {
        Some(account_id) => active_orgs(cx, account_id).await?,
        None => Vec::new(),
    };
    if orgs.is_empty() {
        let body = format!(
            "<h1>Sign in</h1><p><span class=\"app\">{}</span> wants to use your account.</p>{alert}\
             <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
             <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required autofocus>\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"signin\">Sign in</button></div></form>",
            escape(name)
        );
        return Ok(pages::page(
            if error.is_some() { 401 } else { 200 },
            "Sign in",
            &body,
            &cookie,
        ));
    }
    let mut choices = String::new();
    for (i, (org_id, org_name, role)) in orgs.iter().enumerate() {
        choices.push_str(&format!(
            "<label class=\"org\"><input type=\"radio\" name=\"org_id\" value=\"{}\"{}> {} <span class=\"muted\">({})</span></label>",
            escape(org_id),
            if i == 0 { " checked" } else { "" },
            escape(org_name),
            escape(role)
        ));
    }
    let scope_words = checked
        .request
        .scope
        .iter()
        .map(|s| format!("<li>{}</li>", escape(&describe_scope(s))))
        .collect::<String>();
    let body = format!(
        "<h1>Allow access?</h1><p><span class=\"app\">{}</span> asks to act for you.</p>\
         <p class=\"muted\">It will be sent back to {}.</p>{alert}\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
         <fieldset><legend>Organization</legend>{choices}</fieldset>\
         <p>It will be able to:</p><ul>{scope_words}</ul>\
         <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\">Deny</button></div></form>",
        escape(name),
        escape(&host)
    );
    Ok(pages::page(200, "Allow access", &body, &cookie))
}

fn describe_scope(scope: &str) -> String {
    if scope.ends_with(":api") {
        "use the API on your behalf in the organization you choose (keys, namespaces, your account)"
            .into()
    } else {
        format!("use the scope {scope}")
    }
}

fn url_host(uri: &str) -> String {
    worker::Url::parse(uri)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| uri.to_owned())
}

fn hidden_fields(carried: &[(String, String)], csrf: &str) -> String {
    let mut out = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    );
    for (name, value) in carried {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    out
}

/// `(org_id, org name, role)` of the account's active memberships, if the account is
/// active.
async fn active_orgs(
    cx: &Cx<'_>,
    account_id: &str,
) -> Result<Vec<(String, String, String)>, ApiError> {
    let db = cx.env.d1("DB")?;
    let Some(account) = accounts::by_id(&db, account_id).await? else {
        return Ok(Vec::new());
    };
    if account.status != "active" {
        return Ok(Vec::new());
    }
    Ok(accounts::memberships(&db, account_id)
        .await?
        .into_iter()
        .filter(|m| m.status == "active")
        .map(|m| (m.org_id, m.org_name, m.role))
        .collect())
}

async fn sign_in(
    req: &Request,
    cx: &Cx<'_>,
    checked: &Checked,
    pairs: &[(String, String)],
) -> Outcome {
    let retry = |message: &'static str| async move {
        render(
            req,
            cx,
            checked,
            &BrowserSession::fresh(None),
            Some(message),
        )
        .await
    };
    let session = match browser::sign_in(
        cx,
        form::value(pairs, "email"),
        form::value(pairs, "password"),
    )
    .await?
    {
        Ok(session) => session,
        Err(message) => return retry(message).await,
    };
    let query = form::encode(
        &checked
            .carried
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    Ok(pages::see_other(
        &format!("/oauth/authorize?{query}"),
        &[("Set-Cookie", session.set_cookie(req, cx))],
    ))
}

async fn approve(
    req: &Request,
    cx: &Cx<'_>,
    checked: &Checked,
    session: &BrowserSession,
    pairs: &[(String, String)],
) -> Outcome {
    let Some(account_id) = &session.account_id else {
        return Ok(pages::error_page(403, "Sign in first."));
    };
    let db = cx.env.d1("DB")?;
    let org_id = form::value(pairs, "org_id").unwrap_or("");
    let memberships = accounts::memberships(&db, account_id).await?;
    let Some(member) = memberships
        .iter()
        .find(|m| m.org_id == org_id && m.status == "active")
    else {
        return render(
            req,
            cx,
            checked,
            session,
            Some("Choose one of your organizations."),
        )
        .await;
    };
    if active_orgs(cx, account_id).await?.is_empty() {
        return Ok(pages::error_page(
            403,
            "This account cannot authorize applications.",
        ));
    }
    let now = now_secs();
    let mut rng = rng();
    let grant_id = GrantId::generate(&mut rng);
    let code = AuthorizationCode::generate(grant_id, &mut rng);
    let request = &checked.request;
    let row = GrantRow {
        id: grant_id.to_hex(),
        client_id: checked.client.id.clone(),
        org_id: member.org_id.clone(),
        entity_id: member.entity_id.clone(),
        account_id: account_id.clone(),
        scope: request.scope.to_scope_string(),
        created_at: now,
        ended_at: None,
    };
    grants::insert(&db, &row).await?;
    let grant = Grant::pending(
        checked.client.id.clone(),
        request.scope.clone(),
        PendingCode {
            hash: code.keyed_hash(cx.config.hash_secret.expose()),
            expires_at: now + cx.config.oauth_lifetimes.code,
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.code_challenge.clone(),
        },
    );
    let _: serde_json::Value = grant_gate::ask(cx, &row.id, &GrantAsk::Create { grant }).await?;
    audit::append(
        cx,
        AuditEvent {
            org_id: Some(row.org_id.clone()),
            event: "oauth.code_issued",
            actor_id: Some(row.entity_id.clone()),
            credential_id: Some(row.id.clone()),
            detail: Some(serde_json::json!({ "client_id": row.client_id, "scope": row.scope })),
            ..AuditEvent::default()
        },
    );
    let issuer = cx.config.issuer_for(req);
    let mut params = vec![("code", code.expose())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", &issuer));
    Ok(pages::see_other(
        &redirect_location(&request.redirect_uri, &params),
        &[],
    ))
}
