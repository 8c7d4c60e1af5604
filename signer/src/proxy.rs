//! Proxy mode (`--upstream URL`): the signer in front of an application in any language.
//!
//! Form submissions that carry s3file's fields are verified and finalized here, then forwarded
//! to the application as `application/x-www-form-urlencoded` with the final keys and a
//! [`forward_signature`](crate::forward_signature) header. Everything else, including large
//! bodies, streams through untouched. The application never handles file bytes and never trusts
//! a key it did not get through the signer.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::forward_signature;
use crate::routes::finalize::{finalize_request, is_form, Finalized};
use crate::state::AppState;

/// Bodies up to this size are read to look for s3file's fields; an s3file submission is keys
/// and form fields, far smaller. Larger bodies stream through without a look.
const INSPECT_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Upstream {
    pub base: String,
    pub client: reqwest::Client,
}

impl Upstream {
    pub fn new(base: &str) -> anyhow::Result<Upstream> {
        let client = reqwest::Client::builder()
            // The browser, not the signer, follows the application's redirects.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Upstream { base: base.trim_end_matches('/').to_owned(), client })
    }
}

/// Headers that describe one connection, not the message (RFC 9110, 7.6.1).
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding" | "upgrade"
    )
}

pub async fn forward(State(state): State<AppState>, request: Request) -> Response {
    match forward_request(&state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn forward_request(state: &AppState, request: Request) -> Result<Response> {
    let upstream = state.upstream.as_ref().expect("the proxy route exists only with an upstream");
    let (mut head, body) = request.into_parts();
    // Only the signer may vouch for a form.
    head.headers.remove(forward_signature::HEADER);
    if head.method != Method::POST || !is_form(&head.headers) {
        return send(upstream, &head, reqwest::Body::wrap_stream(body.into_data_stream())).await;
    }
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    while prefix.len() <= INSPECT_LIMIT {
        match stream.next().await {
            Some(chunk) => prefix
                .extend_from_slice(&chunk.map_err(|e| Error::BadRequest(format!("reading the body: {e}")))?),
            None => return forward_form(state, upstream, head, Bytes::from(prefix)).await,
        }
    }
    let rest =
        futures_util::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(prefix)) }).chain(stream);
    send(upstream, &head, reqwest::Body::wrap_stream(rest)).await
}

async fn forward_form(state: &AppState, upstream: &Upstream, head: Parts, body: Bytes) -> Result<Response> {
    if !carries_s3file_fields(&head, &body).await {
        return send(upstream, &head, reqwest::Body::from(body)).await;
    }
    let Finalized { passthrough, files, .. } =
        finalize_request(state, Request::from_parts(head.clone(), Body::from(body))).await?;
    let mut fields = passthrough;
    for (field, stored) in &files {
        for file in stored {
            fields.push((field.clone(), file.key.clone()));
            fields
                .push((format!("{field}-s3file"), serde_json::to_string(file).map_err(anyhow::Error::from)?));
        }
    }
    let body = serde_urlencoded::to_string(&fields).map_err(anyhow::Error::from)?;
    let path_and_query = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let secret = state.settings.secret_key.as_deref().unwrap_or_default().as_bytes();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature =
        forward_signature::sign(secret, now, head.method.as_str(), path_and_query, body.as_bytes());
    let mut head = head;
    head.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    head.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    head.headers.insert(
        HeaderName::from_static(forward_signature::HEADER),
        HeaderValue::from_str(&signature).expect("hex is a valid header value"),
    );
    send(upstream, &head, reqwest::Body::from(body)).await
}

/// Whether a buffered form names any s3file field.
async fn carries_s3file_fields(head: &Parts, body: &Bytes) -> bool {
    let content_type =
        head.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded_names(body).any(|name| name == "s3file");
    }
    let request = Request::from_parts(head.clone(), Body::from(body.clone()));
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else { return false };
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("s3file") {
            return true;
        }
    }
    false
}

fn form_urlencoded_names(body: &[u8]) -> impl Iterator<Item = String> + '_ {
    body.split(|b| *b == b'&').filter_map(|pair| {
        let name = pair.split(|b| *b == b'=').next()?;
        let name: String = String::from_utf8_lossy(name).replace('+', " ");
        Some(percent_encoding::percent_decode_str(&name).decode_utf8_lossy().into_owned())
    })
}

async fn send(upstream: &Upstream, head: &Parts, body: reqwest::Body) -> Result<Response> {
    let path_and_query = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request =
        upstream.client.request(head.method.clone(), format!("{}{path_and_query}", upstream.base));
    for (name, value) in &head.headers {
        // Content-Length stays: a streamed body keeps its length, and a rewritten one has it set.
        if !is_hop_by_hop(name) && name != header::HOST {
            request = request.header(name, value);
        }
    }
    if let Some(host) = head.headers.get(header::HOST) {
        request = request.header("x-forwarded-host", host);
    }
    let response =
        request.body(body).send().await.map_err(|error| {
            anyhow::anyhow!("the application at {} did not answer: {error}", upstream.base)
        })?;
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers() {
        if !is_hop_by_hop(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let status = response.status();
    let body = Body::from_stream(response.bytes_stream().map_err(std::io::Error::other));
    Ok((status, headers, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_urlencoded_field_names() {
        let names: Vec<String> = form_urlencoded_names(b"a=1&s3%66ile=x&b+c=2&&d").collect();
        assert_eq!(names, ["a", "s3file", "b c", "", "d"]);
    }
}
