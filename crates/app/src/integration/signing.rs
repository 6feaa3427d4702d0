//! 接口签名 signed requests for API clients (banks, integrators).
//!
//! Each request carries `X-Xiaowai-Key` (key id), `X-Xiaowai-Timestamp` (unix ms), `X-Xiaowai-Nonce` (16–64 of
//! `A-Z a-z 0-9 - _`) and `X-Xiaowai-Signature`: lowercase hex of HMAC-SM3(secret, canonical request), where
//! the canonical request is
//!
//! ```text
//! METHOD \n PATH?QUERY \n hex(SM3(body)) \n TIMESTAMP \n NONCE
//! ```
//!
//! A request more than five minutes from the platform's clock is refused, and so is a nonce the client
//! used before within that window: a captured request cannot be replayed.

use crate::integration::Integration;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use ledger::Crypto;
use rand::RngCore;
use store::ApiClientRow;

pub const REPLAY_WINDOW_MS: i64 = 5 * 60_000;
use crate::vault::field::API_SECRET as SECRET_FIELD;

/// The parts of a request that the signature covers.
#[derive(Clone, Debug)]
pub struct SignedRequest<'a> {
    pub key_id: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
    pub timestamp_ms: i64,
    pub nonce: &'a str,
    pub signature: &'a str,
}

/// The string both sides sign.
pub fn canonical_request(
    crypto: &dyn Crypto,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp_ms: i64,
    nonce: &str,
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        hex::encode(crypto.hash(&[body])),
        timestamp_ms,
        nonce
    )
}

/// The signature a client sends (lowercase hex).
pub fn sign(crypto: &dyn Crypto, secret: &[u8], canonical: &str) -> String {
    hex::encode(crypto.mac(secret, &[canonical.as_bytes()]))
}

fn nonce_ok(n: &str) -> bool {
    (16..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<'a> Integration<'a> {
    /// Registers an API client and returns `(key id, secret)`; the secret is shown this once.
    pub async fn create_api_client(
        self,
        actor: &Actor,
        owner_kind: &str,
        owner_id: &str,
    ) -> Result<(String, String), AppError> {
        if !matches!(actor, Actor::System { .. }) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "接入客户端由平台登记",
                "API clients are registered by the platform",
            ));
        }
        if !matches!(owner_kind, "bank" | "integrator") || owner_id.trim().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "所属类别：须为银行或技术服务商，并填写所属编号",
                "owner_kind: bank or integrator; owner_id required",
            )
            .on("owner_kind"));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let key_id = format!("xwk_{}", uuid::Uuid::now_v7().simple());
        self.register_api_client(actor, &key_id, &secret, owner_kind, owner_id)
            .await?;
        Ok((key_id, secret))
    }

    /// Registers a client with a given key id and secret (the demo's documented bank key).
    pub(crate) async fn register_api_client(
        self,
        actor: &Actor,
        key_id: &str,
        secret: &str,
        owner_kind: &str,
        owner_id: &str,
    ) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let row = ApiClientRow {
            key_id: key_id.to_owned(),
            secret_sealed: self.keys.seal(SECRET_FIELD, secret),
            owner_kind: owner_kind.to_owned(),
            owner_id: owner_id.to_owned(),
            disabled: 0,
            created_at: now,
        };
        let entry = crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::ApiClientCreated,
            format!("api_client:{key_id}"),
            serde_json::json!({"key_id": key_id, "owner_kind": owner_kind, "owner_id": owner_id}),
        );
        let mut tx = self.store.begin_write().await?;
        tx.clients().insert_api_client(&row).await?;
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Verifies a signed request and returns the client as the actor.
    pub async fn verify_signed(self, req: &SignedRequest<'_>) -> Result<Actor, AppError> {
        let now = self.clock.now().millis();
        if (now - req.timestamp_ms).abs() > REPLAY_WINDOW_MS {
            return Err(AppError::new(
                ErrorCode::StaleRequest,
                format!("时间戳 {} 与当前时间 {now} 相差超过5分钟", req.timestamp_ms),
                format!(
                    "timestamp {} is more than 5 minutes from {now}",
                    req.timestamp_ms
                ),
            ));
        }
        if !nonce_ok(req.nonce) {
            return Err(AppError::new(
                ErrorCode::InvalidSignature,
                "随机数（nonce）：须为16至64个字母、数字、- 或 _",
                "nonce: 16 to 64 of A-Z a-z 0-9 - _",
            )
            .on("nonce"));
        }
        let bad = || {
            AppError::new(
                ErrorCode::InvalidSignature,
                "签名验证未通过",
                "signature does not verify",
            )
        };
        let client = self
            .store
            .read()
            .clients()
            .api_client(req.key_id)
            .await?
            .filter(|c| c.disabled == 0)
            .ok_or_else(bad)?;
        let secret = self.keys.open(SECRET_FIELD, &client.secret_sealed)?;
        let crypto = self.store.crypto();
        let canonical = canonical_request(
            crypto,
            req.method,
            req.path_and_query,
            req.body,
            req.timestamp_ms,
            req.nonce,
        );
        if !constant_time_eq(
            sign(crypto, secret.as_bytes(), &canonical).as_bytes(),
            req.signature.trim().to_ascii_lowercase().as_bytes(),
        ) {
            return Err(bad());
        }
        let mut tx = self.store.begin_write().await?;
        tx.clients()
            .forget_nonces_before(now - 2 * REPLAY_WINDOW_MS)
            .await?;
        match tx
            .clients()
            .record_nonce(&client.key_id, req.nonce, now)
            .await
        {
            Ok(()) => {}
            Err(store::StoreError::Conflict(_)) => {
                return Err(AppError::new(
                    ErrorCode::ReplayedRequest,
                    "该随机数已使用过",
                    "this nonce was already used",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(Actor::ApiClient {
            key_id: client.key_id,
            owner_kind: client.owner_kind,
            owner_id: client.owner_id,
        })
    }
}
