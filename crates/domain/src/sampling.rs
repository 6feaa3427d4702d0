//! 抽检 spot checks: a reproducible, stratified random sample of a region's institutions.
//!
//! Candidates are grouped into strata (for example teaching mode × category × risk level); each stratum gives
//! its share of institutions, rounded up, so no kind of institution escapes a campaign. The draw is a
//! ChaCha8 stream from the recorded seed over the candidates sorted by id: the same candidates, share and
//! seed always draw the same sample, which anyone can re-draw to check the regulator's choice.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The sample share a campaign may ask for, in percent.
pub const SHARE_PERCENT: std::ops::RangeInclusive<u32> = 1..=100;

/// An institution that may be drawn, with the stratum it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub institution_id: String,
    pub stratum: String,
}

/// How many of `population` a share of `share_percent` takes: rounded up, at least one of a non-empty stratum.
pub fn stratum_quota(population: usize, share_percent: u32) -> usize {
    (population * share_percent as usize)
        .div_ceil(100)
        .min(population)
}

/// Draws the sample: per stratum (in stratum order), its quota of candidates, each stratum's draw sorted by id.
pub fn draw_sample(candidates: &[Candidate], share_percent: u32, seed: u64) -> Vec<Candidate> {
    let mut strata: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        strata.entry(c.stratum.as_str()).or_default().push(c);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = Vec::new();
    for members in strata.values_mut() {
        members.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
        members.dedup_by(|a, b| a.institution_id == b.institution_id);
        let quota = stratum_quota(members.len(), share_percent);
        let (drawn, _) = members.partial_shuffle(&mut rng, quota);
        let mut drawn: Vec<Candidate> = drawn.iter().map(|c| (*c).clone()).collect();
        drawn.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
        sample.extend(drawn);
    }
    sample
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn population(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                institution_id: format!("inst-{i:04}"),
                stratum: [
                    "offline|subject|none",
                    "offline|arts|none",
                    "online|subject|red",
                ][i % 3]
                    .to_owned(),
            })
            .collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_and_another_seed_another() {
        let people = population(300);
        let a = draw_sample(&people, 15, 42);
        assert_eq!(a, draw_sample(&people, 15, 42));
        let mut reversed = people.clone();
        reversed.reverse();
        assert_eq!(
            a,
            draw_sample(&reversed, 15, 42),
            "the input order does not matter"
        );
        assert_ne!(a, draw_sample(&people, 15, 43));
    }

    #[test]
    fn quotas_round_up_and_never_exceed_the_stratum() {
        assert_eq!(stratum_quota(0, 10), 0);
        assert_eq!(stratum_quota(1, 10), 1);
        assert_eq!(stratum_quota(10, 10), 1);
        assert_eq!(stratum_quota(11, 10), 2);
        assert_eq!(stratum_quota(7, 100), 7);
    }

    proptest! {
        #[test]
        fn every_stratum_gives_its_quota_and_only_its_own(n in 0usize..400, share in 1u32..=100, seed: u64) {
            let people = population(n);
            let sample = draw_sample(&people, share, seed);
            let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
            for c in &people {
                *sizes.entry(c.stratum.as_str()).or_default() += 1;
            }
            for (stratum, size) in sizes {
                let drawn = sample.iter().filter(|c| c.stratum == stratum).count();
                prop_assert_eq!(drawn, stratum_quota(size, share));
            }
            let mut ids: Vec<&str> = sample.iter().map(|c| c.institution_id.as_str()).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), sample.len(), "no institution twice");
            prop_assert!(sample.iter().all(|c| people.contains(c)));
        }
    }
}

crate::state::states! {
    /// 抽检状态: a sampled institution is assigned to a checker until the findings are recorded.
    pub enum SpotCheckStatus("spot check") {
        #[strum(message = "待核查")]
        Assigned,
        #[strum(message = "已核查")]
        Recorded,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum SpotCheckEvent {
    /// The checker records the findings.
    Record,
}

impl crate::state::Machine for SpotCheckStatus {
    type Event = SpotCheckEvent;
    const KIND: &'static str = "spot check";

    fn next(self, event: SpotCheckEvent) -> Option<Self> {
        match (self, event) {
            (Self::Assigned, SpotCheckEvent::Record) => Some(Self::Recorded),
            _ => None,
        }
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::state::{Machine, testing};

    #[test]
    fn findings_are_recorded_once() {
        assert!(
            SpotCheckStatus::Recorded
                .apply(SpotCheckEvent::Record)
                .is_err()
        );
        testing::round_trips::<SpotCheckStatus>(
            SpotCheckStatus::label_zh,
            &[SpotCheckEvent::Record],
        );
    }
}
