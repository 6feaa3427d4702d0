//! The extractors every handler takes its body and query string with. A body or a query string that does not
//! parse is answered like every other error — a problem document from the API, a friendly page from a page —
//! so no handler sees axum's rejections.

use crate::error::{ApiError, PageError, framework_error, rejected};
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body of the API.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e| rejected(e.status(), e.body_text()))
    }
}

/// The query string of an API request.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| rejected(e.status(), e.body_text()))
    }
}

/// The query string of a page.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| PageQuery(v))
            .map_err(|e| PageError(framework_error(StatusCode::BAD_REQUEST, e.body_text())))
    }
}
