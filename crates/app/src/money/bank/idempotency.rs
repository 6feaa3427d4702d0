//! A bank's or integrator's mutation is answered once per `Idempotency-Key`.

use crate::money::Money;
use crate::{Actor, AppError, ErrorCode};
use store::IdempotentRequestRow;

impl<'a> Money<'a> {
    /// A replayed mutation's first answer, if `key` was used by this client for the same request; a different
    /// request under the key is refused.
    pub async fn idempotent_replay(
        self,
        actor: &Actor,
        key: &str,
        request: &[u8],
    ) -> Result<Option<(u16, serde_json::Value)>, AppError> {
        let Actor::ApiClient { key_id, .. } = actor else {
            return Ok(None);
        };
        let Some(seen) = self
            .store
            .read()
            .bank()
            .idempotent_request(key_id, key)
            .await?
        else {
            return Ok(None);
        };
        if seen.request_digest != hex::encode(self.store.crypto().hash(&[request])) {
            return Err(AppError::new(
                ErrorCode::IdempotencyKeyReused,
                format!("幂等键 {key} 已用于另一请求"),
                format!("Idempotency-Key {key} was used for a different request"),
            ));
        }
        let body = serde_json::from_str(&seen.response_json)
            .map_err(|e| AppError::internal(format!("stored answer: {e}")))?;
        Ok(Some((u16::try_from(seen.status).unwrap_or(200), body)))
    }

    /// Keeps a mutation's answer under its idempotency key.
    pub async fn remember_answer(
        self,
        actor: &Actor,
        key: &str,
        request: &[u8],
        status: u16,
        answer: &serde_json::Value,
    ) -> Result<(), AppError> {
        let Actor::ApiClient { key_id, .. } = actor else {
            return Ok(());
        };
        let mut tx = self.store.begin_write().await?;
        tx.bank()
            .record_idempotent_request(&IdempotentRequestRow {
                client_key_id: key_id.clone(),
                idempotency_key: key.to_owned(),
                request_digest: hex::encode(self.store.crypto().hash(&[request])),
                status: i64::from(status),
                response_json: answer.to_string(),
                recorded_at: self.clock.now().millis(),
            })
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
