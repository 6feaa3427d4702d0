//! 站内信 the inbox: what the platform tells an account. Removal writes here now; orders, lessons and
//! refunds will too.

use crate::service::Service;
use crate::{Actor, AppError, ErrorCode};
use domain::Timestamp;
use serde::Serialize;
use store::NotificationRow;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub at_display: String,
    pub read: bool,
}

impl<'a> Service<'a> {
    /// Adds one notification per account, inside the caller's transaction.
    pub(crate) async fn notify_in(
        self,
        tx: &mut store::WriteTx,
        accounts: &[String],
        title: &str,
        body: &str,
        at: i64,
    ) -> Result<(), AppError> {
        let notes: Vec<Note> = accounts.iter().map(|a| Note::new(a, title, body)).collect();
        notify_each_in(tx, &notes, false, at).await
    }

    /// The signed-in account's newest 50 notifications.
    pub async fn my_notifications(self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let id = actor.account_id().ok_or_else(|| {
            AppError::new(ErrorCode::Unauthenticated, "尚未登录", "not signed in")
        })?;
        Ok(self
            .store
            .read()
            .inbox()
            .notifications_of(id, 50)
            .await?
            .into_iter()
            .map(|n| NotificationView {
                at_display: Timestamp::from_millis(n.created_at).china_display(),
                read: n.read_at.is_some(),
                id: n.id,
                title: n.title,
                body: n.body,
            })
            .collect())
    }
}

/// One notification to one account.
#[derive(Clone, Debug)]
pub(crate) struct Note {
    pub account_id: String,
    pub title: String,
    pub body: String,
}

impl Note {
    pub(crate) fn new(account_id: &str, title: &str, body: &str) -> Note {
        Note {
            account_id: account_id.to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
        }
    }
}

/// Writes notifications in bulk inside the caller's transaction and, for key events (`sms`), queues a text
/// message for each in the same transaction; the worker sends them ([`Service::send_queued_sms`]), so no message
/// is ever sent for an event that rolled back.
pub(crate) async fn notify_each_in(
    tx: &mut store::WriteTx,
    notes: &[Note],
    sms: bool,
    at: i64,
) -> Result<(), AppError> {
    let rows: Vec<NotificationRow> = notes
        .iter()
        .map(|n| NotificationRow {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: n.account_id.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            created_at: at,
            read_at: None,
        })
        .collect();
    tx.inbox().insert_notifications(&rows).await?;
    if sms {
        let texts: Vec<store::SmsRow> = notes
            .iter()
            .map(|n| store::SmsRow {
                id: uuid::Uuid::now_v7().to_string(),
                account_id: n.account_id.clone(),
                body: format!("【校外培训监管平台】{}：{}", n.title, n.body),
                created_at: at,
                attempts: 0,
                sent_at: None,
                last_error: None,
            })
            .collect();
        tx.inbox().insert_sms(&texts).await?;
    }
    Ok(())
}

/// After this many failed attempts a text message is given up (the inbox still has it).
const SMS_MAX_ATTEMPTS: i64 = 5;

impl<'a> Service<'a> {
    /// The same notification for each account and, as this is a key event, a text message.
    pub(crate) async fn notify_by_sms_in(
        self,
        tx: &mut store::WriteTx,
        accounts: &[String],
        title: &str,
        body: &str,
        at: i64,
    ) -> Result<(), AppError> {
        let notes: Vec<Note> = accounts.iter().map(|a| Note::new(a, title, body)).collect();
        notify_each_in(tx, &notes, true, at).await
    }

    /// The text-message job: claims queued messages, then sends them to the accounts' phones through the
    /// configured sender.
    /// An account without a phone (staff signing in by password) keeps the inbox copy only.
    pub async fn send_queued_sms(self) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let mut claim = self.store.begin_write().await?;
        let queued = claim
            .inbox()
            .claim_unsent_sms(
                now,
                now + crate::bank::DELIVERY_LEASE_MS,
                SMS_MAX_ATTEMPTS,
                50,
            )
            .await?;
        claim.commit().await?;
        for sms in &queued {
            let account = self
                .store
                .read()
                .accounts()
                .account(&sms.account_id)
                .await?;
            let outcome = match account.and_then(|a| a.phone_sealed) {
                None => Err("no phone number on the account".to_owned()),
                Some(sealed) => match self
                    .keys
                    .open(crate::vault::field::PHONE, &sealed)
                    .and_then(|p| crate::parents::phone(&p))
                {
                    Ok(phone) => self
                        .sms
                        .send(&phone, &sms.body)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                },
            };
            let mut tx = self.store.begin_write().await?;
            tx.inbox()
                .sms_attempted(&sms.id, self.clock.now().millis(), outcome.err().as_deref())
                .await?;
            tx.commit().await?;
        }
        Ok(queued.len())
    }
}
