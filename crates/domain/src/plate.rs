//! 合规牌: the compliance QR plate an institution shows at its door. Issuing a new plate supersedes the
//! active one; a black-listing, removal or penalty revokes it.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 合规牌状态
    pub enum PlateStatus("plate") {
        #[strum(message = "有效")]
        Active,
        #[strum(message = "已换发新牌")]
        Superseded,
        #[strum(message = "已吊销")]
        Revoked,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum PlateEvent {
    /// A new plate was issued after a change.
    Supersede,
    /// The institution may no longer show one.
    Revoke,
}

impl Machine for PlateStatus {
    type Event = PlateEvent;
    const KIND: &'static str = "plate";

    fn next(self, event: PlateEvent) -> Option<Self> {
        match (self, event) {
            (Self::Active, PlateEvent::Supersede) => Some(Self::Superseded),
            (Self::Active, PlateEvent::Revoke) => Some(Self::Revoked),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn only_the_active_plate_ends() {
        assert_eq!(
            PlateStatus::Active.apply(PlateEvent::Revoke),
            Ok(PlateStatus::Revoked)
        );
        assert!(PlateStatus::Superseded.apply(PlateEvent::Revoke).is_err());
        testing::round_trips::<PlateStatus>(
            PlateStatus::label_zh,
            &[PlateEvent::Supersede, PlateEvent::Revoke],
        );
    }
}
