//! 家长端 identity: phone sign-in with SMS codes, linked children, and logged reveals of personal data.
//!
//! A parent's phone number, a child's name and ID-card number are sealed in the vault and found through
//! blind indexes; every view shows them masked. Plain text leaves only through a reveal, which needs the
//! right (for now only the child's own parent), a stated reason, and
//! writes the personal-data access log and the audit log in the same transaction.

use crate::auth::TokenPair;
use crate::error::field_label;
use crate::identity::Identity;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::person::{IdCardNumber, PersonName, PhoneNumber};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use store::{AccountRow, ChildRow, LoginCodeRow, PiiAccessRow};

use crate::vault::field::{
    CHILD_ID_CARD as CHILD_ID_FIELD, CHILD_NAME as CHILD_NAME_FIELD, PHONE as PHONE_FIELD,
};
const CODE_TTL_MS: i64 = 5 * 60_000;
const CODE_MIN_INTERVAL_MS: i64 = 60_000;
const CODES_PER_DAY: i64 = 10;
const CODE_ATTEMPTS: i64 = 5;
const MAX_TEXT_CHARS: usize = 100;

/// What sending an SMS returns.
pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

/// Where SMS messages go: an HTTP gateway in production ([`HttpSmsSender`]); development records them
/// for the developer ([`DevSmsSender`]).
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, phone: &'a PhoneNumber, text: &'a str) -> SmsFuture<'a>;
}

/// Development sender: keeps the messages in memory and, when given a file, appends them there (with
/// the number masked) so a developer can read the code.
#[derive(Debug, Default)]
pub struct DevSmsSender {
    file: Option<PathBuf>,
    sent: Mutex<Vec<(String, String)>>,
}

impl DevSmsSender {
    pub fn recording_to(file: PathBuf) -> DevSmsSender {
        DevSmsSender {
            file: Some(file),
            sent: Mutex::default(),
        }
    }

    /// The last message sent to `phone`, for tests.
    pub fn last_to(&self, phone: &str) -> Option<String> {
        let sent = self.sent.lock().ok()?;
        sent.iter()
            .rev()
            .find(|(p, _)| p == phone)
            .map(|(_, t)| t.clone())
    }

    /// Every message sent to `phone`, oldest first, for tests.
    pub fn sent_to(&self, phone: &str) -> Vec<String> {
        self.sent.lock().map_or_else(
            |_| Vec::new(),
            |sent| {
                sent.iter()
                    .filter(|(p, _)| p == phone)
                    .map(|(_, t)| t.clone())
                    .collect()
            },
        )
    }

    fn record(&self, phone: &PhoneNumber, text: &str) -> Result<(), AppError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((phone.expose().to_owned(), text.to_owned()));
        }
        if let Some(file) = &self.file {
            use std::io::Write;
            let line = format!("{} {}\n", phone.masked(), text);
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
                .and_then(|mut f| f.write_all(line.as_bytes()))
                .map_err(|e| AppError::internal(format!("development SMS file: {e}")))?;
        }
        Ok(())
    }
}

impl SmsSender for DevSmsSender {
    fn send<'a>(&'a self, phone: &'a PhoneNumber, text: &'a str) -> SmsFuture<'a> {
        Box::pin(std::future::ready(self.record(phone, text)))
    }
}

/// An SMS gateway reached over HTTP(S): `POST <url>` with `Authorization: Bearer <key>` and the JSON body
/// `{"phone": "13800000001", "text": "..."}`; any 2xx answer means accepted. Operators put a small
/// adapter in front of their carrier's or cloud vendor's API if it speaks another dialect
/// (docs/operations.md).
pub struct HttpSmsSender {
    url: String,
    key: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpSmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a credential: never in logs.
        f.debug_struct("HttpSmsSender")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpSmsSender {
    /// A sender to the gateway at `url` (http or https), authenticating with `key`, through the egress
    /// client: a request gives up after ten seconds and follows no redirect.
    pub fn new(url: &str, key: &str) -> Result<HttpSmsSender, AppError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            AppError::new(
                ErrorCode::InvalidParameter,
                "短信网关地址不正确",
                format!("SMS gateway URL: {e}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || key.trim().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "短信网关须配置 http(s) 地址和密钥",
                "the SMS gateway needs an http(s) URL and a key",
            ));
        }
        // The egress client (no redirects, no proxy, bounded time); the gateway is set by the operator, not
        // by a user, and usually runs inside its network, so internal addresses are allowed.
        let client = crate::egress::client(true)?;
        Ok(HttpSmsSender {
            url: parsed.to_string(),
            key: key.trim().to_owned(),
            client,
        })
    }
}

