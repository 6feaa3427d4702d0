//! 投诉: a parent's complaint goes to the institution first; the parent accepts its answer or, when the
//! answer does not satisfy or does not come in time, takes it to the competent regulator, who resolves it.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 投诉状态
    pub enum ComplaintStatus("complaint") {
        #[strum(message = "待机构答复")]
        WithInstitution,
        #[strum(message = "机构已答复，待家长确认")]
        Answered,
        #[strum(message = "家长接受答复，已办结")]
        Accepted,
        #[strum(message = "已提交监管部门处理")]
        Escalated,
        #[strum(message = "监管部门已处理，已办结")]
        Resolved,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ComplaintEvent {
    /// The institution answers.
    Answer,
    /// The parent accepts the answer.
    Accept,
    /// The parent takes it to the regulator (see [`ComplaintStatus::may_escalate`]).
    Escalate,
    /// The regulator rules.
    Resolve,
}

impl Machine for ComplaintStatus {
    type Event = ComplaintEvent;
    const KIND: &'static str = "complaint";

    fn next(self, event: ComplaintEvent) -> Option<Self> {
        use ComplaintEvent as E;
        use ComplaintStatus as S;
        match (self, event) {
            (S::WithInstitution, E::Answer) => Some(S::Answered),
            (S::Answered, E::Accept) => Some(S::Accepted),
            (S::WithInstitution | S::Answered, E::Escalate) => Some(S::Escalated),
            (S::Escalated, E::Resolve) => Some(S::Resolved),
            _ => None,
        }
    }
}

impl ComplaintStatus {
    /// The parent may escalate once answered, or once the institution let its deadline pass unanswered.
    pub fn may_escalate(self, institution_overdue: bool) -> bool {
        match self {
            Self::Answered => true,
            Self::WithInstitution => institution_overdue,
            _ => false,
        }
    }

    /// With the institution and past its deadline.
    pub fn institution_overdue(self, now: i64, answer_by: i64) -> bool {
        self == Self::WithInstitution && now >= answer_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn the_regulator_sees_a_complaint_only_after_the_institution() {
        use ComplaintEvent as E;
        use ComplaintStatus::*;
        assert_eq!(WithInstitution.apply(E::Answer), Ok(Answered));
        assert_eq!(Answered.apply(E::Accept), Ok(Accepted));
        assert!(WithInstitution.apply(E::Accept).is_err());
        assert!(WithInstitution.apply(E::Resolve).is_err());
        assert_eq!(Escalated.apply(E::Resolve), Ok(Resolved));
        assert!(!WithInstitution.may_escalate(false) && WithInstitution.may_escalate(true));
        assert!(Answered.may_escalate(false) && !Accepted.may_escalate(true));
        assert!(
            WithInstitution.institution_overdue(10, 10) && !Answered.institution_overdue(10, 1)
        );
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<ComplaintStatus>(
            ComplaintStatus::label_zh,
            &[
                ComplaintEvent::Answer,
                ComplaintEvent::Accept,
                ComplaintEvent::Escalate,
                ComplaintEvent::Resolve,
            ],
        );
    }
}
