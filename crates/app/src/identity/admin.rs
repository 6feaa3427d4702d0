//! 账户管理 account administration: creating, listing, disabling and re-enabling accounts.
//!
//! One rule says who manages whom ([`manages`]): a regulator's system administrator (系统管理员) the
//! regulator accounts of its own region subtree, and at the national level the banks' operators; an
//! institution's admin the staff of its own institution; the platform itself everything. Accounts that a
//! person creates carry a temporary password that must be replaced at first sign-in.

use crate::auth::{blank_account, check_new_password, hash_password};
use crate::evidence::record as audit;
use crate::identity::Identity;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::access::{Permission, RegulatorRole, StaffRole, manages_account};
use domain::{Paging, RegionCode, Timestamp};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{AccountRow, AccountScope};

use crate::vault::field::TOTP_SECRET as TOTP_FIELD;

/// `POST /api/v1/admin/regulators`: a regulator account for the administrator's subtree.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewRegulatorRequest {
    pub username: String,
    pub display_name: String,
    /// A temporary password of at least ten characters, replaced at first sign-in.
    pub password: String,
    /// GB/T 2260 code inside the administrator's region.
    pub region_code: String,
    /// `reviewer`, `supervisor`, `system_admin`, `security_admin` or `audit_admin`.
    pub role: String,
}

/// A new account: its id and, for regulators and bank operators, the enrolment URI of its authenticator
/// (`otpauth://`, shown once and never stored in plain text).
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedAccount {
    pub account_id: String,
    pub totp_enrolment_uri: Option<String>,
}

impl std::fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The enrolment URI carries the TOTP secret: never in logs.
        f.debug_struct("CreatedAccount")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// `POST /api/v1/institution/staff`: a staff account of the administrator's own institution.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewStaffRequest {
    pub username: String,
    pub display_name: String,
    /// A temporary password of at least ten characters, replaced at first sign-in.
    pub password: String,
    /// `admin`, `operator` or `teacher`.
    pub role: String,
}

/// `POST /api/v1/admin/bank-operators`: a bank's portal operator, created by the national system administrator.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewBankOperatorRequest {
    pub username: String,
    pub display_name: String,
    /// A temporary password of at least ten characters, replaced at first sign-in.
    pub password: String,
    /// The bank the operator works for.
    pub bank_id: String,
}

/// `POST /api/v1/admin/school-accounts`: an account of a school of the administrator's subtree, which
/// chooses after-school providers from the lists covering its region. The school is created with its first
/// account and found by region and name after that.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewSchoolAccountRequest {
    pub username: String,
    pub display_name: String,
    /// A temporary password of at least ten characters, replaced at first sign-in.
    pub password: String,
    /// The school's county (or other region) code.
    pub region_code: String,
    /// e.g. 北京市海淀区中关村第一小学.
    pub school_name: String,
}

/// An account as its administrator sees it in the list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccountSummary {
    pub id: String,
    pub kind: String,
    pub username: String,
    pub display_name: String,
    pub role: Option<String>,
    pub role_label: Option<&'static str>,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub institution_id: Option<String>,
    pub bank_id: Option<String>,
    /// `active`, `locked` (too many failed sign-ins, for a while) or `disabled` (by an administrator).
    pub status: &'static str,
    /// Still on the temporary password an administrator set.
    pub must_change_password: bool,
    pub created_at_display: String,
}

/// Why an administrator disables or re-enables an account (kept in the audit log).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct AccountChange {
    pub reason: String,
}

/// An account to create.
#[derive(Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub kind: NewAccountKind,
}

#[derive(Clone)]
pub enum NewAccountKind {
    Staff {
        institution_id: String,
        role: StaffRole,
    },
    /// `totp_secret`: 20 random bytes the person enrols in an authenticator app.
    Regulator {
        region: RegionCode,
        role: RegulatorRole,
        totp_secret: Vec<u8>,
    },
    BankOperator {
        bank_id: String,
        totp_secret: Vec<u8>,
    },
    School {
        school_id: String,
        region: RegionCode,
    },
}

