//! 划拨指令: an instruction the platform gives the supervising bank (a lesson fee released to the
//! institution, a refund to the parent, or a day's batch of releases). The bank acknowledges it, then
//! reports it executed or failed; a result may arrive without an acknowledgement.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 指令状态
    pub enum InstructionStatus("instruction") {
        #[strum(message = "待发送银行")]
        Pending,
        #[strum(message = "银行已受理")]
        Acknowledged,
        #[strum(message = "银行已划转")]
        Executed,
        #[strum(message = "银行未执行")]
        Failed,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum InstructionEvent {
    Acknowledge,
    Execute,
    Fail,
}

impl Machine for InstructionStatus {
    type Event = InstructionEvent;
    const KIND: &'static str = "instruction";

    fn next(self, event: InstructionEvent) -> Option<Self> {
        use InstructionEvent as E;
        use InstructionStatus as S;
        match (self, event) {
            (S::Pending, E::Acknowledge) => Some(S::Acknowledged),
            (S::Pending | S::Acknowledged, E::Execute) => Some(S::Executed),
            (S::Pending | S::Acknowledged, E::Fail) => Some(S::Failed),
            _ => None,
        }
    }
}

impl InstructionStatus {
    /// The bank has given its result.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Executed | Self::Failed)
    }
}

impl InstructionEvent {
    /// The event a result reported by the bank is (`executed` or `failed`), if it is one.
    pub fn from_result(value: &str) -> Option<Self> {
        match InstructionStatus::parse(value) {
            Ok(InstructionStatus::Executed) => Some(Self::Execute),
            Ok(InstructionStatus::Failed) => Some(Self::Fail),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn a_result_is_final() {
        use InstructionEvent as E;
        use InstructionStatus::*;
        assert_eq!(Pending.apply(E::Acknowledge), Ok(Acknowledged));
        assert_eq!(Acknowledged.apply(E::Execute), Ok(Executed));
        assert_eq!(Pending.apply(E::Fail), Ok(Failed));
        assert!(Executed.apply(E::Fail).is_err() && Failed.apply(E::Execute).is_err());
        assert!(Acknowledged.apply(E::Acknowledge).is_err());
        assert_eq!(InstructionEvent::from_result("executed"), Some(E::Execute));
        assert_eq!(InstructionEvent::from_result("failed"), Some(E::Fail));
        assert_eq!(InstructionEvent::from_result("pending"), None);
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<InstructionStatus>(
            InstructionStatus::label_zh,
            &[
                InstructionEvent::Acknowledge,
                InstructionEvent::Execute,
                InstructionEvent::Fail,
            ],
        );
    }
}

crate::state::states! {
    /// Where a lesson's fee is on its way to the institution, as the parent and the institution read it:
    /// the release instruction's state, or held for the day's batch (批量划转) while it waits to be sent.
    pub enum ReleaseProgress("release") {
        #[strum(message = "待当日批量划转")]
        HeldForBatch,
        #[strum(message = "划转中")]
        Pending,
        #[strum(message = "划转中")]
        Acknowledged,
        #[strum(message = "已划转机构")]
        Executed,
        #[strum(message = "银行未执行，费用仍在监管")]
        Failed,
    }
}

impl ReleaseProgress {
    /// A release instruction's progress: `in_batch_queue` when it waits for a batch not yet formed.
    pub fn of(status: InstructionStatus, in_batch_queue: bool) -> Self {
        match status {
            InstructionStatus::Pending if in_batch_queue => Self::HeldForBatch,
            InstructionStatus::Pending => Self::Pending,
            InstructionStatus::Acknowledged => Self::Acknowledged,
            InstructionStatus::Executed => Self::Executed,
            InstructionStatus::Failed => Self::Failed,
        }
    }
}
