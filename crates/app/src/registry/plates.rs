//! 合规码牌 compliance plates: issued when an institution is white-listed, verified by anyone who scans one.
//!
//! The token (see `ledger::plate`) proves the platform issued the plate; the plate's row and the
//! institution's row say what it means *now*: a revoked plate, or one of a black-listed or removed
//! institution, shows a red warning; a plate replaced after a change shows "superseded".

use crate::registry::Registry;
use crate::views::InstitutionSummary;
use crate::{Actor, AppError, ErrorCode};
use domain::access::{Permission, regulator_sees};
use domain::{InstitutionId, PlateEvent, PlateStatus, RegionCode, Timestamp};
use ledger::plate::{PlateClaim, verify};
use serde::Serialize;
use store::{InstitutionRow, PlateRow};

const DAY_MS: i64 = 86_400_000;

/// What scanning a plate shows.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PlateCheck {
    /// `valid` (green), `attention` (amber: superseded, or the institution is on the grey list), `warning`
    /// (red: revoked, black-listed or removed) or `invalid` (forged or altered).
    pub verdict: &'static str,
    /// Whether the platform signed this token.
    pub genuine: bool,
    /// One sentence for the person holding the phone.
    pub message: String,
    pub serial: Option<i64>,
    pub issued_on: Option<String>,
    /// `active`, `superseded` or `revoked`.
    pub plate_status: Option<PlateStatus>,
    pub institution: Option<InstitutionSummary>,
    pub registry_state: Option<domain::RegistryState>,
}

impl PlateCheck {
    fn invalid() -> PlateCheck {
        PlateCheck {
            verdict: "invalid",
            genuine: false,
            message: "无效码牌：不是本平台签发的码牌，或内容已被篡改。请勿在此机构报名缴费，并可向当地教育部门举报。".into(),
            serial: None,
            issued_on: None,
            plate_status: None,
            institution: None,
            registry_state: None,
        }
    }
}

/// A plate ready to print: the token, the URL it encodes and the QR code as SVG.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PlateView {
    pub serial: i64,
    pub token: String,
    pub verify_path: String,
    pub issued_on: String,
    pub status: PlateStatus,
    pub institution: InstitutionSummary,
}

fn issued_on(at_ms: i64) -> String {
    Timestamp::from_millis(at_ms).china_date().to_string()
}

impl<'a> Registry<'a> {
    /// A new active plate for `institution` (the previous one, if any, becomes `superseded`), with its
    /// audit entry, inside the caller's transaction.
    pub(crate) async fn issue_plate_in(
        self,
        tx: &mut store::WriteTx,
        actor: &Actor,
        institution_id: &str,
        now: i64,
    ) -> Result<PlateRow, AppError> {
        let superseded = tx
            .plates()
            .end_active_plate(
                institution_id,
                PlateEvent::Supersede,
                "a new plate was issued",
                now,
            )
            .await?;
        let serial = tx.plates().last_plate_serial(institution_id).await? + 1;
        let row = self.signed_plate(institution_id, serial, now)?;
        tx.plates()
            .insert_plates(std::slice::from_ref(&row))
            .await?;
        tx.append_audit(vec![crate::evidence::plate_issued(
            actor,
            Timestamp::from_millis(now),
            institution_id,
            serial,
            superseded > 0,
        )])
        .await?;
        Ok(row)
    }

    /// A signed plate row, to be stored by the caller with its audit entry.
    pub(crate) fn signed_plate(
        self,
        institution_id: &str,
        serial: i64,
        now: i64,
    ) -> Result<PlateRow, AppError> {
        let claim = PlateClaim {
            institution_id: InstitutionId::parse(institution_id)?.to_bytes(),
            serial: u32::try_from(serial)
                .map_err(|_| AppError::internal("plate serial overflow"))?,
            issued_on_day: u32::try_from(now.div_euclid(DAY_MS)).unwrap_or(0),
        };
        let token = claim.token(&self.keys.sign(&claim.signed_bytes())?);
        Ok(PlateRow {
            institution_id: institution_id.to_owned(),
            serial,
            token,
            issued_at: now,
            status: PlateStatus::Active,
            status_reason: None,
            status_changed_at: None,
        })
    }

