//! 课时确认 (消课): each lesson the institution records waits for the parent's answer; silence past the
//! window confirms it when attendance has evidence, and sends it to review when it has none.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 课时状态
    pub enum LessonStatus("lesson") {
        /// 待确认
        #[strum(message = "待确认")]
        AwaitingConfirmation,
        /// 已确认: the parent confirmed; the fee is instructed for release.
        #[strum(message = "已确认")]
        Confirmed,
        /// 逾期自动确认: silence past the window, with attendance evidence.
        #[strum(message = "逾期未答复，已自动确认")]
        AutoConfirmed,
        /// 有异议: the fee stays frozen in escrow.
        #[strum(message = "有异议（该课费用冻结）")]
        Disputed,
        /// 待核查: silence past the window without attendance evidence; the fee stays in escrow.
        #[strum(message = "无签到凭证，待核查")]
        NeedsReview,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum LessonEvent {
    /// 确认已上课
    Confirm,
    /// 提出异议
    Dispute,
    /// The window closed: evidence was recorded.
    WindowClosedWithEvidence,
    /// The window closed: no evidence was recorded.
    WindowClosedWithoutEvidence,
}

impl Machine for LessonStatus {
    type Event = LessonEvent;
    const KIND: &'static str = "lesson";

    fn next(self, event: LessonEvent) -> Option<Self> {
        if self != Self::AwaitingConfirmation {
            return None;
        }
        Some(match event {
            LessonEvent::Confirm => Self::Confirmed,
            LessonEvent::Dispute => Self::Disputed,
            LessonEvent::WindowClosedWithEvidence => Self::AutoConfirmed,
            LessonEvent::WindowClosedWithoutEvidence => Self::NeedsReview,
        })
    }
}

impl LessonStatus {
    /// Taken: the lesson counts against the order (its fee goes to the institution).
    pub fn is_taken(self) -> bool {
        matches!(self, Self::Confirmed | Self::AutoConfirmed)
    }

    /// The states that count as taken, for queries.
    pub const TAKEN: [LessonStatus; 2] = [Self::Confirmed, Self::AutoConfirmed];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn a_lesson_is_answered_once() {
        use LessonStatus::*;
        assert_eq!(
            AwaitingConfirmation.apply(LessonEvent::Confirm),
            Ok(Confirmed)
        );
        assert_eq!(
            AwaitingConfirmation.apply(LessonEvent::Dispute),
            Ok(Disputed)
        );
        assert_eq!(
            AwaitingConfirmation.apply(LessonEvent::WindowClosedWithoutEvidence),
            Ok(NeedsReview)
        );
        for s in [Confirmed, AutoConfirmed, Disputed, NeedsReview] {
            assert!(s.apply(LessonEvent::Confirm).is_err(), "{s}");
        }
        assert_eq!(
            LessonStatus::sources(LessonEvent::Dispute),
            vec![AwaitingConfirmation]
        );
        assert!(Confirmed.is_taken() && AutoConfirmed.is_taken() && !Disputed.is_taken());
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<LessonStatus>(
            LessonStatus::label_zh,
            &[
                LessonEvent::Confirm,
                LessonEvent::Dispute,
                LessonEvent::WindowClosedWithEvidence,
                LessonEvent::WindowClosedWithoutEvidence,
            ],
        );
    }
}
