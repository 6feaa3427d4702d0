//! 电子合同 the e-contract of a purchase, after the Ministry's model contract
//! 《中小学生校外培训服务合同（示范文本）》GF-2021-2604: the parties, the course, the price, the supervision
//! mode and the refund terms, as data. The platform stores the contract's canonical JSON and its SM3 digest,
//! shows it before payment, and computes every refund from it.
//!
//! Refunds are at the price actually paid (法释〔2025〕4号), pro rata by lesson. The fee of each lesson is
//! defined so that the fees of all lessons add up to exactly what was paid: lessons 1..=n cost
//! `⌊paid × n ÷ lessons⌋`. The refund preview, the refund and each lesson's release use these functions.

use crate::Fen;
use serde::{Deserialize, Serialize};

/// The model contract's number.
pub const TEMPLATE: &str = "GF-2021-2604";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub template: String,
    pub order_no: String,
    /// `YYYY-MM-DD`, China time.
    pub signed_on: String,
    /// 甲方 the training institution.
    pub provider: Provider,
    /// 乙方 the parent and the child, masked: the contract is shown and stored without full personal data.
    pub customer: Customer,
    pub course: CourseSold,
    pub price: Price,
    pub supervision: Supervision,
    pub refund_terms: RefundTerms,
    /// 消课 a lesson not confirmed or disputed within this many working days counts as confirmed.
    pub confirmation_working_days: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub institution_id: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub parent_phone_masked: String,
    pub child_name_masked: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseSold {
    pub course_id: String,
    pub name: String,
    pub category: String,
    pub mode: String,
    pub grades: String,
    pub lessons: u32,
    pub minutes_per_lesson: u32,
    pub class_size: u32,
    pub first_lesson: Option<String>,
    pub last_lesson: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// The list price per lesson.
    pub price_per_lesson_fen: i64,
    pub lessons: u32,
    /// What the parent pays: the price actually paid, the basis of every lesson fee, release and refund.
    pub total_fen: i64,
    /// 优惠 the list price and what was taken off it before payment; absent when the total is the list price
    /// (a contract without a discount reads exactly as before discounts existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
}

/// A preferential price: the course's own, or one the institution set on an order before it was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// 原价 price per lesson × lessons.
    pub list_total_fen: i64,
    /// How much less than the list price is paid.
    pub discount_fen: i64,
    /// 优惠说明, e.g. "课程优惠价" or the institution's reason ("老学员九折").
    pub reason: String,
}

impl Price {
    /// The list price for `lessons` at `price_per_lesson_fen`, paid as `paid_fen` (the list total or less, above
    /// zero); `None` when the numbers cannot be a price.
    pub fn paid(
        price_per_lesson_fen: i64,
        lessons: u32,
        paid_fen: i64,
        reason: &str,
    ) -> Option<Price> {
        let list = price_per_lesson_fen.checked_mul(i64::from(lessons))?;
        if paid_fen <= 0 || paid_fen > list {
            return None;
        }
        Some(Price {
            price_per_lesson_fen,
            lessons,
            total_fen: paid_fen,
            discount: (paid_fen < list).then(|| Discount {
                list_total_fen: list,
                discount_fen: list - paid_fen,
                reason: reason.to_owned(),
            }),
        })
    }

    /// The list price of the lessons bought.
    pub fn list_total_fen(&self) -> i64 {
        self.discount
            .as_ref()
            .map_or(self.total_fen, |d| d.list_total_fen)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    /// `custody`, `risk_deposit` or `ecny`.
    pub mode: String,
    pub bank_id: String,
    pub account_no: String,
}

/// 退费条款 refund terms, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundTerms {
    /// Asked before the first lesson: everything back.
    pub full_refund_before_start: bool,
    /// After: the unconsumed lessons at the price actually paid, pro rata by lesson.
    pub basis: String,
    /// The institution answers a refund request within this many working days; silence agrees.
    pub response_working_days: u32,
    /// An agreed refund is paid back within these many working days (before / after the course starts).
    pub pay_back_before_start_working_days: u32,
    pub pay_back_after_start_working_days: u32,
    /// Money goes back by the route it came.
    pub route: String,
}

impl RefundTerms {
    pub const PRO_RATA_AT_PRICE_PAID: &'static str = "pro_rata_lessons_at_price_paid";
    pub const ORIGINAL_ROUTE: &'static str = "original_route";
}

