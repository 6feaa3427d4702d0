//! 登录与令牌 sign-in, tokens and accounts.
//!
//! Passwords are argon2id hashes; regulators and bank operators need a TOTP code as well (graded
//! protection: two factors for administrators, one cryptographic). Five failures lock an account for
//! fifteen minutes (policy, configurable). Tokens are random; only their SM3 hash is stored. Every
//! outcome, failures included, is written to the audit log without passwords, codes or tokens.

mod failures;

use crate::identity::Identity;
use crate::{Actor, AppError, ErrorCode};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use data_encoding::BASE64URL_NOPAD;
use domain::Action;
use domain::RegionCode;
use domain::access::{RegulatorRole, StaffRole};
pub use failures::{MAX_SIGN_IN_DELAY_MS, SOURCES_OF_AN_ATTACK, sign_in_delay_ms};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{AccountRow, TokenRow};

/// Token lifetimes and TOTP tolerance. (Lockout and session timeouts are the security administrator's:
/// see [`crate::security`].)
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    pub access_ttl_ms: i64,
    pub refresh_ttl_ms: i64,
    /// TOTP steps of clock drift accepted either side.
    pub totp_skew_steps: u64,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            access_ttl_ms: 15 * 60_000,
            refresh_ttl_ms: 30 * 24 * 3_600_000,
            totp_skew_steps: 1,
        }
    }
}

/// `POST /api/v1/auth/login` with a username.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct PasswordLogin {
    /// A username, or a parent's mobile number once the parent has set a password.
    pub username: String,
    pub password: String,
    /// Six digits from the authenticator app; required for regulators and bank operators.
    pub totp: Option<String>,
    /// Required at the first sign-in of an account created by an administrator: replaces its temporary
    /// password (the answer without it is `password_change_required`).
    #[serde(default)]
    pub new_password: Option<String>,
    /// Where the attempt came from (the client's address, set by the web layer, never by the client):
    /// failures are counted per account and source.
    #[serde(skip)]
    pub source: String,
}

/// `POST /api/v1/me/password`: a new password for the signed-in account.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct ChangePassword {
    /// The password now in use (ignored for a parent who has none yet).
    #[serde(default)]
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword { .. }")
    }
}

impl std::fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Who is signed in, as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct ActorView {
    /// `parent`, `staff`, `regulator`, `bank_operator` or `school`.
    pub kind: String,
    /// 家长, 机构人员, 监管人员, 银行操作员 or 学校.
    pub kind_label: &'static str,
    pub account_id: String,
    pub display_name: String,
    pub role: Option<String>,
    /// The role's Chinese name (审核员, 系统管理员, 教师, …).
    pub role_label: Option<&'static str>,
    pub region_code: Option<String>,
    pub institution_id: Option<String>,
    pub bank_id: Option<String>,
}

/// The answer to a sign-in or refresh.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub actor: ActorView,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are bearer secrets: never in logs.
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", BASE64URL_NOPAD.encode(&bytes))
}

const MIN_PASSWORD_CHARS: usize = 10;

/// A new password: at least [`MIN_PASSWORD_CHARS`] characters, at most 128.
pub(crate) fn check_new_password(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=128).contains(&n) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::WeakPassword,
            format!("密码：须为{MIN_PASSWORD_CHARS}至128个字符"),
            format!("password: {MIN_PASSWORD_CHARS} to 128 characters"),
        ))
    }
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing a password: {e}")))
}

fn password_matches(hash: Option<&str>, password: &str) -> bool {
    // Unknown accounts are checked against a fixed hash so that timing does not tell which usernames exist.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$HTcJpBucm3vOmTgA8vtM/A$uJ9SKAI4EHBfezYJbq0d+bvBlKgIBRdwbJXPUdyW4ko";
    let parsed = PasswordHash::new(hash.unwrap_or(DUMMY));
    parsed.is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    }) && hash.is_some()
}

use crate::evidence::record as audit;