/// Username rules: 3–32 of `a-z 0-9 _ . -`, starting with a letter.
fn check_username(u: &str) -> Result<(), AppError> {
    let ok = (3..=32).contains(&u.len())
        && u.starts_with(|c: char| c.is_ascii_lowercase())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "用户名：3至32个小写字母、数字或 _ . -，以字母开头",
            "username: 3 to 32 of a-z, 0-9, _ . -, starting with a letter",
        )
        .on("username"))
    }
}

/// The evidence of a new account (never its password or secrets).
pub(crate) fn account_created(actor: &Actor, row: &AccountRow, now: i64) -> ledger::NewAuditEntry {
    audit(
        &actor.audit_name(),
        now,
        Action::AccountCreated,
        format!("account:{}", row.id),
        json!({"id": row.id, "kind": row.kind, "username": row.username,
               "role": row.staff_role.clone().or(row.regulator_role.clone()),
               "region_code": row.region_code, "institution_id": row.institution_id, "bank_id": row.bank_id}),
    )
}

impl<'a> Identity<'a> {
    /// A validated account row for `new`, without its password hash (the caller hashes once it knows the
    /// account may be created). `temporary`: the password must be replaced at first sign-in.
    pub(crate) fn account_row(
        self,
        new: &NewAccount,
        temporary: bool,
        now: i64,
    ) -> Result<AccountRow, AppError> {
        check_username(&new.username)?;
        check_new_password(&new.password)?;
        let display_name = domain::person::PersonName::parse(&new.display_name).map_err(|e| {
            AppError::invalid("显示名称：须为1至50个字符", format!("display_name: {e}"))
        })?;
        let id = uuid::Uuid::now_v7().to_string();
        let mut row = blank_account(&id, "", display_name.expose(), now);
        row.username = Some(new.username.clone());
        row.must_change_password = i64::from(temporary);
        let seal_secret = |s: &Vec<u8>| Some(self.keys.seal(TOTP_FIELD, &hex::encode(s)));
        match &new.kind {
            NewAccountKind::Staff {
                institution_id,
                role,
            } => {
                row.kind = "staff".into();
                row.institution_id = Some(institution_id.clone());
                row.staff_role = Some(role.as_str().into());
            }
            NewAccountKind::Regulator {
                region,
                role,
                totp_secret,
            } => {
                if !self.regions.known(region) {
                    return Err(AppError::new(
                        ErrorCode::UnknownRegion,
                        format!("没有代码为 {region} 的行政区划"),
                        format!("no region has code {region}"),
                    ));
                }
                row.kind = "regulator".into();
                row.region_code = Some(region.to_string());
                row.regulator_role = Some(role.as_str().into());
                row.totp_secret_sealed = seal_secret(totp_secret);
            }
            NewAccountKind::BankOperator {
                bank_id,
                totp_secret,
            } => {
                row.kind = "bank_operator".into();
                row.bank_id = Some(bank_id.clone());
                row.totp_secret_sealed = seal_secret(totp_secret);
            }
            NewAccountKind::School { school_id, region } => {
                row.kind = "school".into();
                row.school_id = Some(school_id.clone());
                row.region_code = Some(region.to_string());
            }
        }
        Ok(row)
    }

    /// Creates a staff, regulator or bank-operator account, if the actor manages such an account (see
    /// [`manages`]); a refusal is audited. Accounts made by a person get a temporary password.
    pub async fn create_account(self, actor: &Actor, new: NewAccount) -> Result<String, AppError> {
        self.create_account_with(actor, new, None).await
    }

