//! 系统接入 integrators (DOMAIN.md, ARCHITECTURE.md): a technology provider's system registered by the platform's
//! service team, with a signing key; an institution's admin authorises it for some operations and may revoke
//! that at any time. Every integration request is checked against the live grant, then runs as the
//! institution's operator through the same commands as the direct path — no check is skipped.

use crate::integration::Integration;
use crate::vault::field::{API_SECRET, INTEGRATOR_CONTACT};
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::{IntegrationScope, Permission, StaffRole};
use domain::{RegionCode, Timestamp};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{ApiClientRow, GrantRow, IntegratorRow};

/// `POST /api/v1/admin/integrators`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewIntegrator {
    /// The system's name, e.g. 某某教务SaaS.
    pub name: String,
    /// Who answers for it: a person and a phone or e-mail.
    pub contact: String,
}

/// What the service team hands the provider, once: the secret is not kept in the clear.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntegratorCredentials {
    pub integrator_id: String,
    pub key_id: String,
    pub secret: String,
}

/// `POST /api/v1/institution/integrations`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewGrant {
    pub integrator_id: String,
    /// Any of `courses`, `orders`, `attendance`, `service`.
    pub scopes: Vec<String>,
}

/// `POST /api/v1/institution/integrations/{id}/revoke`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct GrantRevocation {
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    pub id: String,
    pub integrator_id: String,
    pub integrator_name: String,
    pub institution_id: String,
    pub scopes: Vec<String>,
    pub scope_labels: Vec<&'static str>,
    pub granted_at_display: String,
    pub revoked_at_display: Option<String>,
    pub live: bool,
}

/// A registered integrator, as an institution's admin chooses one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntegratorChoice {
    pub id: String,
    pub name: String,
    pub contact: String,
}

/// What the platform has seen of an integrator's adapter (`GET /api/v1/integration/activity`).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntegrationActivity {
    pub integrator_id: String,
    pub name: String,
    pub webhook_url: Option<String>,
    /// Live grants.
    pub institutions: usize,
    /// Audit actions the integrator's requests caused, e.g. `course.published`, with counts.
    pub actions: Vec<ActionCount>,
    pub deliveries_delivered: i64,
    pub deliveries_waiting: i64,
    pub deliveries_retrying: i64,
    pub deliveries_failed: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionCount {
    pub action: String,
    pub count: i64,
}

/// One order in an integrator's export, amounts in fen.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedOrder {
    pub order_id: String,
    pub order_no: String,
    pub course_name: String,
    pub lessons: i64,
    pub amount_fen: i64,
    pub status: domain::OrderStatus,
    pub escrow_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
    pub created_at: String,
    pub paid_at: String,
}

pub(crate) fn scopes_of(row: &GrantRow) -> Vec<IntegrationScope> {
    row.scopes
        .split(',')
        .filter_map(IntegrationScope::parse)
        .collect()
}