impl<'a> Identity<'a> {
    /// Signs in with username, password and (where required) a TOTP code, for the JSON API.
    pub async fn login(self, req: &PasswordLogin) -> Result<TokenPair, AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account = match self.verify_password(&mut tx, req, now).await? {
            Ok(account) => account,
            Err(refusal) => {
                tx.commit().await?;
                return Err(refusal);
            }
        };
        let (pair, tokens) = self.issue_tokens(&account, uuid::Uuid::now_v7().to_string(), now)?;
        tx.accounts().insert_tokens(&tokens).await?;
        tx.commit().await?;
        Ok(pair)
    }

    pub(crate) fn issue_tokens(
        self,
        account: &AccountRow,
        family: String,
        now: i64,
    ) -> Result<(TokenPair, Vec<TokenRow>), AppError> {
        let access = random_token("xwa_");
        let refresh = random_token("xwr_");
        let row = |token: &str, kind: &str, ttl: i64| TokenRow {
            token_hash: self.token_hash(token),
            account_id: account.id.clone(),
            kind: kind.to_owned(),
            family: family.clone(),
            created_at: now,
            expires_at: now + ttl,
            revoked_at: None,
        };
        let rows = vec![
            row(&access, "access", self.auth_policy.access_ttl_ms),
            row(&refresh, "refresh", self.auth_policy.refresh_ttl_ms),
        ];
        let pair = TokenPair {
            access_token: access,
            refresh_token: refresh,
            token_type: "Bearer",
            expires_in: self.auth_policy.access_ttl_ms / 1000,
            actor: actor_view(account),
        };
        Ok((pair, rows))
    }

    fn token_hash(self, token: &str) -> String {
        hex::encode(
            self.store
                .crypto()
                .hash(&[b"xiaowai/token/v1", token.as_bytes()]),
        )
    }

    /// Exchanges a refresh token for a new pair. A refresh token works once; presenting a spent one
    /// means it was stolen or replayed, and revokes every token of that sign-in.
    pub async fn refresh(self, refresh_token: &str) -> Result<TokenPair, AppError> {
        let now = self.clock.now().millis();
        let unauthenticated = || {
            AppError::new(
                ErrorCode::Unauthenticated,
                "刷新令牌无效",
                "the refresh token is not valid",
            )
        };
        let mut tx = self.store.begin_write().await?;
        let token = tx
            .accounts()
            .token(&self.token_hash(refresh_token))
            .await?
            .filter(|t| t.kind == "refresh")
            .ok_or_else(unauthenticated)?;
        if token.revoked_at.is_some() {
            tx.accounts()
                .revoke_token_family(&token.family, now)
                .await?;
            tx.append_audit(vec![audit(
                "system:auth",
                now,
                Action::RefreshTokenReused,
                format!("account:{}", token.account_id),
                json!({"family": token.family}),
            )])
            .await?;
            tx.commit().await?;
            return Err(unauthenticated());
        }
        let account = self
            .store
            .read()
            .accounts()
            .account(&token.account_id)
            .await?
            .filter(|a| a.disabled == 0);
        let (Some(account), true) = (account, token.expires_at > now) else {
            return Err(unauthenticated());
        };
        tx.accounts().revoke_token(&token.token_hash, now).await?;
        let (pair, rows) = self.issue_tokens(&account, token.family.clone(), now)?;
        tx.accounts().insert_tokens(&rows).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// The actor behind a bearer access token.
    pub async fn authenticate(self, access_token: &str) -> Result<Actor, AppError> {
        let now = self.clock.now().millis();
        let reader = self.store.read();
        let unauthenticated =
            || AppError::new(ErrorCode::Unauthenticated, "请重新登录", "sign in again");
        let token = reader
            .accounts()
            .live_token(&self.token_hash(access_token), now)
            .await?
            .filter(|t| t.kind == "access")
            .ok_or_else(unauthenticated)?;
        let account = reader
            .accounts()
            .account(&token.account_id)
            .await?
            .filter(|a| a.disabled == 0)
            .ok_or_else(unauthenticated)?;
        actor_of(&account)
    }

    /// Signs out: revokes every token of the sign-in the access token belongs to.
    pub async fn logout(self, access_token: &str) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let token = tx
            .accounts()
            .token(&self.token_hash(access_token))
            .await?
            .filter(|t| t.kind == "access" && t.revoked_at.is_none())
            .ok_or_else(|| {
                AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
            })?;
        tx.accounts()
            .revoke_token_family(&token.family, now)
            .await?;
        tx.append_audit(vec![audit(
            &format!("account:{}", token.account_id),
            now,
            Action::SignedOut,
            format!("account:{}", token.account_id),
            json!({}),
        )])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    /// Stores `new_password` for `account` with its audit entry; the inner error refuses a weak or unchanged
    /// password.
    async fn replace_password(
        self,
        tx: &mut store::WriteTx,
        account: &AccountRow,
        new_password: &str,
        now: i64,
    ) -> Result<Result<(), AppError>, AppError> {
        if let Err(weak) = check_new_password(new_password) {
            return Ok(Err(weak));
        }
        if account.password_hash.is_some()
            && password_matches(account.password_hash.as_deref(), new_password)
        {
            return Ok(Err(AppError::new(
                ErrorCode::WeakPassword,
                "新密码不能与原密码相同",
                "the new password is the old one",
            )));
        }
        tx.accounts()
            .set_password(&account.id, &hash_password(new_password)?, false, now)
            .await?;
        tx.append_audit(vec![audit(
            &actor_of(account)?.audit_name(),
            now,
            Action::PasswordChanged,
            format!("account:{}", account.id),
            json!({"was_temporary": account.must_change_password != 0}),
        )])
        .await?;
        Ok(Ok(()))
    }

    /// Changes the signed-in account's own password; the current one must be given (a parent who has
    /// signed in only by SMS so far sets a first password without it).
    pub async fn change_password(
        self,
        actor: &Actor,
        req: &ChangePassword,
    ) -> Result<(), AppError> {
        let id = actor.account_id().ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account = tx.accounts().account_for_update(id).await?.ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        if account.password_hash.is_some()
            && !password_matches(account.password_hash.as_deref(), &req.current_password)
        {
            tx.append_audit(vec![audit(
                &actor.audit_name(),
                now,
                Action::PasswordChangeRefused,
                format!("account:{id}"),
                json!({"reason": "wrong_current_password"}),
            )])
            .await?;
            tx.commit().await?;
            return Err(AppError::new(
                ErrorCode::InvalidCredentials,
                "当前密码不正确",
                "the current password is wrong",
            ));
        }
        self.replace_password(&mut tx, &account, &req.new_password, now)
            .await??;
        tx.commit().await?;
        Ok(())
    }

    /// What `GET /api/v1/me` shows.
    pub async fn me(self, actor: &Actor) -> Result<ActorView, AppError> {
        let id = actor.account_id().ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        let account = self
            .store
            .read()
            .accounts()
            .account(id)
            .await?
            .ok_or_else(|| {
                AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
            })?;
        Ok(actor_view(&account))
    }
}

