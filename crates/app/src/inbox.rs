//! 站内信 the inbox: what the platform tells an account. Removal writes here now; orders, lessons and
//! refunds will too.

use crate::{Actor, App, AppError, ErrorCode};
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

impl App {
    /// Adds one notification per account, inside the caller's transaction.
    pub(crate) async fn notify_in(
        &self,
        tx: &mut store::WriteTx,
        accounts: &[String],
        title: &str,
        body: &str,
        at: i64,
    ) -> Result<(), AppError> {
        let rows: Vec<NotificationRow> = accounts
            .iter()
            .map(|account_id| NotificationRow {
                id: uuid::Uuid::now_v7().to_string(),
                account_id: account_id.clone(),
                title: title.to_owned(),
                body: body.to_owned(),
                created_at: at,
                read_at: None,
            })
            .collect();
        tx.insert_notifications(&rows).await?;
        Ok(())
    }

    /// The signed-in account's newest 50 notifications.
    pub async fn my_notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let id = actor
            .account_id()
            .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated, "not signed in"))?;
        Ok(self
            .store
            .read()
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