/// The fee of lessons `1..=consumed` of a purchase of `lessons` lessons that paid `paid`.
/// `None` when the numbers make no sense (no lessons, more consumed than bought, a negative payment).
pub fn consumed_fee(paid: Fen, lessons: u32, consumed: u32) -> Option<Fen> {
    if lessons == 0 || consumed > lessons || paid.get() < 0 {
        return None;
    }
    let fee = i128::from(paid.get()) * i128::from(consumed) / i128::from(lessons);
    i64::try_from(fee).ok().map(Fen::new)
}

/// The fee of lesson `n` (1-based): what its confirmation releases.
pub fn lesson_fee(paid: Fen, lessons: u32, n: u32) -> Option<Fen> {
    if n == 0 {
        return None;
    }
    consumed_fee(paid, lessons, n)?.checked_sub(consumed_fee(paid, lessons, n - 1)?)
}

/// What comes back when the parent stops after `consumed` lessons.
pub fn refund_after(paid: Fen, lessons: u32, consumed: u32) -> Option<Fen> {
    paid.checked_sub(consumed_fee(paid, lessons, consumed)?)
}

/// 退费预览 "stop after lesson N → ¥X back", for N = 0 (before the first lesson) to all lessons.
pub fn refund_preview(paid: Fen, lessons: u32) -> Vec<(u32, Fen)> {
    (0..=lessons)
        .filter_map(|n| refund_after(paid, lessons, n).map(|r| (n, r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_discounted_order_refunds_on_the_price_paid() {
        // 20 lessons listed at ¥150 (¥3,000), paid ¥2,700; 7 taken: 13/20 of ¥2,700 comes back.
        let price = Price::paid(15_000, 20, 270_000, "老学员九折").unwrap();
        let d = price.discount.as_ref().unwrap();
        assert_eq!((d.list_total_fen, d.discount_fen), (300_000, 30_000));
        assert_eq!(price.list_total_fen(), 300_000);
        let paid = Fen::new(price.total_fen);
        assert_eq!(refund_after(paid, 20, 7), Some(Fen::new(175_500)));
        let fees: i64 = (1..=20)
            .map(|n| lesson_fee(paid, 20, n).unwrap().get())
            .sum();
        assert_eq!(fees, 270_000, "the fees add up to what was paid");
        assert_eq!(
            Price::paid(15_000, 20, 300_000, "").unwrap().discount,
            None,
            "the list price is no discount"
        );
        assert!(
            Price::paid(15_000, 20, 300_001, "").is_none(),
            "never above the list price"
        );
        assert!(Price::paid(15_000, 20, 0, "").is_none());
    }

    #[test]
    fn an_uneven_price_is_spread_so_lessons_add_up_to_the_fen() {
        // 100.00 yuan for 3 lessons: 33.33, 33.33, 33.34.
        let paid = Fen::new(10_000);
        let fees: Vec<i64> = (1..=3)
            .map(|n| lesson_fee(paid, 3, n).unwrap().get())
            .collect();
        assert_eq!(fees, vec![3_333, 3_333, 3_334]);
        assert_eq!(refund_after(paid, 3, 1), Some(Fen::new(6_667)));
        assert_eq!(
            refund_preview(paid, 3),
            vec![
                (0, Fen::new(10_000)),
                (1, Fen::new(6_667)),
                (2, Fen::new(3_334)),
                (3, Fen::ZERO)
            ]
        );
    }

    #[test]
    fn nonsense_is_refused() {
        assert_eq!(consumed_fee(Fen::new(100), 0, 0), None);
        assert_eq!(consumed_fee(Fen::new(100), 3, 4), None);
        assert_eq!(consumed_fee(Fen::new(-1), 3, 1), None);
        assert_eq!(lesson_fee(Fen::new(100), 3, 0), None);
    }

    proptest! {
        #[test]
        fn fees_and_refunds_always_add_up(paid in 0i64..1_000_000_000_000, lessons in 1u32..=200, stop in 0u32..=200) {
            let paid = Fen::new(paid);
            let total: i64 = (1..=lessons).map(|n| lesson_fee(paid, lessons, n).unwrap().get()).sum();
            prop_assert_eq!(total, paid.get());
            let stop = stop.min(lessons);
            let consumed = consumed_fee(paid, lessons, stop).unwrap();
            prop_assert_eq!(consumed.get() + refund_after(paid, lessons, stop).unwrap().get(), paid.get());
            for n in 1..=lessons {
                prop_assert!(lesson_fee(paid, lessons, n).unwrap().get() >= 0);
            }
        }
    }
}
