//! 分级服务保障 the tiered service desk: what a ticket is about, how urgent it is, and by when it must be
//! answered and resolved. Deadlines run on the clock, not working days: an outage at a bank or a provider
//! stops parents' payments at weekends too.

/// Who answers a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketKind {
    /// 技术接入: connecting, signing, webhooks, outages — the platform's service team.
    Technical,
    /// 政策咨询: how a rule applies — the regulators of the asker's region.
    Policy,
}

impl TicketKind {
    pub fn parse(s: &str) -> Option<TicketKind> {
        match s {
            "technical" => Some(TicketKind::Technical),
            "policy" => Some(TicketKind::Policy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Technical => "technical",
            TicketKind::Policy => "policy",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            TicketKind::Technical => "技术接入",
            TicketKind::Policy => "政策咨询",
        }
    }
}

/// How urgent a ticket is, with its response and resolution targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// 一级: service down (payments, instructions or the adapter stopped).
    Urgent,
    /// 二级: a function impaired.
    High,
    /// 三级: a question.
    Normal,
}

const HOUR_MS: i64 = 3_600_000;

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Urgent, Tier::High, Tier::Normal];

    pub fn parse(s: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Urgent => "urgent",
            Tier::High => "high",
            Tier::Normal => "normal",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Tier::Urgent => "一级（业务中断）",
            Tier::High => "二级（功能受影响）",
            Tier::Normal => "三级（咨询）",
        }
    }

    /// First answer within: 1 h, 4 h, 24 h.
    pub fn respond_within_ms(self) -> i64 {
        match self {
            Tier::Urgent => HOUR_MS,
            Tier::High => 4 * HOUR_MS,
            Tier::Normal => 24 * HOUR_MS,
        }
    }

    /// Resolved within: 8 h, 3 days, 5 days.
    pub fn resolve_within_ms(self) -> i64 {
        match self {
            Tier::Urgent => 8 * HOUR_MS,
            Tier::High => 72 * HOUR_MS,
            Tier::Normal => 120 * HOUR_MS,
        }
    }
}

/// A tier's figures over some tickets: how many, how fast the first answer came, how many in time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierFigures {
    pub opened: usize,
    pub answered: usize,
    pub answered_in_time: usize,
    /// Median minutes to the first answer, over the answered ones.
    pub median_response_minutes: Option<i64>,
    pub resolved: usize,
    pub resolved_in_time: usize,
    /// Open now and past a deadline (unanswered past the response one, or unresolved past the resolution one).
    pub overdue: usize,
}

/// One ticket's timings, as the figures need them.
#[derive(Clone, Copy, Debug)]
pub struct TicketTimes {
    pub opened_at: i64,
    pub respond_by: i64,
    pub resolve_by: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

/// Figures of one tier's tickets at `now`.
pub fn tier_figures(tickets: &[TicketTimes], now: i64) -> TierFigures {
    let mut minutes: Vec<i64> = tickets
        .iter()
        .filter_map(|t| t.first_response_at.map(|r| (r - t.opened_at) / 60_000))
        .collect();
    minutes.sort_unstable();
    TierFigures {
        opened: tickets.len(),
        answered: minutes.len(),
        answered_in_time: tickets
            .iter()
            .filter(|t| t.first_response_at.is_some_and(|r| r <= t.respond_by))
            .count(),
        median_response_minutes: (!minutes.is_empty()).then(|| minutes[(minutes.len() - 1) / 2]),
        resolved: tickets.iter().filter(|t| t.resolved_at.is_some()).count(),
        resolved_in_time: tickets
            .iter()
            .filter(|t| t.resolved_at.is_some_and(|r| r <= t.resolve_by))
            .count(),
        overdue: tickets
            .iter()
            .filter(|t| {
                t.resolved_at.is_none()
                    && ((t.first_response_at.is_none() && now > t.respond_by) || now > t.resolve_by)
            })
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(tier: Tier, at: i64) -> TicketTimes {
        TicketTimes {
            opened_at: at,
            respond_by: at + tier.respond_within_ms(),
            resolve_by: at + tier.resolve_within_ms(),
            first_response_at: None,
            resolved_at: None,
        }
    }

    #[test]
    fn figures_count_answers_in_and_out_of_time_and_what_is_overdue_now() {
        let minute = 60_000;
        let mut on_time = opened(Tier::Urgent, 0);
        on_time.first_response_at = Some(20 * minute);
        on_time.resolved_at = Some(5 * HOUR_MS);
        let mut late = opened(Tier::Urgent, 0);
        late.first_response_at = Some(90 * minute);
        let silent = opened(Tier::Urgent, 0);
        let f = tier_figures(&[on_time, late, silent], 2 * HOUR_MS);
        assert_eq!(f.opened, 3);
        assert_eq!((f.answered, f.answered_in_time), (2, 1));
        assert_eq!(f.median_response_minutes, Some(20));
        assert_eq!((f.resolved, f.resolved_in_time), (1, 1));
        assert_eq!(
            f.overdue, 1,
            "only the unanswered one is past a deadline at 2 h"
        );
        let later = tier_figures(&[on_time, late, silent], 9 * HOUR_MS);
        assert_eq!(
            later.overdue, 2,
            "past 8 h the answered but unresolved one is overdue too"
        );
    }

    #[test]
    fn tiers_parse_and_their_targets_grow_with_lower_urgency() {
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
            assert!(t.respond_within_ms() < t.resolve_within_ms());
        }
        assert!(Tier::Urgent.respond_within_ms() < Tier::High.respond_within_ms());
        assert!(Tier::High.respond_within_ms() < Tier::Normal.respond_within_ms());
        assert_eq!(Tier::parse("p0"), None);
        assert_eq!(TicketKind::parse("policy"), Some(TicketKind::Policy));
    }
}