impl<'a> Integration<'a> {
    /// The platform's service team (the national system administrator) registers a provider's system and
    /// gets its signing key; the secret is in the answer only.
    pub async fn register_integrator(
        self,
        actor: &Actor,
        new: &NewIntegrator,
    ) -> Result<IntegratorCredentials, AppError> {
        let national_admin = match actor {
            Actor::System { .. } => true,
            Actor::Regulator { region, .. } => {
                *region == RegionCode::NATIONAL && actor.has(Permission::ManageAccounts)
            }
            _ => false,
        };
        if !national_admin {
            return Err(self
                .deny(
                    actor,
                    "integrator:new",
                    json!({}),
                    "仅限全国系统管理员",
                    "the national system administrator",
                )
                .await);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key_id = format!("xwk_{}", uuid::Uuid::now_v7().simple());
        self.register_integrator_with_key(actor, new, &key_id, &hex::encode(bytes))
            .await
    }

    /// Registers an integrator under a given key (the demo's documented one, or a fresh one).
    pub(crate) async fn register_integrator_with_key(
        self,
        actor: &Actor,
        new: &NewIntegrator,
        key_id: &str,
        secret: &str,
    ) -> Result<IntegratorCredentials, AppError> {
        let name = crate::error::required_text("name", &new.name, 100)?;
        let contact = crate::error::required_text("contact", &new.contact, 200)?;
        let now = self.clock.now().millis();
        let integrator = IntegratorRow {
            id: uuid::Uuid::now_v7().to_string(),
            name,
            contact_sealed: self.keys.seal(INTEGRATOR_CONTACT, &contact),
            key_id: key_id.to_owned(),
            created_by: actor.audit_name(),
            created_at: now,
        };
        let client = ApiClientRow {
            key_id: integrator.key_id.clone(),
            secret_sealed: self.keys.seal(API_SECRET, secret),
            owner_kind: "integrator".into(),
            owner_id: integrator.id.clone(),
            disabled: 0,
            created_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.clients().insert_api_client(&client).await?;
        tx.integrations()
            .insert_integrator(&integrator)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    "已有同名的技术服务商",
                    "an integrator has this name already",
                ),
                other => other.into(),
            })?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::IntegratorRegistered,
            format!("integrator:{}", integrator.id),
            json!({"name": integrator.name, "key_id": integrator.key_id}),
        )])
        .await?;
        tx.commit().await?;
        Ok(IntegratorCredentials {
            integrator_id: integrator.id,
            key_id: integrator.key_id,
            secret: secret.to_owned(),
        })
    }

    /// The institution's admin authorises an integrator for some scopes; one live grant per integrator (a
    /// change of scopes is a revocation and a new grant).
    pub async fn grant_integration(
        self,
        actor: &Actor,
        new: &NewGrant,
    ) -> Result<GrantView, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        let mut scopes: Vec<IntegrationScope> = Vec::new();
        for s in &new.scopes {
            let scope = IntegrationScope::parse(s.trim()).ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    "授权范围：须为课程、订单、考勤或服务",
                    "scopes: courses, orders, attendance or service",
                )
                .on("scopes")
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "授权范围：至少选择课程、订单、考勤、服务中的一项",
                "scopes: at least one of courses, orders, attendance, service",
            )
            .on("scopes"));
        }
        let integrator = self
            .store
            .read()
            .integrations()
            .integrator(new.integrator_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这家技术服务商", "no such integrator"))?;
        let now = self.clock.now().millis();
        let row = GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            integrator_id: integrator.id.clone(),
            institution_id: institution_id.clone(),
            scopes: scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
            granted_by: actor.audit_name(),
            granted_at: now,
            revoked_by: None,
            revoked_at: None,
        };
        let mut tx = self.store.begin_write().await?;
        tx.integrations()
            .insert_grant(&row)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    "已授权该技术服务商，如需更改授权范围请先撤销",
                    "this integrator is authorised already: revoke it first to change its scopes",
                ),
                other => other.into(),
            })?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::IntegrationGranted,
            format!("institution:{institution_id}"),
            json!({"grant": row.id, "integrator": integrator.id, "scopes": row.scopes}),
        )])
        .await?;
        tx.commit().await?;
        Ok(self.grant_view(row, &integrator.name))
    }

    /// Revokes a grant of the admin's institution at once: the integrator's next request is refused.
    pub async fn revoke_integration(
        self,
        actor: &Actor,
        grant_id: &str,
        revocation: &GrantRevocation,
    ) -> Result<GrantView, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        let reason = crate::error::stated_reason("reason", &revocation.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let grant = tx
            .integrations()
            .grant_for_update(grant_id.trim())
            .await?
            .filter(|g| g.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found(
                    "本机构没有这项授权",
                    "no such authorisation of your institution",
                )
            })?;
        if !tx
            .integrations()
            .revoke_grant(&grant.id, &actor.audit_name(), now)
            .await?
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该授权已经撤销",
                "the authorisation is revoked already",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::IntegrationRevoked,
            format!("institution:{institution_id}"),
            json!({"grant": grant.id, "integrator": grant.integrator_id, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        let integrator = self
            .store
            .read()
            .integrations()
            .integrator(&grant.integrator_id)
            .await?;
        let revoked = GrantRow {
            revoked_by: Some(actor.audit_name()),
            revoked_at: Some(now),
            ..grant
        };
        Ok(self.grant_view(revoked, integrator.as_ref().map_or("", |i| i.name.as_str())))
    }

    /// The admin's institution's grants, revoked ones included.
    pub async fn institution_grants(self, actor: &Actor) -> Result<Vec<GrantView>, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        let read = self.store.read();
        let mut out = Vec::new();
        for row in read
            .integrations()
            .grants_of_institution(&institution_id)
            .await?
        {
            let name = read
                .integrations()
                .integrator(&row.integrator_id)
                .await?
                .map(|i| i.name)
                .unwrap_or_default();
            out.push(self.grant_view(row, &name));
        }
        Ok(out)
    }

    /// The integrators an institution's admin may authorise: (id, name, contact).
    pub async fn integrators_to_authorise(
        self,
        actor: &Actor,
    ) -> Result<Vec<IntegratorChoice>, AppError> {
        self.registry().admins_institution(actor).await?;
        self.store
            .read()
            .integrations()
            .integrators()
            .await?
            .into_iter()
            .map(|i| {
                Ok(IntegratorChoice {
                    contact: self.keys.open(INTEGRATOR_CONTACT, &i.contact_sealed)?,
                    id: i.id,
                    name: i.name,
                })
            })
            .collect()
    }

    /// The signed-in integrator's live grants: which institutions it may act for, and how.
    pub async fn integrator_grants(self, actor: &Actor) -> Result<Vec<GrantView>, AppError> {
        let integrator = self.integrator_of(actor).await?;
        Ok(self
            .store
            .read()
            .integrations()
            .live_grants_of_integrator(&integrator.id)
            .await?
            .into_iter()
            .map(|row| self.grant_view(row, &integrator.name))
            .collect())
    }

    /// The actor an integrator acts as for one institution and scope: that institution's operator, if the
    /// institution's live grant includes the scope; otherwise refused (and audited).
    pub async fn acting_for(
        self,
        actor: &Actor,
        institution_id: &str,
        scope: IntegrationScope,
    ) -> Result<Actor, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let institution_id = institution_id.trim();
        let granted = self
            .store
            .read()
            .integrations()
            .live_grant(&integrator.id, institution_id)
            .await?
            .is_some_and(|g| scopes_of(&g).contains(&scope));
        if !granted {
            return Err(self
                .deny(
                    actor,
                    &format!("institution:{institution_id}"),
                    json!({"scope": scope.as_str()}),
                    "机构未授权该技术服务商执行此操作",
                    "the institution has not authorised this integrator for that",
                )
                .await);
        }
        Ok(Actor::Staff {
            account_id: format!("integrator:{}", integrator.id),
            institution_id: institution_id.to_owned(),
            role: StaffRole::Operator,
        })
    }

    /// The integrator's activity as the platform recorded it.
    pub async fn integration_activity(
        self,
        actor: &Actor,
    ) -> Result<IntegrationActivity, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let read = self.store.read();
        let acting_as = Actor::Staff {
            account_id: format!("integrator:{}", integrator.id),
            institution_id: String::new(),
            role: StaffRole::Operator,
        };
        let (delivered, waiting, retrying, failed) = read
            .webhooks()
            .webhook_delivery_counts(&integrator.id)
            .await?;
        Ok(IntegrationActivity {
            webhook_url: read
                .webhooks()
                .webhook_endpoint(&integrator.id)
                .await?
                .map(|e| e.url),
            institutions: read
                .integrations()
                .live_grants_of_integrator(&integrator.id)
                .await?
                .len(),
            actions: read
                .webhooks()
                .audit_actions_by(&acting_as.audit_name())
                .await?
                .into_iter()
                .map(|(action, count)| ActionCount { action, count })
                .collect(),
            deliveries_delivered: delivered,
            deliveries_waiting: waiting,
            deliveries_retrying: retrying,
            deliveries_failed: failed,
            integrator_id: integrator.id,
            name: integrator.name,
        })
    }

    /// Every order of the institution the integrator acts for, for its reconciliation; the export is
    /// audited (personal data stays out: no names, no phones).
    pub async fn export_orders(
        self,
        staff: &Actor,
        institution_id: &str,
    ) -> Result<Vec<ExportedOrder>, AppError> {
        self.money()
            .require_money_view(staff, institution_id.trim())
            .await?;
        let rows = self
            .store
            .read()
            .orders()
            .order_summaries(None, Some(institution_id.trim()), 1_000_000)
            .await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.append_audit(vec![evidence::record(
            &staff.audit_name(),
            now,
            Action::IntegrationExported,
            format!("institution:{}", institution_id.trim()),
            json!({"orders": rows.len()}),
        )])
        .await?;
        tx.commit().await?;
        let rfc3339 = |ms: i64| Timestamp::from_millis(ms).to_datetime().to_rfc3339();
        Ok(rows
            .into_iter()
            .map(|r| ExportedOrder {
                created_at: rfc3339(r.created_at),
                paid_at: r.paid_at.map(rfc3339).unwrap_or_default(),
                order_id: r.id,
                order_no: r.order_no,
                course_name: r.course_name,
                lessons: r.lessons,
                amount_fen: r.amount_fen,
                status: r.status,
                escrow_fen: r.escrow_fen,
                released_fen: r.released_fen,
                refunded_fen: r.refunded_fen,
            })
            .collect())
    }

    /// The integrator a signed request came from, or an audited refusal.
    pub async fn integrator_of(self, actor: &Actor) -> Result<IntegratorRow, AppError> {
        if let Actor::ApiClient {
            owner_kind,
            owner_id,
            ..
        } = actor
            && owner_kind == "integrator"
            && let Some(row) = self
                .store
                .read()
                .integrations()
                .integrator(owner_id)
                .await?
        {
            return Ok(row);
        }
        Err(self
            .deny(
                actor,
                "integration",
                json!({}),
                "仅限技术服务商的签名请求",
                "integrators' signed requests only",
            )
            .await)
    }

    fn grant_view(self, row: GrantRow, integrator_name: &str) -> GrantView {
        let scopes = scopes_of(&row);
        GrantView {
            live: row.revoked_at.is_none(),
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            scope_labels: scopes.iter().map(|s| s.label_zh()).collect(),
            granted_at_display: Timestamp::from_millis(row.granted_at).china_display(),
            revoked_at_display: row
                .revoked_at
                .map(|t| Timestamp::from_millis(t).china_display()),
            id: row.id,
            integrator_id: row.integrator_id,
            integrator_name: integrator_name.to_owned(),
            institution_id: row.institution_id,
        }
    }
}