    /// [`Identity::create_account`], inserting a new school in the same transaction.
    async fn create_account_with(
        self,
        actor: &Actor,
        new: NewAccount,
        new_school: Option<store::SchoolRow>,
    ) -> Result<String, AppError> {
        let now = self.clock.now().millis();
        let temporary = !matches!(actor, Actor::System { .. });
        let mut row = self.account_row(&new, temporary, now)?;
        let id = row.id.clone();
        if !manages(actor, &row) {
            let details = json!({"kind": row.kind, "region_code": row.region_code, "institution_id": row.institution_id});
            return Err(self
                .deny(
                    actor,
                    "account:new",
                    details,
                    "您不能创建这类账户",
                    "you may not create this account",
                )
                .await);
        }
        // Hashed only once allowed: argon2 is deliberately slow.
        row.password_hash = Some(hash_password(&new.password)?);
        let entry = account_created(actor, &row, now);
        let mut tx = self.store.begin_write().await?;
        if let Some(school) = &new_school {
            tx.after_school().insert_school(school).await?;
        }
        tx.accounts().insert_accounts(&[row]).await?;
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a regulator account with a fresh TOTP secret, for a system administrator within its subtree.
    pub async fn create_regulator(
        self,
        actor: &Actor,
        req: &NewRegulatorRequest,
    ) -> Result<CreatedAccount, AppError> {
        let region = RegionCode::parse(req.region_code.trim())?;
        let role = RegulatorRole::parse(req.role.trim()).ok_or_else(|| {
            AppError::invalid(
                "角色：须为审核员、监管员、系统管理员、安全管理员或审计管理员",
                "role: reviewer, supervisor, system_admin, security_admin or audit_admin",
            )
            .on("role")
        })?;
        let secret = new_totp_secret();
        let account = NewAccount {
            username: req.username.trim().to_owned(),
            display_name: req.display_name.clone(),
            password: req.password.clone(),
            kind: NewAccountKind::Regulator {
                region,
                role,
                totp_secret: secret.clone(),
            },
        };
        let account_id = self.create_account(actor, account).await?;
        Ok(created(account_id, req.username.trim(), Some(&secret)))
    }
}
/// The kinds of account an administrator creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    Staff,
    Regulator,
    BankOperator,
    School,
}

/// Whether `actor` administers accounts of `kind` at all (which ones is [`manages`]'s to say).
fn administers_kind(actor: &Actor, kind: AccountKind) -> bool {
    actor.has(Permission::ManageAccounts)
        && match (actor, kind) {
            (Actor::System { .. }, _) => true,
            (Actor::Regulator { .. }, AccountKind::Regulator | AccountKind::School) => true,
            (Actor::Regulator { region, .. }, AccountKind::BankOperator) => {
                *region == RegionCode::NATIONAL
            }
            (Actor::Staff { .. }, AccountKind::Staff) => true,
            _ => false,
        }
}

/// Whether `actor` administers the account `target` (existing or about to be created).
pub fn manages(actor: &Actor, target: &AccountRow) -> bool {
    if !actor.has(Permission::ManageAccounts) {
        return false;
    }
    match actor {
        Actor::System { .. } => true,
        Actor::Regulator { region, .. } => match target.kind.as_str() {
            "regulator" | "school" => target
                .region_code
                .as_deref()
                .and_then(|c| RegionCode::parse(c).ok())
                .is_some_and(|t| manages_account(region, &t)),
            "bank_operator" => *region == RegionCode::NATIONAL,
            _ => false,
        },
        Actor::Staff { institution_id, .. } => {
            target.kind == "staff" && target.institution_id.as_ref() == Some(institution_id)
        }
        _ => false,
    }
}

fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn created(account_id: String, username: &str, totp_secret: Option<&[u8]>) -> CreatedAccount {
    CreatedAccount {
        account_id,
        totp_enrolment_uri: totp_secret
            .map(|s| ledger::totp::enrolment_uri("xiaowai", username, s)),
    }
}

impl<'a> Identity<'a> {
    /// Refuses (and audits) an actor that does not create accounts of `kind`; handlers call it before
    /// reading a request body, so who may ask comes before what is asked.
    pub async fn require_account_admin(
        self,
        actor: &Actor,
        kind: AccountKind,
    ) -> Result<(), AppError> {
        if administers_kind(actor, kind) {
            return Ok(());
        }
        let details = json!({"kind": format!("{kind:?}")});
        Err(self
            .deny(
                actor,
                "account:new",
                details,
                "您不管理这类账户",
                "you do not administer such accounts",
            )
            .await)
    }

