//! 抽检 spot checks (DOMAIN.md §5): a supervisor draws a reproducible, stratified sample of the region's
//! institutions, the platform assigns checkers (the region's reviewers and supervisors, in turn), and each
//! checker records findings against the Ministry's five focus items, with evidence. A finding raises a risk
//! warning (indicator `spot_check_findings`) and counts in the institution's credit.

use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::risk::Indicator;
use domain::sampling::{Candidate, SHARE_PERCENT, draw_sample};
use domain::{RegionCode, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{SpotCheckCampaignRow, SpotCheckListRow, SpotCheckRow, SpotChecksOf};

/// The checklist: the Ministry's five monitoring focus items (the same keys as the monitoring views).
pub const CHECKLIST: [(&str, &str); 5] = [
    ("statements", "财务报表"),
    ("staff", "人员材料"),
    ("orders", "订单明细"),
    ("movements", "监管资金动账"),
    ("changes", "工商信息变更"),
];

/// What a campaign may stratify by.
pub const STRATA: [(&str, &str); 3] = [
    ("mode", "办学形式"),
    ("category", "培训类别"),
    ("risk", "风险等级"),
];

/// `POST /api/v1/regulator/spot-checks`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCampaign {
    pub name: String,
    /// 1–100; the Ministry's example is 10–20 % a year.
    pub share_percent: u32,
    /// Any of `mode`, `category`, `risk`; none: one stratum.
    #[serde(default)]
    pub strata: Vec<String>,
    /// To re-draw a sample; left out, the platform picks one and records it.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// One focus item's finding.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// One of the checklist's keys.
    pub item: String,
    /// Found in order?
    pub ok: bool,
    /// What was found; required when not in order.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/v1/regulator/spot-checks/items/{id}/result`: a finding for every focus item.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct SpotCheckResult {
    pub findings: Vec<Finding>,
}

/// An evidence file as uploaded.
pub type EvidenceFile = crate::complaints::EvidenceFile;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub region_code: String,
    pub region_name: String,
    pub name: String,
    pub share_percent: i64,
    pub strata: Vec<String>,
    /// Recorded so that anyone can draw the same sample again.
    pub seed: i64,
    pub population: i64,
    pub created_by: String,
    pub created_at_display: String,
    pub drawn: usize,
    pub recorded: usize,
    pub with_findings: usize,
    pub checks: Vec<SpotCheckView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SpotCheckView {
    pub id: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub institution_id: String,
    pub institution_name: String,
    pub stratum: String,
    pub checker_id: String,
    pub status: domain::SpotCheckStatus,
    pub status_label: &'static str,
    pub findings: Vec<FindingView>,
    pub finding_count: i64,
    pub recorded_at_display: Option<String>,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FindingView {
    pub item: String,
    pub label: &'static str,
    pub ok: bool,
    pub note: String,
}

fn label(key: &str) -> &'static str {
    CHECKLIST
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, l)| *l)
}

/// An institution's stratum under the chosen dimensions, e.g. `offline|subject|red`.
fn stratum_of(row: &store::SpotCheckCandidateRow, strata: &[String]) -> String {
    let risk = ["none", "yellow", "orange", "red"]
        [usize::try_from(row.risk_rank.clamp(0, 3)).unwrap_or(0)];
    let parts: Vec<&str> = strata
        .iter()
        .map(|s| match s.as_str() {
            "mode" => row.mode.as_str(),
            "category" => row.categories.split(',').next().unwrap_or(""),
            _ => risk,
        })
        .collect();
    if parts.is_empty() {
        "all".to_owned()
    } else {
        parts.join("|")
    }
}