    /// What a scan of `token` shows: whether it is genuine, and the plate's and institution's status now.
    pub async fn check_plate(self, token: &str) -> Result<PlateCheck, AppError> {
        let public = self.keys.signing_public_key();
        let Ok(claim) = verify(self.keys.crypto(), &public, token) else {
            return Ok(PlateCheck::invalid());
        };
        let id = InstitutionId::from_bytes(claim.institution_id).to_string();
        let reader = self.store.read();
        let (Some(plate), Some(institution)) = (
            reader.plates().plate(&id, i64::from(claim.serial)).await?,
            reader.registry().institution(&id).await?,
        ) else {
            // Signed by us but unknown here (another deployment's key would not verify): treat as invalid.
            return Ok(PlateCheck::invalid());
        };
        let summary = self.summary(&institution)?;
        let (verdict, message) = plate_verdict(&plate, &institution, &summary);
        Ok(PlateCheck {
            verdict,
            genuine: true,
            message,
            serial: Some(plate.serial),
            issued_on: Some(issued_on(plate.issued_at)),
            plate_status: Some(plate.status),
            registry_state: Some(institution.registry_state),
            institution: Some(summary),
        })
    }

    /// The institution's current plate to print, for its own staff and for regulators over its region.
    pub async fn current_plate(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<PlateView, AppError> {
        let id = InstitutionId::parse(institution_id)?.to_string();
        let reader = self.store.read();
        let institution = reader.registry().institution(&id).await?.ok_or_else(|| {
            AppError::not_found(format!("没有机构 {id}"), format!("no institution {id}"))
        })?;
        let region = RegionCode::parse(&institution.region_code)?;
        let allowed = match actor {
            Actor::Staff { institution_id, .. } => *institution_id == id,
            Actor::Regulator { region: own, .. } => {
                actor.has(Permission::ViewInstitutionPrivate) && regulator_sees(own, &region)
            }
            Actor::System { .. } => true,
            _ => false,
        };
        if !allowed {
            let details = serde_json::json!({"plate": "print"});
            return Err(self
                .deny(
                    actor,
                    &format!("institution:{id}"),
                    details,
                    "不是您的机构或管辖地区",
                    "not your institution or region",
                )
                .await);
        }
        let plate = reader
            .plates()
            .plates_of(&id)
            .await?
            .into_iter()
            .find(|p| p.status == PlateStatus::Active)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    "该机构没有有效的公示牌",
                    "this institution holds no active plate",
                )
            })?;
        Ok(PlateView {
            serial: plate.serial,
            verify_path: format!("/verify/{}", plate.token),
            token: plate.token,
            issued_on: issued_on(plate.issued_at),
            status: plate.status,
            institution: self.summary(&institution)?,
        })
    }

    /// The public key plates are signed with (hex), and the algorithm, for offline verification.
    pub fn plate_public_key(self) -> (String, &'static str) {
        let algorithm = match self.keys.crypto().suite_name() {
            "sm" => "SM2",
            _ => "Ed25519",
        };
        (hex::encode(self.keys.signing_public_key()), algorithm)
    }
}

fn plate_verdict(
    plate: &PlateRow,
    institution: &InstitutionRow,
    summary: &InstitutionSummary,
) -> (&'static str, String) {
    let name = &summary.name;
    if plate.status == PlateStatus::Revoked
        || institution.registry_state == domain::RegistryState::Removed
    {
        return (
            "warning",
            format!(
                "警示：{name}的码牌已被撤销（{}），请勿报名缴费。",
                plate.status_reason.as_deref().unwrap_or("机构已撤除")
            ),
        );
    }
    if institution.list_status == domain::ListStatus::Black {
        return (
            "warning",
            format!(
                "警示：{name}已被列入黑名单（{}），请勿报名缴费。",
                institution.list_reason
            ),
        );
    }
    if plate.status == PlateStatus::Superseded {
        return (
            "attention",
            format!("此码牌已被新码牌取代（机构信息已变更）。请以{name}现场公示的最新码牌为准。"),
        );
    }
    if institution.list_status == domain::ListStatus::Grey {
        return (
            "attention",
            format!(
                "{name}目前在灰名单（{}），暂不能在平台销售课程。",
                institution.list_reason
            ),
        );
    }
    (
        "valid",
        format!("真实有效：{name}在白名单中，预收费受平台监管。"),
    )
}
