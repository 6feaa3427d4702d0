//! 资金监管账户: a supervised account an institution names is pending until its bank confirms it.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 监管账户状态
    pub enum AccountStatus("supervised account") {
        #[strum(message = "待银行确认")]
        Pending,
        #[strum(message = "银行已确认")]
        Confirmed,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum AccountEvent {
    /// The bank confirms it holds the account under supervision.
    Confirm,
}

impl Machine for AccountStatus {
    type Event = AccountEvent;
    const KIND: &'static str = "supervised account";

    fn next(self, event: AccountEvent) -> Option<Self> {
        match (self, event) {
            (Self::Pending, AccountEvent::Confirm) => Some(Self::Confirmed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn a_bank_confirms_once() {
        assert_eq!(
            AccountStatus::Pending.apply(AccountEvent::Confirm),
            Ok(AccountStatus::Confirmed)
        );
        assert!(
            AccountStatus::Confirmed
                .apply(AccountEvent::Confirm)
                .is_err()
        );
        testing::round_trips::<AccountStatus>(AccountStatus::label_zh, &[AccountEvent::Confirm]);
    }
}