/// An account row with only what every account has; the caller fills in its kind's columns.
pub(crate) fn blank_account(id: &str, kind: &str, display_name: &str, now: i64) -> AccountRow {
    AccountRow {
        id: id.to_owned(),
        kind: kind.to_owned(),
        username: None,
        phone_sealed: None,
        phone_index: None,
        display_name: display_name.to_owned(),
        password_hash: None,
        totp_secret_sealed: None,
        last_totp_step: None,
        institution_id: None,
        staff_role: None,
        regulator_role: None,
        region_code: None,
        bank_id: None,
        failed_logins: 0,
        slowed_until: None,
        disabled: 0,
        must_change_password: 0,
        created_at: now,
        updated_at: now,
        school_id: None,
    }
}

pub(crate) fn actor_view(a: &AccountRow) -> ActorView {
    let role = a.staff_role.clone().or_else(|| a.regulator_role.clone());
    ActorView {
        kind: a.kind.clone(),
        kind_label: domain::access::kind_label(&a.kind),
        account_id: a.id.clone(),
        display_name: a.display_name.clone(),
        role_label: role.as_deref().map(domain::access::role_label),
        role,
        region_code: a.region_code.clone(),
        institution_id: a.institution_id.clone(),
        bank_id: a.bank_id.clone(),
    }
}

pub(crate) fn actor_of(a: &AccountRow) -> Result<Actor, AppError> {
    let corrupt = || AppError::internal(format!("account {} is inconsistent", a.id));
    let region = || -> Result<RegionCode, AppError> {
        a.region_code
            .as_deref()
            .map(RegionCode::parse)
            .transpose()?
            .ok_or_else(corrupt)
    };
    Ok(match a.kind.as_str() {
        "parent" => Actor::Parent {
            account_id: a.id.clone(),
        },
        "staff" => Actor::Staff {
            account_id: a.id.clone(),
            institution_id: a.institution_id.clone().ok_or_else(corrupt)?,
            role: a
                .staff_role
                .as_deref()
                .and_then(StaffRole::parse)
                .ok_or_else(corrupt)?,
        },
        "regulator" => Actor::Regulator {
            account_id: a.id.clone(),
            region: region()?,
            role: a
                .regulator_role
                .as_deref()
                .and_then(RegulatorRole::parse)
                .ok_or_else(corrupt)?,
        },
        "bank_operator" => Actor::BankOperator {
            account_id: a.id.clone(),
            bank_id: a.bank_id.clone().ok_or_else(corrupt)?,
        },
        "school" => Actor::School {
            account_id: a.id.clone(),
            school_id: a.school_id.clone().ok_or_else(corrupt)?,
            region: region()?,
        },
        _ => return Err(corrupt()),
    })
}
