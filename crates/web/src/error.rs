//! Errors at the edge: [`ApiError`] renders RFC 9457 `application/problem+json`, [`PageError`] a
//! friendly Chinese page. Both come from the one code table in `app::ErrorCode`.

use app::{AppError, Detail, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// RFC 9457 problem details, with our stable code and both languages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `/api/errors#<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The English message of the code.
    pub title: String,
    pub status: u16,
    /// What exactly was wrong with this request, in English (as `detail_en`).
    pub detail: String,
    /// The stable error code, e.g. `invalid_region`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// What exactly was wrong, in Chinese.
    pub detail_zh: String,
    /// What exactly was wrong, in English.
    pub detail_en: String,
    /// The request field at fault, as this API names it, e.g. `bank_id` or `schedule.times`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `policy_violation` and `policy_loosened`: every rule broken, with its numbers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ProblemRule>,
    /// Quote this when reporting a problem.
    pub request_id: String,
}

/// One rule a request breaks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemRule {
    /// The rule's stable name, e.g. `max_lessons_per_purchase`.
    pub rule: String,
    pub message_zh: String,
    pub message_en: String,
}

/// The friendly error page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub code: &'static str,
    pub message_zh: &'static str,
    pub detail: String,
    pub request_id: String,
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError(AppError::new(code, zh, en))
    }
}

/// The detail a person may see: a fault's own words are logged, never shown — the request id links the two.
fn public_detail(e: &AppError, request_id: &str) -> Detail {
    if e.code.status() >= 500 {
        tracing::error!(request_id, code = e.code.code(), detail = %e.detail.en, "request failed");
        Detail {
            zh: format!("请求编号：{request_id}"),
            en: format!("request id: {request_id}"),
            ..Detail::default()
        }
    } else {
        e.detail.clone()
    }
}

/// A refusal as a person reads it on a page: the code's message, then what exactly was wrong, in Chinese.
pub(crate) fn in_chinese(e: &AppError) -> String {
    let (message, detail) = (e.code.message_zh(), e.detail.zh.as_str());
    if detail.is_empty() || detail == message {
        message.to_owned()
    } else {
        format!("{message}：{detail}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        let code = self.0.code;
        let detail = public_detail(&self.0, &request_id);
        let problem = Problem {
            type_uri: format!("/api/errors#{}", code.code()),
            title: code.message_en().to_owned(),
            status: code.status(),
            detail: detail.en.clone(),
            code: code.code().to_owned(),
            message_zh: code.message_zh().to_owned(),
            message_en: code.message_en().to_owned(),
            detail_zh: detail.zh,
            detail_en: detail.en,
            field: detail.field,
            rules: detail
                .rules
                .into_iter()
                .map(|r| ProblemRule {
                    rule: r.rule,
                    message_zh: r.zh,
                    message_en: r.en,
                })
                .collect(),
            request_id,
        };
        let mut resp = (status_of(code), axum::Json(problem)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        with_retry_after(resp, &self.0)
    }
}

/// A refusal in time says when it lifts (RFC 9110 §10.2.3); without a better answer, a minute.
fn with_retry_after(mut resp: Response, e: &AppError) -> Response {
    if matches!(
        e.code,
        ErrorCode::TooManyRequests | ErrorCode::AccountLocked
    ) {
        let secs = e.retry_after_secs.unwrap_or(60);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Our code for a status that the framework or a layer answered with by itself.
pub(crate) fn code_for_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::TooManyRequests,
        503 => ErrorCode::Unavailable,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::InvalidParameter,
    }
}

/// An extractor's rejection (body, JSON, query, path) as our error: its status chooses the code, its words
/// are the detail.
pub(crate) fn rejected(status: StatusCode, text: String) -> ApiError {
    ApiError(framework_error(status, text))
}

/// A refusal the framework or a layer answered in its own (English) words: in Chinese, its code's message.
pub(crate) fn framework_error(status: StatusCode, text: String) -> AppError {
    let code = code_for_status(status);
    AppError::new(code, code.message_zh(), text)
}

/// A multipart upload that could not be read to its end.
pub(crate) fn unreadable_upload(en: impl Into<String>) -> AppError {
    AppError::invalid("无法读取上传的内容", en)
}

/// An uploaded document's bytes: over the body limit is `document_too_large`, whatever the size.
pub(crate) fn document(
    bytes: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    bytes.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::DocumentTooLarge,
            ErrorCode::DocumentTooLarge.message_zh(),
            e.body_text(),
        ),
        status => rejected(status, e.body_text()),
    })
}

/// An error at the edge of the router: a problem document under `/api/`, a page elsewhere.
pub(crate) fn edge_error(uri: &axum::http::Uri, e: AppError) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(e).into_response()
    } else {
        PageError(e).into_response()
    }
}

/// Whatever is answered without our error types — the framework's own rejections (a body over its limit, a
/// query string that does not parse) and a layer's (a timeout) come as bare text — leaves as a problem
/// document under `/api/` and a friendly page elsewhere, like every error of ours. Their headers stay.
pub(crate) async fn bare_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let uri = req.uri().clone();
    let resp = next.run(req).await;
    let status = resp.status();
    let bare = (status.is_client_error() || status.is_server_error())
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"));
    if !bare {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let detail = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut answer = edge_error(&uri, framework_error(status, detail));
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    answer
}

/// An error answered as a page.
#[derive(Debug)]
pub struct PageError(pub AppError);

/// What a form's action came to, for showing its page again: the status, a notice on success, or the
/// stable message of a refusal the person can correct. Anything else (403, faults) is a whole error page.
pub(crate) struct FormOutcome {
    pub status: StatusCode,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

pub(crate) fn form_outcome<T>(
    result: Result<T, AppError>,
    success: StatusCode,
    done: &'static str,
) -> Result<FormOutcome, PageError> {
    match result {
        Ok(_) => Ok(FormOutcome {
            status: success,
            notice: Some(done),
            error: None,
        }),
        Err(e) if matches!(e.code.status(), 400 | 409 | 413 | 415 | 422) => Ok(FormOutcome {
            status: status_of(e.code),
            notice: None,
            error: Some(in_chinese(&e)),
        }),
        Err(e) => Err(PageError(e)),
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        let code = self.0.code;
        let page = ErrorPage {
            status: code.status(),
            code: code.code(),
            message_zh: code.message_zh(),
            detail: public_detail(&self.0, &request_id).zh,
            request_id,
        };
        with_retry_after((status_of(code), page).into_response(), &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_status_and_a_problem_body() {
        for code in ErrorCode::ALL {
            let resp = ApiError::new(*code, "x", "x").into_response();
            assert_eq!(resp.status().as_u16(), code.status(), "{}", code.code());
            assert_eq!(
                resp.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            let page = PageError(AppError::new(*code, "x", "x")).into_response();
            assert_eq!(page.status().as_u16(), code.status());
            assert!(
                page.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
        }
    }
}
