//! Browser sessions for the pages: a random cookie secret, stored only as a hash. The CSRF token of the
//! session's forms is derived from that secret, which only the server and the HttpOnly cookie hold, so a
//! page from elsewhere can neither read nor compute it. By the default security policy, 30 minutes'
//! inactivity ends a regulator's or bank operator's session (two hours for others) and twelve hours end any.

use crate::auth::{ActorView, PasswordLogin, actor_of, actor_view};
use crate::identity::Identity;
use crate::parents::PhoneLogin;
use crate::{Actor, AppError, ErrorCode};
use data_encoding::BASE64URL_NOPAD;
use domain::Action;
use rand::RngCore;
use store::SessionRow;

/// How a person signs in to the pages.
pub enum SignIn {
    Password(PasswordLogin),
    Code(PhoneLogin),
}

/// What the browser receives at sign-in: the cookie secret.
pub struct NewSession {
    pub token: String,
    pub actor: ActorView,
}

/// A live session, resolved from its cookie.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub actor: Actor,
    pub view: ActorView,
    /// The token this session's forms must carry.
    pub csrf: String,
    token_hash: String,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<'a> Identity<'a> {
    fn session_hash(self, kind: &[u8], secret: &str) -> String {
        hex::encode(
            self.store
                .crypto()
                .hash(&[b"xiaowai/session/v1/", kind, secret.as_bytes()]),
        )
    }

    /// Signs in for the pages: the same checks, lockout and evidence as the API.
    pub async fn start_session(self, sign_in: &SignIn) -> Result<NewSession, AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let verified = match sign_in {
            SignIn::Password(req) => self.verify_password(&mut tx, req, now).await?,
            SignIn::Code(req) => self.verify_code(&mut tx, req, now).await?,
        };
        let account = match verified {
            Ok(account) => account,
            Err(refusal) => {
                tx.commit().await?;
                return Err(refusal);
            }
        };
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = BASE64URL_NOPAD.encode(&bytes);
        let privileged = matches!(account.kind.as_str(), "regulator" | "bank_operator");
        let policy = self.policy_in(&mut tx).await?;
        tx.accounts()
            .insert_session(&SessionRow {
                token_hash: self.session_hash(b"token", &token),
                account_id: account.id.clone(),
                created_at: now,
                last_seen_at: now,
                idle_timeout_ms: policy.idle_ms(privileged),
                expires_at: now + policy.session_ms(),
                revoked_at: None,
            })
            .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            actor: actor_view(&account),
        })
    }

    /// The session behind a cookie; using it restarts its idle clock.
    pub async fn session(self, token: &str) -> Result<ActiveSession, AppError> {
        let now = self.clock.now().millis();
        let expired = || AppError::new(ErrorCode::Unauthenticated, "请重新登录", "sign in again");
        let token_hash = self.session_hash(b"token", token);
        let reader = self.store.read();
        let row = reader
            .accounts()
            .live_session(&token_hash, now)
            .await?
            .ok_or_else(expired)?;
        let account = reader
            .accounts()
            .account(&row.account_id)
            .await?
            .filter(|a| a.disabled == 0)
            .ok_or_else(expired)?;
        let mut tx = self.store.begin_write().await?;
        tx.accounts().touch_session(&token_hash, now).await?;
        tx.commit().await?;
        Ok(ActiveSession {
            actor: actor_of(&account)?,
            view: actor_view(&account),
            csrf: self.session_hash(b"csrf", token)[..32].to_owned(),
            token_hash,
        })
    }

    /// Refuses a state-changing form whose CSRF token is not this session's.
    pub fn check_csrf(self, session: &ActiveSession, csrf: &str) -> Result<(), AppError> {
        if constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::CsrfFailed,
                "表单校验令牌与登录会话不符，请刷新后重试",
                "the form's token does not match the session",
            ))
        }
    }

    /// Signs out of the pages.
    pub async fn end_session(self, session: &ActiveSession, csrf: &str) -> Result<(), AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.clock.now().millis();
        let subject = format!("account:{}", session.view.account_id);
        let entry = crate::evidence::record(
            &session.actor.audit_name(),
            now,
            Action::SignedOut,
            subject,
            serde_json::json!({"via": "page"}),
        );
        let mut tx = self.store.begin_write().await?;
        tx.accounts()
            .revoke_session(&session.token_hash, now)
            .await?;
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }
}