    /// Creates a staff account in the administrator's own institution.
    pub async fn create_staff(
        self,
        actor: &Actor,
        req: &NewStaffRequest,
    ) -> Result<CreatedAccount, AppError> {
        let role = StaffRole::parse(req.role.trim()).ok_or_else(|| {
            AppError::invalid(
                "角色：须为管理员、操作员或教师",
                "role: admin, operator or teacher",
            )
            .on("role")
        })?;
        self.require_account_admin(actor, AccountKind::Staff)
            .await?;
        let Actor::Staff { institution_id, .. } = actor else {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "仅限机构管理员",
                "only an institution's admin",
            ));
        };
        let account = NewAccount {
            username: req.username.trim().to_owned(),
            display_name: req.display_name.clone(),
            password: req.password.clone(),
            kind: NewAccountKind::Staff {
                institution_id: institution_id.clone(),
                role,
            },
        };
        let account_id = self.create_account(actor, account).await?;
        Ok(created(account_id, req.username.trim(), None))
    }

    /// Creates a bank's portal operator with a fresh TOTP secret (national system administrator).
    pub async fn create_bank_operator(
        self,
        actor: &Actor,
        req: &NewBankOperatorRequest,
    ) -> Result<CreatedAccount, AppError> {
        let bank_id = req.bank_id.trim();
        if bank_id.is_empty() || bank_id.chars().count() > 64 {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "银行编号：须为1至64个字符",
                "bank_id: 1 to 64 characters",
            )
            .on("bank_id"));
        }
        let secret = new_totp_secret();
        let account = NewAccount {
            username: req.username.trim().to_owned(),
            display_name: req.display_name.clone(),
            password: req.password.clone(),
            kind: NewAccountKind::BankOperator {
                bank_id: bank_id.to_owned(),
                totp_secret: secret.clone(),
            },
        };
        let account_id = self.create_account(actor, account).await?;
        Ok(created(account_id, req.username.trim(), Some(&secret)))
    }

    /// Creates an account of a school in the administrator's subtree (not the national level), creating
    /// the school with its first account. Schools sign in with a password only: they choose from lists,
    /// they move no money and read no personal data.
    pub async fn create_school_account(
        self,
        actor: &Actor,
        req: &NewSchoolAccountRequest,
    ) -> Result<CreatedAccount, AppError> {
        self.require_account_admin(actor, AccountKind::School)
            .await?;
        let region = RegionCode::parse(req.region_code.trim())?;
        if region == RegionCode::NATIONAL || !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                format!("没有代码为 {region} 的学校所在行政区划"),
                format!("no region for a school has code {region}"),
            ));
        }
        let name = crate::error::required_text("school_name", &req.school_name, 100)?;
        // A concurrent creation of the same school loses on the unique (region, name) with a 409.
        let existing = self
            .store
            .read()
            .after_school()
            .school_by_name(region.as_str(), &name)
            .await?;
        let (school_id, new_school) = match existing {
            Some(s) => (s.id, None),
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                let row = store::SchoolRow {
                    id: id.clone(),
                    region_code: region.as_str().to_owned(),
                    name,
                    created_by: actor.audit_name(),
                    created_at: self.clock.now().millis(),
                };
                (id, Some(row))
            }
        };
        let account = NewAccount {
            username: req.username.trim().to_owned(),
            display_name: req.display_name.clone(),
            password: req.password.clone(),
            kind: NewAccountKind::School { school_id, region },
        };
        let account_id = self.create_account_with(actor, account, new_school).await?;
        Ok(created(account_id, req.username.trim(), None))
    }

    /// The accounts the actor administers, by username: a regulator administrator's regulators (its
    /// subtree), or with `bank_operators` the national administrator's bank operators; an institution
    /// admin's staff.
    pub async fn managed_accounts(
        self,
        actor: &Actor,
        bank_operators: bool,
        paging: Paging,
    ) -> Result<crate::views::Page<AccountSummary>, AppError> {
        self.require(actor, Permission::ManageAccounts).await?;
        let scope = match actor {
            Actor::Regulator { region, .. }
                if bank_operators && *region == RegionCode::NATIONAL =>
            {
                AccountScope::BankOperators
            }
            Actor::Regulator { region, .. } => {
                AccountScope::RegulatorsAndSchoolsUnder(region.prefix())
            }
            Actor::Staff { institution_id, .. } => AccountScope::StaffOf(institution_id),
            _ => AccountScope::RegulatorsAndSchoolsUnder(""),
        };
        let rows = self
            .store
            .read()
            .accounts()
            .managed_accounts(scope, paging.per_page(), paging.offset())
            .await?;
        let now = self.clock.now().millis();
        Ok(crate::views::Page {
            items: rows
                .rows
                .iter()
                .map(|a| self.account_summary(a, now))
                .collect(),
            total: u64::try_from(rows.total).unwrap_or(0),
            page: paging.page(),
            per_page: paging.per_page(),
        })
    }

    fn account_summary(self, a: &AccountRow, now: i64) -> AccountSummary {
        let status = if a.disabled != 0 {
            "disabled"
        } else if a.slowed_until.is_some_and(|until| until > now) {
            "locked"
        } else {
            "active"
        };
        AccountSummary {
            id: a.id.clone(),
            kind: a.kind.clone(),
            username: a.username.clone().unwrap_or_default(),
            display_name: a.display_name.clone(),
            role: a.staff_role.clone().or_else(|| a.regulator_role.clone()),
            role_label: a
                .staff_role
                .as_deref()
                .or(a.regulator_role.as_deref())
                .map(domain::access::role_label)
                .or((a.kind == "school").then_some("学校")),
            region_code: a.region_code.clone(),
            region_name: a
                .region_code
                .as_deref()
                .and_then(|c| RegionCode::parse(c).ok())
                .map(|c| self.regions.full_name(&c)),
            institution_id: a.institution_id.clone(),
            bank_id: a.bank_id.clone(),
            status,
            must_change_password: a.must_change_password != 0,
            created_at_display: Timestamp::from_millis(a.created_at).china_display(),
        }
    }

    /// Disables an account (ending its sessions and tokens) or re-enables it (also lifting a lockout),
    /// with a reason for the audit log. Nobody disables their own account.
    pub async fn set_account_enabled(
        self,
        actor: &Actor,
        id: &str,
        enabled: bool,
        change: &AccountChange,
    ) -> Result<AccountSummary, AppError> {
        let reason = crate::error::stated_reason("reason", &change.reason)?;
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| {
                AppError::new(
                    ErrorCode::InvalidId,
                    "不是有效的账户编号",
                    "not an account id",
                )
            })?
            .to_string();
        let subject = format!("account:{id}");
        if actor.account_id() == Some(id.as_str()) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "不能在此修改自己的账户",
                "you cannot change your own account here",
            ));
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let target = tx
            .accounts()
            .account_for_update(&id)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("没有账户 {id}"), format!("no account {id}"))
            })?;
        if !manages(actor, &target) {
            drop(tx);
            let details = json!({"change": if enabled { "enable" } else { "disable" }});
            return Err(self
                .deny(
                    actor,
                    &subject,
                    details,
                    "超出您的管理范围",
                    "outside what you administer",
                )
                .await);
        }
        tx.accounts()
            .set_account_disabled(&id, !enabled, now)
            .await?;
        if !enabled {
            tx.accounts().revoke_everything_of(&id, now).await?;
        }
        let action = if enabled {
            Action::AccountEnabled
        } else {
            Action::AccountDisabled
        };
        tx.append_audit(vec![audit(
            &actor.audit_name(),
            now,
            action,
            subject,
            json!({"reason": reason}),
        )])
        .await?;
        let after = tx
            .accounts()
            .account_for_update(&id)
            .await?
            .ok_or_else(|| AppError::internal("account vanished"))?;
        tx.commit().await?;
        Ok(self.account_summary(&after, now))
    }
}
