//! 风险预警: a warning the risk model raises about an institution. The institution explains itself; a
//! regulator over it lifts the warning (rectified) or escalates it; past its deadline an open or escalated
//! warning is published (公开提示) and the institution goes to the grey list.

use strum::{EnumString, IntoStaticStr};

use crate::state::Machine;

crate::state::states! {
    /// 预警状态
    pub enum WarningStatus("warning") {
        #[strum(message = "待整改")]
        Open,
        #[strum(message = "机构已说明，待核实")]
        Answered,
        #[strum(message = "已解除")]
        Lifted,
        #[strum(message = "已升级处置")]
        Escalated,
        #[strum(message = "逾期未整改，已公开提示")]
        Published,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum WarningEvent {
    /// The institution explains what it did.
    Answer,
    /// A regulator finds it rectified.
    Lift,
    /// A regulator finds it not rectified.
    Escalate,
    /// The deadline passed.
    Publish,
}

impl Machine for WarningStatus {
    type Event = WarningEvent;
    const KIND: &'static str = "warning";

    fn next(self, event: WarningEvent) -> Option<Self> {
        use WarningEvent as E;
        use WarningStatus as S;
        match (self, event) {
            (S::Open | S::Escalated, E::Answer) => Some(S::Answered),
            (S::Open | S::Answered | S::Escalated, E::Lift) => Some(S::Lifted),
            (S::Open | S::Answered, E::Escalate) => Some(S::Escalated),
            (S::Open | S::Escalated, E::Publish) => Some(S::Published),
            _ => None,
        }
    }
}

impl WarningStatus {
    /// Still weighing on the institution's risk score and the regulator's desk.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Open | Self::Answered | Self::Escalated)
    }
}

impl WarningEvent {
    /// A regulator's decision as the API names it: `lift` or `escalate`.
    pub fn regulator_decision(value: &str) -> Option<Self> {
        value
            .parse()
            .ok()
            .filter(|e| matches!(e, Self::Lift | Self::Escalate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;
    use strum::VariantArray;

    #[test]
    fn a_warning_ends_lifted_or_published() {
        use WarningEvent as E;
        use WarningStatus::*;
        assert_eq!(Open.apply(E::Answer), Ok(Answered));
        assert_eq!(Escalated.apply(E::Answer), Ok(Answered));
        assert_eq!(Answered.apply(E::Lift), Ok(Lifted));
        assert_eq!(Answered.apply(E::Escalate), Ok(Escalated));
        assert!(Escalated.apply(E::Escalate).is_err());
        assert!(
            Answered.apply(E::Publish).is_err(),
            "an answer waits for the regulator"
        );
        assert!(Lifted.apply(E::Answer).is_err() && Published.apply(E::Lift).is_err());
        assert_eq!(WarningEvent::regulator_decision("lift"), Some(E::Lift));
        assert_eq!(WarningEvent::regulator_decision("publish"), None);
        for s in WarningStatus::VARIANTS {
            assert_eq!(
                s.is_live(),
                WarningStatus::sources(E::Lift).contains(s),
                "{s}"
            );
        }
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<WarningStatus>(
            WarningStatus::label_zh,
            &[
                WarningEvent::Answer,
                WarningEvent::Lift,
                WarningEvent::Escalate,
                WarningEvent::Publish,
            ],
        );
    }
}