impl SmsSender for HttpSmsSender {
    fn send<'a>(&'a self, phone: &'a PhoneNumber, text: &'a str) -> SmsFuture<'a> {
        Box::pin(async move {
            let unavailable = |detail: String| {
                AppError::new(ErrorCode::Unavailable, "短信网关暂时不可用", detail)
            };
            let answer = self
                .client
                .post(&self.url)
                .bearer_auth(&self.key)
                .json(&json!({"phone": phone.expose(), "text": text}))
                .send()
                .await
                // Without the URL: reqwest's error text could carry it, and the body carries the number.
                .map_err(|e| {
                    unavailable(format!("SMS gateway unreachable: {}", e.without_url()))
                })?;
            if answer.status().is_success() {
                Ok(())
            } else {
                Err(unavailable(format!(
                    "SMS gateway answered {}",
                    answer.status()
                )))
            }
        })
    }
}

/// `POST /api/v1/auth/login` with a phone number and the SMS code.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct PhoneLogin {
    pub phone: String,
    pub code: String,
}

/// A child to link to the signed-in parent.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct NewChild {
    pub name: String,
    /// `female` or `male`.
    pub gender: String,
    /// 18 characters, GB 11643.
    pub id_card: String,
    pub school: String,
    pub grade: String,
}

/// A child as every page and response shows it: masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct ChildView {
    pub id: String,
    pub name_masked: String,
    pub gender: String,
    pub id_card_masked: String,
    pub school: String,
    pub grade: String,
}

/// Which personal datum to reveal.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChildField {
    Name,
    IdCard,
}

fn text(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_TEXT_CHARS || v.chars().any(char::is_control) {
        return Err(AppError::new(
            ErrorCode::FieldTooLong,
            format!("{}：须为1至{MAX_TEXT_CHARS}个字符", field_label(field)),
            format!("{field}: 1 to {MAX_TEXT_CHARS} characters"),
        )
        .on(field));
    }
    Ok(v.to_owned())
}

pub(crate) fn phone(s: &str) -> Result<PhoneNumber, AppError> {
    PhoneNumber::parse(s)
        .map_err(|e| AppError::new(ErrorCode::InvalidPhone, e.message_zh(), e.to_string()))
}

use crate::evidence::record as entry;

impl<'a> Identity<'a> {
    fn code_hash(self, phone_index: &str, code: &str) -> String {
        hex::encode(self.store.crypto().hash(&[
            b"xiaowai/sms-code/v1",
            phone_index.as_bytes(),
            code.as_bytes(),
        ]))
    }

