//! The public registry over JSON, `/api/v1/public/...`: search, an institution, regions.

use crate::WebState;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use app::regions::RegionView;
use app::registry::RawSearch;
use app::views::{InstitutionDetail, InstitutionSummary, Page};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

/// Search the registry of training institutions.
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions",
    params(
        ("q" = Option<String>, Query, description = "Chinese or English text; every word must match (jieba segmentation)"),
        ("region" = Option<String>, Query, description = "GB/T 2260 code of a province, prefecture or county; includes everything below it"),
        ("category" = Option<String>, Query, description = "subject | sports | arts | practice | technology (or 学科/体育/艺术/综合实践/科技)"),
        ("mode" = Option<String>, Query, description = "online | offline"),
        ("list" = Option<String>, Query, description = "white | grey | black"),
        ("page" = Option<i64>, Query, description = "from 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 100, default 20"),
    ),
    responses(
        (status = 200, description = "One page of institutions", body = Page<InstitutionSummary>),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search_institutions(
    State(s): State<WebState>,
    ApiQuery(raw): ApiQuery<RawSearch>,
) -> Result<Json<Page<InstitutionSummary>>, ApiError> {
    let parsed = s.app.registry().parse_search(&raw)?;
    Ok(Json(s.app.registry().search_institutions(&parsed).await?))
}

/// One institution: licence, list status with reason and date, courses, list history.
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions/{id}",
    params(("id" = String, Path, description = "Institution id (UUID)")),
    responses(
        (status = 200, body = InstitutionDetail),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn institution_detail(
    State(s): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<InstitutionDetail>, ApiError> {
    Ok(Json(s.app.registry().institution_detail(&id).await?))
}

#[derive(Debug, Deserialize)]
pub struct RegionParams {
    parent: Option<String>,
}

/// Regions below `parent` (provinces when absent). 市辖区-style placeholders carry `placeholder: true`
/// and a `display_name` naming their municipality.
#[utoipa::path(
    get,
    path = "/api/v1/public/regions",
    params(("parent" = Option<String>, Query, description = "GB/T 2260 code; omit for provinces")),
    responses(
        (status = 200, body = Vec<RegionView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn regions(
    State(s): State<WebState>,
    ApiQuery(params): ApiQuery<RegionParams>,
) -> Result<Json<Vec<RegionView>>, ApiError> {
    Ok(Json(
        s.app.registry().region_children(params.parent.as_deref())?,
    ))
}
