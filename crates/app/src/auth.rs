//! 登录与令牌 sign-in, tokens and accounts.
//!
//! Passwords are argon2id hashes; regulators and bank operators need a TOTP code as well (graded
//! protection: two factors for administrators, one cryptographic). Five failures lock an account for
//! fifteen minutes (policy, configurable). Tokens are random; only their SM3 hash is stored. Every
//! outcome, failures included, is written to the audit log without passwords, codes or tokens.

use crate::{Actor, App, AppError, ErrorCode};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use data_encoding::BASE64URL_NOPAD;
use domain::RegionCode;
use domain::access::{RegulatorRole, StaffRole};

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

use crate::vault::field::{PHONE as PHONE_FIELD, TOTP_SECRET as TOTP_FIELD};

/// The longest an account is slowed down after failed sign-ins from anywhere.
pub const MAX_SIGN_IN_DELAY_MS: i64 = 5 * 60_000;
/// Failures from this many sources within the lockout time are an attack on the account: the security
/// administrators are told.
pub const SOURCES_OF_AN_ATTACK: i64 = 3;
/// What a sign-in's source is indexed under (a keyed digest: the address itself is not kept).
const SIGN_IN_SOURCE: &str = "sign_in.source";

/// How long an account waits after `in_a_row` failed sign-ins: not at all after one (a typo), then 1 s,
/// 2 s, 4 s … at most [`MAX_SIGN_IN_DELAY_MS`].
pub fn sign_in_delay_ms(in_a_row: i64) -> i64 {
    if in_a_row < 2 {
        return 0;
    }
    let doublings = u32::try_from((in_a_row - 2).min(20)).unwrap_or(20);
    (1000i64 << doublings).min(MAX_SIGN_IN_DELAY_MS)
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

impl App {
    /// Checks a username/password (+TOTP) sign-in inside `tx` and records the outcome there. The outer
    /// error is a fault; the inner one a refusal, which the caller returns after committing `tx` (so
    /// failure counters and their evidence are kept).
    pub(crate) async fn verify_password(
        &self,
        tx: &mut store::WriteTx,
        req: &PasswordLogin,
        now: i64,
    ) -> Result<Result<AccountRow, AppError>, AppError> {
        // A parent who has set a password signs in with the phone number as the username (usernames
        // start with a letter, so the two never collide).
        let account = match domain::person::PhoneNumber::parse(req.username.trim()) {
            Ok(phone) => {
                let index = self.keys.blind_index(PHONE_FIELD, phone.expose());
                tx.account_by_phone_index(&index).await?
            }
            Err(_) => tx.account_by_username(req.username.trim()).await?,
        }
        .filter(|a| a.disabled == 0);
        let Some(account) = account else {
            password_matches(None, &req.password);
            tx.append_audit(vec![audit(
                "public",
                now,
                "auth.sign_in_failed",
                "account:unknown".into(),
                json!({"reason": "unknown_account"}),
            )])
            .await?;
            return Ok(Err(AppError::new(
                ErrorCode::InvalidCredentials,
                "用户名或密码错误",
                "wrong username or password",
            )));
        };
        let subject = format!("account:{}", account.id);
        let source = self.keys.blind_index(SIGN_IN_SOURCE, &req.source);
        // Refused without looking at the password: this source is locked out of the account, or the account
        // is slowed down after failures from anywhere.
        let refusal = match tx.source_locked_until(&account.id, &source).await? {
            Some(until) if until > now => Some(("locked", until, ErrorCode::AccountLocked)),
            _ => account
                .slowed_until
                .filter(|until| *until > now)
                .map(|until| ("slowed", until, ErrorCode::TooManyRequests)),
        };
        if let Some((reason, until, code)) = refusal {
            tx.append_audit(vec![audit(
                "public",
                now,
                "auth.sign_in_refused",
                subject,
                json!({"reason": reason, "until": until}),
            )])
            .await?;
            let wait_secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Ok(Err(
                AppError::new(code, "请稍后再试", "try again later").retry_after(wait_secs)
            ));
        }
        let second_factor = account.totp_secret_sealed.is_some();
        let mut failure = None;
        let mut totp_step = account.last_totp_step;
        if !password_matches(account.password_hash.as_deref(), &req.password) {
            failure = Some(("wrong_password", ErrorCode::InvalidCredentials));
        } else if second_factor {
            match req.totp.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => {
                    // Right password, no code yet: ask for it without counting a failure.
                    return Ok(Err(AppError::new(
                        ErrorCode::TotpRequired,
                        "请输入身份验证器中的动态口令",
                        "enter the code from the authenticator app",
                    )));
                }
                Some(code) => {
                    let secret = hex::decode(self.keys.open(
                        TOTP_FIELD,
                        account.totp_secret_sealed.as_deref().unwrap_or_default(),
                    )?)
                    .map_err(|_| AppError::internal("stored TOTP secret is not hex"))?;
                    let step = ledger::totp::verify(
                        &secret,
                        code,
                        (now / 1000) as u64,
                        self.auth_policy.totp_skew_steps,
                    );
                    match step {
                        Some(s) if account.last_totp_step.is_none_or(|last| (s as i64) > last) => {
                            totp_step = Some(s as i64)
                        }
                        _ => failure = Some(("wrong_or_reused_totp", ErrorCode::TotpInvalid)),
                    }
                }
            }
        }
        if let Some((reason, code)) = failure {
            return Ok(Err(self
                .count_failure(tx, &account, &source, reason, code, now)
                .await?));
        }
        if account.must_change_password != 0 {
            // The temporary password proved who this is; it is replaced before any session exists. Nothing
            // is written until then, so the same TOTP code can be sent again with the new password.
            let Some(new_password) = req.new_password.as_deref() else {
                return Ok(Err(AppError::new(
                    ErrorCode::PasswordChangeRequired,
                    "请在本次登录时一并设置新密码",
                    "send new_password with this sign-in",
                )));
            };
            if let Err(refusal) = self
                .replace_password(tx, &account, new_password, now)
                .await?
            {
                return Ok(Err(refusal));
            }
        }
        tx.record_sign_in(&account.id, totp_step, now).await?;
        tx.forget_source_failures(&account.id, &source).await?;
        tx.append_audit(vec![audit(
            &actor_of(&account)?.audit_name(),
            now,
            "auth.signed_in",
            subject,
            json!({"second_factor": second_factor}),
        )])
        .await?;
        Ok(Ok(account))
    }

    /// Counts a failed sign-in against the account and its source, in the caller's transaction, and returns
    /// the refusal to answer with. Enough failures from one source lock that source out of the account for
    /// the policy's lockout time; failures from anywhere slow the account down (0, 1 s, 2 s … at most
    /// [`MAX_SIGN_IN_DELAY_MS`]), so nobody can lock the owner out; when failures come from
    /// [`SOURCES_OF_AN_ATTACK`] sources within the lockout time, the security administrators over the
    /// account are told.
    async fn count_failure(
        &self,
        tx: &mut store::WriteTx,
        account: &AccountRow,
        source: &str,
        reason: &str,
        code: ErrorCode,
        now: i64,
    ) -> Result<AppError, AppError> {
        let policy = self.policy_in(tx).await?;
        let subject = format!("account:{}", account.id);
        let in_a_row = tx
            .count_account_failure(&account.id, now, policy.lockout_ms())
            .await?;
        let from_source = tx.count_source_failure(&account.id, source, now).await?;
        let delay = sign_in_delay_ms(in_a_row);
        tx.slow_account(&account.id, now + delay).await?;
        let mut entries = vec![audit(
            "public",
            now,
            "auth.sign_in_failed",
            subject.clone(),
            json!({"reason": reason, "failures": in_a_row, "from_source": from_source,
                   "slowed_until": now + delay}),
        )];
        if from_source >= policy.max_failures {
            let until = now + policy.lockout_ms();
            tx.lock_source(&account.id, source, until).await?;
            entries.push(audit(
                "system:auth",
                now,
                "auth.account_locked",
                subject.clone(),
                json!({"until": until, "for": "one_source"}),
            ));
        }
        let sources = tx
            .sources_failing_since(&account.id, now - policy.lockout_ms())
            .await?;
        if sources == SOURCES_OF_AN_ATTACK && from_source == 1 {
            entries.push(audit(
                "system:auth",
                now,
                "auth.account_under_attack",
                subject,
                json!({"sources": sources}),
            ));
            let region = account
                .region_code
                .as_deref()
                .and_then(|r| domain::RegionCode::parse(r).ok());
            let told: Vec<String> = tx
                .security_admins()
                .await?
                .into_iter()
                .filter(|(_, admin_region)| {
                    domain::RegionCode::parse(admin_region).is_ok_and(|admin| {
                        admin.level() == domain::region::RegionLevel::National
                            || region.as_ref().is_some_and(|r| admin.contains(r))
                    })
                })
                .map(|(id, _)| id)
                .collect();
            let who = account
                .username
                .as_deref()
                .unwrap_or("（手机号登录的家长）");
            self.notify_in(
                tx,
                &told,
                "账户疑似遭受密码猜测攻击",
                &format!(
                    "账户 {who}（{}）在{}分钟内从{sources}个不同来源登录失败。各来源已分别计数并锁定，账户本人仍可在延时后登录；请核查。",
                    account.display_name, policy.lockout_minutes
                ),
                now,
            )
            .await?;
        }
        tx.append_audit(entries).await?;
        Ok(AppError::new(code, "登录失败", "sign-in failed")
            .retry_after(u64::try_from((delay + 999) / 1000).unwrap_or(1)))
    }

    /// Signs in with username, password and (where required) a TOTP code, for the JSON API.
    pub async fn login(&self, req: &PasswordLogin) -> Result<TokenPair, AppError> {
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
        tx.insert_tokens(&tokens).await?;
        tx.commit().await?;
        Ok(pair)
    }

    pub(crate) fn issue_tokens(
        &self,
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

    fn token_hash(&self, token: &str) -> String {
        hex::encode(
            self.store
                .crypto()
                .hash(&[b"xiaowai/token/v1", token.as_bytes()]),
        )
    }

    /// Exchanges a refresh token for a new pair. A refresh token works once; presenting a spent one
    /// means it was stolen or replayed, and revokes every token of that sign-in.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AppError> {
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
            .token(&self.token_hash(refresh_token))
            .await?
            .filter(|t| t.kind == "refresh")
            .ok_or_else(unauthenticated)?;
        if token.revoked_at.is_some() {
            tx.revoke_token_family(&token.family, now).await?;
            tx.append_audit(vec![audit(
                "system:auth",
                now,
                "auth.refresh_reused",
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
            .account(&token.account_id)
            .await?
            .filter(|a| a.disabled == 0);
        let (Some(account), true) = (account, token.expires_at > now) else {
            return Err(unauthenticated());
        };
        tx.revoke_token(&token.token_hash, now).await?;
        let (pair, rows) = self.issue_tokens(&account, token.family.clone(), now)?;
        tx.insert_tokens(&rows).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// The actor behind a bearer access token.
    pub async fn authenticate(&self, access_token: &str) -> Result<Actor, AppError> {
        let now = self.clock.now().millis();
        let reader = self.store.read();
        let unauthenticated =
            || AppError::new(ErrorCode::Unauthenticated, "请重新登录", "sign in again");
        let token = reader
            .live_token(&self.token_hash(access_token), now)
            .await?
            .filter(|t| t.kind == "access")
            .ok_or_else(unauthenticated)?;
        let account = reader
            .account(&token.account_id)
            .await?
            .filter(|a| a.disabled == 0)
            .ok_or_else(unauthenticated)?;
        actor_of(&account)
    }

    /// Signs out: revokes every token of the sign-in the access token belongs to.
    pub async fn logout(&self, access_token: &str) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let token = tx
            .token(&self.token_hash(access_token))
            .await?
            .filter(|t| t.kind == "access" && t.revoked_at.is_none())
            .ok_or_else(|| {
                AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
            })?;
        tx.revoke_token_family(&token.family, now).await?;
        tx.append_audit(vec![audit(
            &format!("account:{}", token.account_id),
            now,
            "auth.signed_out",
            format!("account:{}", token.account_id),
            json!({}),
        )])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    /// Stores `new_password` for `account` with its audit entry; the inner error refuses a weak or unchanged
    /// password.
    async fn replace_password(
        &self,
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
        tx.set_password(&account.id, &hash_password(new_password)?, false, now)
            .await?;
        tx.append_audit(vec![audit(
            &actor_of(account)?.audit_name(),
            now,
            "account.password_changed",
            format!("account:{}", account.id),
            json!({"was_temporary": account.must_change_password != 0}),
        )])
        .await?;
        Ok(Ok(()))
    }

    /// Changes the signed-in account's own password; the current one must be given (a parent who has
    /// signed in only by SMS so far sets a first password without it).
    pub async fn change_password(
        &self,
        actor: &Actor,
        req: &ChangePassword,
    ) -> Result<(), AppError> {
        let id = actor.account_id().ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account = tx.account_for_update(id).await?.ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        if account.password_hash.is_some()
            && !password_matches(account.password_hash.as_deref(), &req.current_password)
        {
            tx.append_audit(vec![audit(
                &actor.audit_name(),
                now,
                "account.password_change_refused",
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
    pub async fn me(&self, actor: &Actor) -> Result<ActorView, AppError> {
        let id = actor.account_id().ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        let account = self.store.read().account(id).await?.ok_or_else(|| {
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