impl<'a> Supervision<'a> {
    /// A supervisor's campaign over its own region: draws the sample, assigns checkers in turn and tells
    /// them, all in one transaction.
    pub async fn create_spot_check_campaign(
        self,
        actor: &Actor,
        new: &NewCampaign,
    ) -> Result<CampaignView, AppError> {
        let Actor::Regulator {
            region, account_id, ..
        } = actor
        else {
            return Err(self
                .deny(
                    actor,
                    "spot_check",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let name = crate::error::stated_reason("name", &new.name)?.to_owned();
        if !SHARE_PERCENT.contains(&new.share_percent) {
            return Err(
                AppError::invalid("比例：1至100", "share_percent: 1 to 100").on("share_percent")
            );
        }
        let mut strata: Vec<String> = Vec::new();
        for s in &new.strata {
            let s = s.trim();
            if !STRATA.iter().any(|(k, _)| *k == s) {
                return Err(AppError::invalid(
                    "分层维度：须为教学方式、培训类别或风险等级",
                    "strata: mode, category or risk",
                )
                .on("strata"));
            }
            if !strata.iter().any(|t| t == s) {
                strata.push(s.to_owned());
            }
        }
        // Stored as a signed 64-bit number on both backends.
        let seed = match new.seed {
            Some(s) if i64::try_from(s).is_ok() => s,
            Some(_) => {
                return Err(AppError::invalid(
                    "随机种子：0至9223372036854775807",
                    "seed: 0 to 9223372036854775807",
                )
                .on("seed"));
            }
            None => rand::rng().random_range(0..=i64::MAX as u64),
        };
        let population = self
            .store
            .read()
            .inspection()
            .spot_check_population(region.prefix())
            .await?;
        let candidates: Vec<Candidate> = population
            .iter()
            .map(|row| Candidate {
                institution_id: row.id.clone(),
                stratum: stratum_of(row, &strata),
            })
            .collect();
        let sample = draw_sample(&candidates, new.share_percent, seed);
        if sample.is_empty() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "本地区没有可抽查的在册机构",
                "no listed institution in the region to check",
            ));
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let mut checkers = tx.inbox().checkers_of(region.as_str()).await?;
        if checkers.is_empty() {
            // A region without reviewer or supervisor accounts on record: the campaign's author checks.
            checkers.push(account_id.clone());
        }
        let campaign = SpotCheckCampaignRow {
            id: uuid::Uuid::now_v7().to_string(),
            region_code: region.as_str().to_owned(),
            name,
            share_percent: i64::from(new.share_percent),
            strata: strata.join(","),
            seed: i64::try_from(seed)
                .map_err(|_| AppError::invalid("随机种子格式不正确", "seed"))?,
            population: i64::try_from(population.len()).unwrap_or(i64::MAX),
            created_by: actor.audit_name(),
            created_at: now,
        };
        let checks: Vec<SpotCheckRow> = sample
            .iter()
            .enumerate()
            .map(|(k, c)| SpotCheckRow {
                id: uuid::Uuid::now_v7().to_string(),
                campaign_id: campaign.id.clone(),
                institution_id: c.institution_id.clone(),
                stratum: c.stratum.clone(),
                checker_id: checkers[k % checkers.len()].clone(),
                status: domain::SpotCheckStatus::Assigned,
                findings_json: None,
                finding_count: 0,
                recorded_by: None,
                recorded_at: None,
            })
            .collect();
        tx.inspection()
            .insert_spot_check_campaign(&campaign, &checks)
            .await?;
        for checker in &checkers {
            let mine = checks.iter().filter(|c| &c.checker_id == checker).count();
            if mine > 0 {
                self.service().notify_in(
                    &mut tx,
                    std::slice::from_ref(checker),
                    "抽检任务",
                    &format!(
                        "「{}」分配给您 {mine} 家机构的抽检，请核查五项重点监测内容并记录结果。",
                        campaign.name
                    ),
                    now,
                )
                .await?;
            }
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::SpotCheckCampaignCreated,
            format!("region:{}", region.as_str()),
            json!({"campaign": campaign.id, "name": campaign.name, "share_percent": campaign.share_percent,
                   "strata": campaign.strata, "seed": campaign.seed, "population": campaign.population,
                   "drawn": checks.iter().map(|c| c.institution_id.clone()).collect::<Vec<_>>()}),
        )])
        .await?;
        tx.commit().await?;
        self.spot_check_campaign(actor, &campaign.id).await
    }

    /// The campaigns of the regulator's region and the regions under it, newest first (without their checks).
    pub async fn spot_check_campaigns(self, actor: &Actor) -> Result<Vec<CampaignView>, AppError> {
        let region = self.supervising_region(actor).await?;
        let rows = self
            .store
            .read()
            .inspection()
            .spot_check_campaigns(region.prefix())
            .await?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.campaign_view(row, false).await?);
        }
        Ok(out)
    }

    /// A campaign with its drawn institutions, for regulators over its region.
    pub async fn spot_check_campaign(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<CampaignView, AppError> {
        let region = self.supervising_region(actor).await?;
        let row = self
            .store
            .read()
            .inspection()
            .spot_check_campaign(id.trim())
            .await?
            .filter(|c| c.region_code.starts_with(region.prefix()))
            .ok_or_else(|| {
                AppError::not_found("本地区没有这次抽查", "no such campaign in your region")
            })?;
        self.campaign_view(row, true).await
    }

    /// One spot check, for regulators over its campaign's region.
    pub async fn spot_check(self, actor: &Actor, id: &str) -> Result<SpotCheckView, AppError> {
        let region = self.supervising_region(actor).await?;
        let row = self.spot_check_row(id).await?;
        self.store
            .read()
            .inspection()
            .spot_check_campaign(&row.check.campaign_id)
            .await?
            .filter(|c| c.region_code.starts_with(region.prefix()))
            .ok_or_else(|| {
                AppError::not_found("本地区没有这次抽查", "no such spot check in your region")
            })?;
        self.spot_check_view(row).await
    }

    /// The spot checks an institution went through, for its staff and regulators over it.
    pub async fn spot_checks_of(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<Vec<SpotCheckView>, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        self.registry()
            .require_sight_of(actor, &institution)
            .await?;
        let rows = self
            .store
            .read()
            .inspection()
            .spot_checks(SpotChecksOf::Institution(&institution.id))
            .await?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.spot_check_view(row).await?);
        }
        Ok(out)
    }

    /// The assigned checker (or a supervisor over the region) records a finding for each focus item, with
    /// evidence files; once. A finding tells the institution, raises a warning and counts in its credit.
    pub async fn record_spot_check(
        self,
        actor: &Actor,
        id: &str,
        result: &SpotCheckResult,
        evidence_files: &[EvidenceFile],
    ) -> Result<SpotCheckView, AppError> {
        let row = self.spot_check_row(id).await?;
        let check = &row.check;
        let campaign = self
            .store
            .read()
            .inspection()
            .spot_check_campaign(&check.campaign_id)
            .await?
            .ok_or_else(|| AppError::internal("spot check of a missing campaign"))?;
        let region = RegionCode::parse(&campaign.region_code)?;
        let assigned =
            matches!(actor, Actor::Regulator { account_id, .. } if *account_id == check.checker_id);
        if !assigned {
            self.require_regulator_over(
                actor,
                Permission::SuperviseInstitution,
                &region,
                &format!("spot_check:{}", check.id),
            )
            .await?;
        }
        let mut findings = Vec::new();
        for (key, _) in CHECKLIST {
            let mut of_item = result.findings.iter().filter(|f| f.item.trim() == key);
            let (Some(f), None) = (of_item.next(), of_item.next()) else {
                return Err(AppError::invalid(
                    format!(
                        "检查结果：须对每个检查项目各填一条（{}）",
                        CHECKLIST.map(|(_, l)| l).join("、")
                    ),
                    format!(
                        "findings: exactly one for each of {}",
                        CHECKLIST.map(|(k, _)| k).join(", ")
                    ),
                ));
            };
            let note = f.note.trim();
            if note.chars().count() > 500 || (!f.ok && note.is_empty()) {
                return Err(AppError::new(
                    ErrorCode::FieldTooLong,
                    format!(
                        "检查项目“{}”：不合格时须填写说明，不超过500个字符",
                        label(key)
                    ),
                    format!(
                        "findings.{key}.note: required when not in order, at most 500 characters"
                    ),
                ));
            }
            findings.push(Finding {
                item: key.to_owned(),
                ok: f.ok,
                note: note.to_owned(),
            });
        }
        if result.findings.len() != CHECKLIST.len() {
            return Err(AppError::invalid(
                "检查结果：每个检查项目一条，不多不少",
                "findings: one for each focus item, no others",
            )
            .on("findings"));
        }
        if evidence_files.len() > crate::complaints::MAX_EVIDENCE {
            return Err(AppError::invalid(
                format!("证据材料最多{}份", crate::complaints::MAX_EVIDENCE),
                format!("at most {} evidence files", crate::complaints::MAX_EVIDENCE),
            ));
        }
        let wanting: Vec<&Finding> = findings.iter().filter(|f| !f.ok).collect();
        let finding_count = i64::try_from(wanting.len()).unwrap_or(0);
        let mut stored = Vec::new();
        for f in evidence_files {
            match self
                .registry()
                .put_document(
                    actor,
                    &check.institution_id,
                    "spot_check_evidence",
                    &f.filename,
                    &f.bytes,
                )
                .await
            {
                Ok(doc) => stored.push(doc),
                Err(e) => {
                    for (_, path) in &stored {
                        self.registry().forget_document(path).await;
                    }
                    return Err(e);
                }
            }
        }
        let written = self
            .write_spot_check(actor, check, &findings, finding_count, &stored)
            .await;
        if let Err(e) = written {
            for (_, path) in &stored {
                self.registry().forget_document(path).await;
            }
            return Err(e);
        }
        self.spot_check_view(self.spot_check_row(&check.id).await?)
            .await
    }

    async fn write_spot_check(
        self,
        actor: &Actor,
        check: &SpotCheckRow,
        findings: &[Finding],
        finding_count: i64,
        documents: &[(store::DocumentRow, object_store::path::Path)],
    ) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let findings_json =
            serde_json::to_string(findings).map_err(|e| AppError::internal(e.to_string()))?;
        let institution = self
            .registry()
            .institution_row(&check.institution_id)
            .await?;
        let model = self.risk_model_for(&institution.region_code).await?;
        let mut tx = self.store.begin_write().await?;
        if !tx
            .inspection()
            .record_spot_check(
                &check.id,
                &findings_json,
                finding_count,
                &actor.audit_name(),
                now,
            )
            .await?
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该抽查结果已经登记",
                "the spot check was recorded already",
            ));
        }
        for (doc, _) in documents {
            tx.filings().insert_document(doc).await?;
            tx.inspection()
                .insert_spot_check_evidence(&check.id, &doc.id)
                .await?;
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::SpotCheckRecorded,
            format!("institution:{}", institution.id),
            json!({"spot_check": check.id, "campaign": check.campaign_id, "findings": findings,
                   "evidence": documents.iter().map(|(d, _)| json!({"id": d.id, "digest": d.digest})).collect::<Vec<_>>()}),
        )])
        .await?;
        if finding_count > 0 {
            let what: Vec<String> = findings
                .iter()
                .filter(|f| !f.ok)
                .map(|f| format!("{}：{}", label(&f.item), f.note))
                .collect();
            let staff = tx.inbox().staff_accounts_of(&institution.id).await?;
            self.service()
                .notify_in(
                    &mut tx,
                    &staff,
                    "抽检发现问题",
                    &format!("抽检发现以下问题，请整改：{}", what.join("；")),
                    now,
                )
                .await?;
            let firings: Vec<_> = model
                .model
                .evaluate(Indicator::SpotCheckFindings, finding_count)
                .into_iter()
                .collect();
            self.raise_in(
                &mut tx,
                &institution,
                &model,
                &firings,
                json!({"spot_check": check.id, "findings": what}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn spot_check_row(self, id: &str) -> Result<SpotCheckListRow, AppError> {
        self.store
            .read()
            .inspection()
            .spot_checks(SpotChecksOf::Check(id.trim()))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found("没有这次抽查", "no such spot check"))
    }

    async fn campaign_view(
        self,
        row: SpotCheckCampaignRow,
        with_checks: bool,
    ) -> Result<CampaignView, AppError> {
        let rows = self
            .store
            .read()
            .inspection()
            .spot_checks(SpotChecksOf::Campaign(&row.id))
            .await?;
        let drawn = rows.len();
        let recorded = rows.iter().filter(|r| r.check.status.is_recorded()).count();
        let with_findings = rows.iter().filter(|r| r.check.finding_count > 0).count();
        let mut checks = Vec::new();
        if with_checks {
            for r in rows {
                checks.push(self.spot_check_view(r).await?);
            }
        }
        let region_name = RegionCode::parse(&row.region_code)
            .map(|c| self.regions.full_name(&c))
            .unwrap_or_default();
        Ok(CampaignView {
            region_name,
            strata: row
                .strata
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at_display: Timestamp::from_millis(row.created_at).china_display(),
            id: row.id,
            region_code: row.region_code,
            name: row.name,
            share_percent: row.share_percent,
            seed: row.seed,
            population: row.population,
            created_by: row.created_by,
            drawn,
            recorded,
            with_findings,
            checks,
        })
    }

    async fn spot_check_view(self, row: SpotCheckListRow) -> Result<SpotCheckView, AppError> {
        let findings: Vec<Finding> = match &row.check.findings_json {
            Some(j) => serde_json::from_str(j)
                .map_err(|e| AppError::internal(format!("stored findings: {e}")))?,
            None => Vec::new(),
        };
        let evidence = self
            .store
            .read()
            .inspection()
            .spot_check_evidence(&row.check.id)
            .await?;
        let c = row.check;
        Ok(SpotCheckView {
            status_label: if c.status.is_recorded() {
                if c.finding_count > 0 {
                    "发现问题"
                } else {
                    "合格"
                }
            } else {
                "待核查"
            },
            findings: findings
                .into_iter()
                .map(|f| FindingView {
                    label: label(&f.item),
                    item: f.item,
                    ok: f.ok,
                    note: f.note,
                })
                .collect(),
            recorded_at_display: c
                .recorded_at
                .map(|t| Timestamp::from_millis(t).china_display()),
            id: c.id,
            campaign_id: c.campaign_id,
            campaign_name: row.campaign_name,
            institution_id: c.institution_id,
            institution_name: row.institution_name,
            stratum: c.stratum,
            checker_id: c.checker_id,
            status: c.status,
            finding_count: c.finding_count,
            evidence,
        })
    }
}