    /// Sends a six-digit sign-in code, at most one a minute and ten a day per number.
    pub async fn request_login_code(self, phone_text: &str) -> Result<(), AppError> {
        let phone = phone(phone_text)?;
        let now = self.clock.now().millis();
        let index = self.keys.blind_index(PHONE_FIELD, phone.expose());
        let mut tx = self.store.begin_write().await?;
        if tx
            .parents()
            .login_codes_since(&index, now - CODE_MIN_INTERVAL_MS + 1)
            .await?
            > 0
            || tx
                .parents()
                .login_codes_since(&index, now - 24 * 3_600_000)
                .await?
                >= CODES_PER_DAY
        {
            return Err(AppError::new(
                ErrorCode::TooManyRequests,
                "验证码刚刚发送过，请稍后再试",
                "a code was sent recently",
            ));
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        let code_id = uuid::Uuid::now_v7().to_string();
        tx.parents()
            .insert_login_code(&LoginCodeRow {
                id: code_id.clone(),
                code_hash: self.code_hash(&index, &code),
                phone_index: index,
                created_at: now,
                expires_at: now + CODE_TTL_MS,
                attempts: 0,
                used_at: None,
            })
            .await?;
        // Sent after commit, so no write lock is held while the gateway answers; if sending fails the
        // code is withdrawn, so the parent may ask again at once.
        tx.commit().await?;
        let text = format!("【校外培训监管平台】验证码 {code}，5分钟内有效。请勿告诉他人。");
        if let Err(failure) = self.sms.send(&phone, &text).await {
            let mut tx = self.store.begin_write().await?;
            tx.parents().delete_login_code(&code_id).await?;
            tx.commit().await?;
            return Err(failure);
        }
        Ok(())
    }

    /// Checks a parent's SMS code inside `tx` (creating the account at the first sign-in) and records the
    /// sign-in. As with passwords, the inner error is a refusal to return after committing `tx`.
    pub(crate) async fn verify_code(
        self,
        tx: &mut store::WriteTx,
        req: &PhoneLogin,
        now: i64,
    ) -> Result<Result<AccountRow, AppError>, AppError> {
        let phone = match phone(&req.phone) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let index = self.keys.blind_index(PHONE_FIELD, phone.expose());
        let invalid = || {
            AppError::new(
                ErrorCode::InvalidCode,
                "请重新获取验证码",
                "request a new code",
            )
        };
        let code = tx.parents().latest_login_code(&index).await?;
        let Some(code) = code
            .filter(|c| c.used_at.is_none() && c.expires_at > now && c.attempts < CODE_ATTEMPTS)
        else {
            return Ok(Err(invalid()));
        };
        if code.code_hash != self.code_hash(&index, req.code.trim()) {
            tx.parents()
                .update_login_code(&code.id, code.attempts + 1, None)
                .await?;
            return Ok(Err(invalid()));
        }
        tx.parents()
            .update_login_code(&code.id, code.attempts + 1, Some(now))
            .await?;
        let account = match tx.parents().account_by_phone_index(&index).await? {
            Some(a) => a,
            None => {
                let row = self.new_parent_row(&phone, now);
                tx.accounts()
                    .insert_accounts(std::slice::from_ref(&row))
                    .await?;
                let created = entry(
                    "system:auth",
                    now,
                    Action::AccountCreated,
                    format!("account:{}", row.id),
                    json!({"id": row.id, "kind": "parent"}),
                );
                tx.append_audit(vec![created]).await?;
                row
            }
        };
        let signed_in = entry(
            &format!("parent:{}", account.id),
            now,
            Action::SignedIn,
            format!("account:{}", account.id),
            json!({"method": "sms_code"}),
        );
        tx.append_audit(vec![signed_in]).await?;
        Ok(Ok(account))
    }

    /// Signs a parent in with the code for the JSON API; the first sign-in creates the parent's account.
    pub async fn login_with_code(self, req: &PhoneLogin) -> Result<TokenPair, AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account = match self.verify_code(&mut tx, req, now).await? {
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

    fn new_parent_row(self, phone: &PhoneNumber, now: i64) -> AccountRow {
        let id = uuid::Uuid::now_v7().to_string();
        let mut row =
            crate::auth::blank_account(&id, "parent", &format!("家长{}", phone.masked()), now);
        row.phone_sealed = Some(self.keys.seal(PHONE_FIELD, phone.expose()));
        row.phone_index = Some(self.keys.blind_index(PHONE_FIELD, phone.expose()));
        row
    }

    /// Creates a parent account directly (the demo's parent; real parents appear at their first sign-in).
    pub(crate) async fn create_parent(
        self,
        actor: &Actor,
        phone: &PhoneNumber,
    ) -> Result<Actor, AppError> {
        let now = self.clock.now().millis();
        let row = self.new_parent_row(phone, now);
        let mut tx = self.store.begin_write().await?;
        tx.accounts()
            .insert_accounts(std::slice::from_ref(&row))
            .await?;
        tx.append_audit(vec![entry(
            &actor.audit_name(),
            now,
            Action::AccountCreated,
            format!("account:{}", row.id),
            json!({"id": row.id, "kind": "parent"}),
        )])
        .await?;
        tx.commit().await?;
        Ok(Actor::Parent { account_id: row.id })
    }

    fn parent_id(actor: &Actor) -> Result<&str, AppError> {
        match actor {
            Actor::Parent { account_id } => Ok(account_id),
            _ => Err(AppError::new(
                ErrorCode::Forbidden,
                "只有家长可以添加孩子",
                "only a parent links children",
            )),
        }
    }

    /// Links a child to the signed-in parent.
    pub async fn add_child(self, actor: &Actor, new: &NewChild) -> Result<ChildView, AppError> {
        let parent_id = Self::parent_id(actor)?.to_owned();
        let name = PersonName::parse(&new.name)
            .map_err(|e| AppError::new(ErrorCode::InvalidName, e.message_zh(), e.to_string()))?;
        let id_card = IdCardNumber::parse(&new.id_card)
            .map_err(|e| AppError::new(ErrorCode::InvalidIdCard, e.message_zh(), e.to_string()))?;
        let gender = match new.gender.trim() {
            g @ ("female" | "male") => g.to_owned(),
            "女" => "female".to_owned(),
            "男" => "male".to_owned(),
            _ => {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "性别：须为女或男",
                    "gender: female or male",
                )
                .on("gender"));
            }
        };
        let now = self.clock.now().millis();
        let row = ChildRow {
            id: uuid::Uuid::now_v7().to_string(),
            parent_id,
            name_sealed: self.keys.seal(CHILD_NAME_FIELD, name.expose()),
            gender,
            id_card_sealed: self.keys.seal(CHILD_ID_FIELD, id_card.expose()),
            id_card_index: self.keys.blind_index(CHILD_ID_FIELD, id_card.expose()),
            school: text("school", &new.school)?,
            grade: text("grade", &new.grade)?,
            created_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.parents()
            .insert_children(std::slice::from_ref(&row))
            .await?;
        tx.append_audit(vec![entry(
            &actor.audit_name(),
            now,
            Action::ChildLinked,
            format!("child:{}", row.id),
            json!({"child_id": row.id, "parent_id": row.parent_id}),
        )])
        .await?;
        tx.commit().await?;
        self.child_view(&row)
    }

    fn child_view(self, c: &ChildRow) -> Result<ChildView, AppError> {
        let name = PersonName::parse(&self.keys.open(CHILD_NAME_FIELD, &c.name_sealed)?)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let id_card = IdCardNumber::parse(&self.keys.open(CHILD_ID_FIELD, &c.id_card_sealed)?)
            .map_err(|e| AppError::internal(e.to_string()))?;
        Ok(ChildView {
            id: c.id.clone(),
            name_masked: name.masked(),
            gender: c.gender.clone(),
            id_card_masked: id_card.masked(),
            school: c.school.clone(),
            grade: c.grade.clone(),
        })
    }

    /// The signed-in parent's children, masked.
    pub async fn my_children(self, actor: &Actor) -> Result<Vec<ChildView>, AppError> {
        let parent_id = Self::parent_id(actor)?;
        self.store
            .read()
            .parents()
            .children_of(parent_id)
            .await?
            .iter()
            .map(|c| self.child_view(c))
            .collect()
    }

    /// The plain value of one of a child's personal data, for the child's parent; the reason is required
    /// and, with the actor, goes to the access log.
    pub async fn reveal_child(
        self,
        actor: &Actor,
        child_id: &str,
        field: ChildField,
        reason: &str,
    ) -> Result<String, AppError> {
        let reason = text("reason", reason)?;
        let child = self
            .store
            .read()
            .parents()
            .child(child_id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这个孩子", "no such child"))?;
        // Only the child's own parent, for now. A regulator with `RevealPersonalData` will reveal a child's
        // data through a case (a complaint or refund dispute) that ties the child to an institution in its
        // region; until such cases exist no regulator path is open, so none can reach across regions.
        let own = matches!(actor, Actor::Parent { account_id } if *account_id == child.parent_id);
        if !own {
            let details = json!({"field": format!("{field:?}")});
            let subject = format!("child:{}", child.id);
            return Err(self
                .deny(
                    actor,
                    &subject,
                    details,
                    "仅限孩子的家长查看",
                    "only the child's parent may see this",
                )
                .await);
        }
        let (field_name, sealed) = match field {
            ChildField::Name => (CHILD_NAME_FIELD, &child.name_sealed),
            ChildField::IdCard => (CHILD_ID_FIELD, &child.id_card_sealed),
        };
        let value = self.keys.open(field_name, sealed)?;
        let now = self.clock.now().millis();
        let subject = format!("child:{}", child.id);
        let mut tx = self.store.begin_write().await?;
        tx.parents()
            .insert_pii_access(&[PiiAccessRow {
                id: uuid::Uuid::now_v7().to_string(),
                actor: actor.audit_name(),
                subject: subject.clone(),
                field: field_name.to_owned(),
                reason: reason.clone(),
                at: now,
            }])
            .await?;
        tx.append_audit(vec![entry(
            &actor.audit_name(),
            now,
            Action::PersonalDataRevealed,
            subject,
            json!({"field": field_name, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        Ok(value)
    }
}
