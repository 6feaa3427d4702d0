//! 行政处罚 administrative penalties of 《校外培训行政处罚暂行办法》 (MOE Order No. 53, 2023), and what each does.

use serde::{Deserialize, Serialize};

/// A penalty kind of Order No. 53.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyKind {
    /// 警告
    Warning,
    /// 通报批评
    PublicCriticism,
    /// 罚款
    Fine,
    /// 没收违法所得、没收非法财物
    Confiscation,
    /// 责令停止招收学员（停止招生）
    StopEnrolling,
    /// 责令停止举办（停止办学）
    StopOperating,
    /// 吊销许可证件
    LicenceRevocation,
    /// 限制从业
    TradeBan,
}

impl PenaltyKind {
    pub const ALL: [PenaltyKind; 8] = [
        PenaltyKind::Warning,
        PenaltyKind::PublicCriticism,
        PenaltyKind::Fine,
        PenaltyKind::Confiscation,
        PenaltyKind::StopEnrolling,
        PenaltyKind::StopOperating,
        PenaltyKind::LicenceRevocation,
        PenaltyKind::TradeBan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PenaltyKind::Warning => "warning",
            PenaltyKind::PublicCriticism => "public_criticism",
            PenaltyKind::Fine => "fine",
            PenaltyKind::Confiscation => "confiscation",
            PenaltyKind::StopEnrolling => "stop_enrolling",
            PenaltyKind::StopOperating => "stop_operating",
            PenaltyKind::LicenceRevocation => "licence_revocation",
            PenaltyKind::TradeBan => "trade_ban",
        }
    }

    pub fn parse(s: &str) -> Option<PenaltyKind> {
        PenaltyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            PenaltyKind::Warning => "警告",
            PenaltyKind::PublicCriticism => "通报批评",
            PenaltyKind::Fine => "罚款",
            PenaltyKind::Confiscation => "没收违法所得、没收非法财物",
            PenaltyKind::StopEnrolling => "责令停止招收学员",
            PenaltyKind::StopOperating => "责令停止举办",
            PenaltyKind::LicenceRevocation => "吊销许可证件",
            PenaltyKind::TradeBan => "限制从业",
        }
    }

    /// Fines and confiscations state an amount; the other kinds none.
    pub fn has_amount(self) -> bool {
        matches!(self, PenaltyKind::Fine | PenaltyKind::Confiscation)
    }

    /// While in force, the institution may not sell: its courses are hidden and orders refused.
    pub fn stops_sales(self) -> bool {
        matches!(
            self,
            PenaltyKind::StopEnrolling
                | PenaltyKind::StopOperating
                | PenaltyKind::LicenceRevocation
        )
    }

    /// The institution goes to the black list and its prepaid money is wound down (run-off).
    pub fn black_lists(self) -> bool {
        matches!(self, PenaltyKind::LicenceRevocation)
    }

    /// Penalties beyond a warning are published on the website (行政处罚信息公示); a warning may be.
    pub fn published_by_default(self) -> bool {
        !matches!(self, PenaltyKind::Warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_carry_their_effects() {
        for k in PenaltyKind::ALL {
            assert_eq!(PenaltyKind::parse(k.as_str()), Some(k));
            assert!(!k.label().is_empty());
        }
        assert_eq!(PenaltyKind::parse("ban"), None);
        assert!(PenaltyKind::Fine.has_amount() && !PenaltyKind::Warning.has_amount());
        assert!(PenaltyKind::StopEnrolling.stops_sales() && !PenaltyKind::Fine.stops_sales());
        assert!(
            PenaltyKind::LicenceRevocation.black_lists()
                && PenaltyKind::LicenceRevocation.stops_sales()
        );
    }
}
