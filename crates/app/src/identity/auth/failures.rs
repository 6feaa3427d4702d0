//! 登录失败 checking a password sign-in and counting its failures: an account is slowed down after failures
//! from anywhere and locked only for the source that keeps failing; failures from many sources are an attack,
//! and the security administrators are told.

use super::{PasswordLogin, actor_of, password_matches};
use crate::evidence::record as audit;
use crate::identity::Identity;
use crate::vault::field::{PHONE as PHONE_FIELD, TOTP_SECRET as TOTP_FIELD};
use crate::{AppError, ErrorCode};
use domain::Action;
use serde_json::json;
use store::AccountRow;

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

impl<'a> Identity<'a> {
    /// Checks a username/password (+TOTP) sign-in inside `tx` and records the outcome there. The outer
    /// error is a fault; the inner one a refusal, which the caller returns after committing `tx` (so
    /// failure counters and their evidence are kept).
    pub(crate) async fn verify_password(
        self,
        tx: &mut store::WriteTx,
        req: &PasswordLogin,
        now: i64,
    ) -> Result<Result<AccountRow, AppError>, AppError> {
        // A parent who has set a password signs in with the phone number as the username (usernames
        // start with a letter, so the two never collide).
        let account = match domain::person::PhoneNumber::parse(req.username.trim()) {
            Ok(phone) => {
                let index = self.keys.blind_index(PHONE_FIELD, phone.expose());
                tx.parents().account_by_phone_index(&index).await?
            }
            Err(_) => {
                tx.accounts()
                    .account_by_username(req.username.trim())
                    .await?
            }
        }
        .filter(|a| a.disabled == 0);
        let Some(account) = account else {
            password_matches(None, &req.password);
            tx.append_audit(vec![audit(
                "public",
                now,
                Action::SignInFailed,
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
        let refusal = match tx
            .accounts()
            .source_locked_until(&account.id, &source)
            .await?
        {
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
                Action::SignInRefused,
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
        tx.accounts()
            .record_sign_in(&account.id, totp_step, now)
            .await?;
        tx.accounts()
            .forget_source_failures(&account.id, &source)
            .await?;
        tx.append_audit(vec![audit(
            &actor_of(&account)?.audit_name(),
            now,
            Action::SignedIn,
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
        self,
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
            .accounts()
            .count_account_failure(&account.id, now, policy.lockout_ms())
            .await?;
        let from_source = tx
            .accounts()
            .count_source_failure(&account.id, source, now)
            .await?;
        let delay = sign_in_delay_ms(in_a_row);
        tx.accounts().slow_account(&account.id, now + delay).await?;
        let mut entries = vec![audit(
            "public",
            now,
            Action::SignInFailed,
            subject.clone(),
            json!({"reason": reason, "failures": in_a_row, "from_source": from_source,
                   "slowed_until": now + delay}),
        )];
        if from_source >= policy.max_failures {
            let until = now + policy.lockout_ms();
            tx.accounts()
                .lock_source(&account.id, source, until)
                .await?;
            entries.push(audit(
                "system:auth",
                now,
                Action::AccountLocked,
                subject.clone(),
                json!({"until": until, "for": "one_source"}),
            ));
        }
        let sources = tx
            .accounts()
            .sources_failing_since(&account.id, now - policy.lockout_ms())
            .await?;
        if sources == SOURCES_OF_AN_ATTACK && from_source == 1 {
            entries.push(audit(
                "system:auth",
                now,
                Action::AccountUnderAttack,
                subject,
                json!({"sources": sources}),
            ));
            let region = account
                .region_code
                .as_deref()
                .and_then(|r| domain::RegionCode::parse(r).ok());
            let told: Vec<String> = tx
                .inbox()
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
            self.service().notify_in(
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
}
