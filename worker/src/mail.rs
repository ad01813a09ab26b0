//! Outgoing mail behind one port, [`delivery`] / [`send`], with two transports
//! (`MAIL_TRANSPORT`):
//!
//! - `outbox` (the local default): the message is stored in D1's `outbox` table, and in
//!   development (`DEV_OUTBOX=true`) listed at `GET /dev/outbox`;
//! - `http`: the message is POSTed as JSON `{from, to, subject, text}` to `MAIL_HTTP_URL`
//!   with `Authorization: Bearer MAIL_HTTP_TOKEN` (the shape most email APIs accept, or a
//!   small relay in front of one).
//!
//! Sending runs after the answer (`ctx.wait_until`), so whether an address exists never
//! shows in how long a request takes; a failed send is logged, and the user can resend.

use std::future::Future;

use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use crate::config::MailTransport;
use crate::context::Cx;
use crate::ids::now_secs;

/// One message.
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Sends `message` after the answer.
pub fn send(cx: &Cx<'_>, message: Message) {
    cx.ctx.wait_until(delivery(cx, message));
}

/// The delivery of `message`, to await after something it depends on (a stored token).
pub fn delivery(cx: &Cx<'_>, message: Message) -> impl Future<Output = ()> + 'static {
    enum Via {
        Outbox(worker::Result<worker::D1Database>),
        Http(worker::Result<Request>),
    }
    let via = match &cx.config.mail {
        MailTransport::Outbox => Via::Outbox(cx.env.d1("DB")),
        MailTransport::Http { url, token } => {
            let body = json!({ "from": cx.config.mail_from, "to": message.to, "subject": message.subject, "text": message.text });
            let headers = Headers::new();
            let _ = headers.set("Content-Type", "application/json");
            if let Some(token) = token {
                let _ = headers.set("Authorization", &format!("Bearer {}", token.expose()));
            }
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(body.to_string().into()));
            Via::Http(Request::new_with_init(url, &init))
        }
    };
    async move {
        let outcome = match via {
            Via::Outbox(db) => match db.and_then(|db| {
                db.prepare("INSERT INTO outbox (created_at, to_addr, subject, body) VALUES (?1, ?2, ?3, ?4)")
                    .bind(&[
                        JsValue::from_f64(now_secs() as f64),
                        message.to.as_str().into(),
                        message.subject.as_str().into(),
                        message.text.as_str().into(),
                    ])
            }) {
                Ok(statement) => statement.run().await.map(|_| ()),
                Err(error) => Err(error),
            },
            Via::Http(request) => match request {
                Ok(request) => match Fetch::Request(request).send().await {
                    Ok(response) if (200..300).contains(&response.status_code()) => Ok(()),
                    Ok(response) => Err(worker::Error::RustError(format!("mail API answered {}", response.status_code()))),
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            },
        };
        if let Err(error) = outcome {
            worker::console_error!("mail not delivered: {error}");
        }
    }
}
