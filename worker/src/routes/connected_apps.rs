//! `GET|POST /settings/connected-apps` (SPEC §4): the person's OAuth grants in every org
//! they belong to, each with a revoke button, under the browser session of the
//! authorization pages (`browser.rs`). Signing in here goes through the same password
//! check and login limit as `/auth/login`; every form carries the session's CSRF token,
//! and every POST answers 303.

use keyward_core::time::UnixTime;
use worker::{Method, Request};

use crate::Outcome;
use crate::context::Cx;
use crate::routes::browser::{self, BrowserSession};
use crate::routes::oauth::end_grant;
use crate::routes::pages::{self, escape};
use crate::store::grants;

const PATH: &str = "/settings/connected-apps";

pub async fn handle(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let session = BrowserSession::from_request(req, cx);
    if req.method() != Method::Post {
        let session = session.unwrap_or_else(|| BrowserSession::fresh(None));
        return render(req, cx, &session, None).await;
    }
    let pairs = crate::http::form_body(req).await?;
    let field = |name: &str| keyward_core::oauth::form::value(&pairs, name);
    let Some(session) = session.filter(|s| field("csrf").is_some_and(|t| s.csrf_matches(cx, t)))
    else {
        return Ok(pages::error_page(
            403,
            "This form has expired or did not come from this browser. Reload the page.",
        ));
    };
    match (field("action"), &session.account_id) {
        (Some("signin"), _) => {
            let signed_out = BrowserSession::fresh(None);
            let retry = |message| render(req, cx, &signed_out, Some(message));
            let signed_in = match browser::sign_in(cx, field("email"), field("password")).await? {
                Ok(session) => session,
                Err(message) => return retry(message).await,
            };
            Ok(pages::see_other(
                PATH,
                &[("Set-Cookie", signed_in.set_cookie(req, cx))],
            ))
        }
        (Some("revoke"), Some(account_id)) => {
            let db = cx.env.d1("DB")?;
            let id = field("grant_id").unwrap_or("");
            let mine = grants::of_account(&db, account_id)
                .await?
                .into_iter()
                .any(|g| g.id == id && g.ended_at.is_none());
            if mine && let Some(standing) = grants::standing(&db, id).await? {
                end_grant(cx, &db, &standing).await?;
            }
            Ok(pages::see_other(PATH, &[]))
        }
        _ => Ok(pages::error_page(400, "Unknown action.")),
    }
}

async fn render(
    req: &Request,
    cx: &Cx<'_>,
    session: &BrowserSession,
    error: Option<&str>,
) -> Outcome {
    let cookie = [("Set-Cookie", session.set_cookie(req, cx))];
    let csrf = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&session.csrf(cx))
    );
    let alert = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    let Some(account_id) = &session.account_id else {
        let body = format!(
            "<h1>Connected apps</h1><p>Sign in to see the applications you allowed to act for you.</p>{alert}\
             <form method=\"post\" action=\"{PATH}\">{csrf}\
             <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required autofocus>\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"signin\">Sign in</button></div></form>"
        );
        return Ok(pages::page(
            if error.is_some() { 401 } else { 200 },
            "Connected apps",
            &body,
            &cookie,
        ));
    };
    let live: Vec<_> = grants::of_account(&cx.env.d1("DB")?, account_id)
        .await?
        .into_iter()
        .filter(|g| g.ended_at.is_none())
        .collect();
    let mut items = String::new();
    for g in &live {
        let used = g
            .last_used_at
            .map_or("not yet".to_owned(), |t| UnixTime(t).to_rfc3339());
        items.push_str(&format!(
            "<li class=\"grant\"><p><span class=\"app\">{}</span> in {}</p>\
             <p class=\"muted\">Allowed {} · last used {}</p>\
             <form method=\"post\" action=\"{PATH}\">{csrf}<input type=\"hidden\" name=\"grant_id\" value=\"{}\">\
             <button type=\"submit\" name=\"action\" value=\"revoke\" class=\"secondary\">Revoke</button></form></li>",
            escape(g.client_name.as_deref().unwrap_or(&g.client_id)),
            escape(&g.org_name),
            UnixTime(g.created_at).to_rfc3339(),
            escape(&used),
            escape(&g.id),
        ));
    }
    let list = if live.is_empty() {
        "<p class=\"muted\">No application can act for you.</p>".to_owned()
    } else {
        format!("<ul class=\"grants\">{items}</ul>")
    };
    let body = format!(
        "<h1>Connected apps</h1><p>These applications can act for you. Revoking one ends its access at once.</p>{list}"
    );
    Ok(pages::page(200, "Connected apps", &body, &cookie))
}
