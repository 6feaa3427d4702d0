//! 购课 a parent buys a course for a linked child: an order with its number and an e-contract after the
//! model contract (`domain::contract`), shown with a refund preview before payment, its SM3 digest stored. The
//! order turns paid only when the bank reports the payment (`crate::bank`).

use crate::error::BrokenRule;
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::contract::{self, Contract};
use domain::money::yuan;
use domain::person::{PersonName, PhoneNumber};
use domain::policy::{CourseTerms, check_collection_time, check_course};
use domain::{Category, Fen, OrderStatus, RegionCode, TeachingMode, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{OrderRow, OrderSummaryRow, SupervisedAccountRow};

mod changes;

pub use changes::{ClassTransferRequest, ClassTransferView, OrderDiscount};

/// `POST /api/v1/parent/orders`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOrder {
    pub course_id: String,
    pub child_id: String,
}

/// `POST /api/v1/integration/institutions/{id}/orders`: an institution's system orders for a parent.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrderForParent {
    pub course_id: String,
    /// The parent's mobile number, as they signed up with it.
    pub parent_phone: String,
    /// The child's resident ID card number, as the parent added the child.
    pub child_id_card: String,
}

/// "Stop after lesson N → this much back".
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RefundStep {
    pub after_lessons: u32,
    pub refund_fen: i64,
    pub refund_display: String,
}

/// An order in a list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub id: String,
    pub order_no: String,
    pub institution_id: String,
    pub institution_name: String,
    pub course_name: String,
    pub lessons: i64,
    pub amount_fen: i64,
    pub amount_display: String,
    pub status: OrderStatus,
    pub status_label: &'static str,
    /// 托管余额 what is held for the order now, to the fen.
    pub escrow_fen: i64,
    pub escrow_display: String,
    pub released_fen: i64,
    pub released_display: String,
    pub refunded_fen: i64,
    pub refunded_display: String,
    pub created_at_display: String,
    pub paid_at_display: Option<String>,
}

/// One order in full: the contract, its digest, the refund preview, and where to pay.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub line: OrderLine,
    #[schema(value_type = Object)]
    pub contract: Contract,
    /// SM3 (or SHA-256 under the international suite) of the contract's canonical JSON, hex.
    pub contract_digest: String,
    pub refund_preview: Vec<RefundStep>,
    /// The bank's checkout page for this order (while it awaits payment and the bank has one).
    pub checkout_url: Option<String>,
    /// When the supervised account holding the money was last found reconciled.
    pub last_reconciled_display: Option<String>,
    /// A refund of the rest was granted: no more lessons.
    pub closed: bool,
}

/// `¥1234.50`.
/// Why an institution may take no new money: removed, in run-off, off the white list, or stopped from selling
/// by a penalty. Read inside the transaction that acts on it, with the institution held (`FOR SHARE`) against
/// a decision that would change it meanwhile.
pub(crate) async fn closed_door_in(
    tx: &mut store::WriteTx,
    institution: &store::InstitutionRow,
    today: chrono::NaiveDate,
) -> Result<Option<AppError>, AppError> {
    if institution.registry_state == domain::RegistryState::Removed {
        return Ok(Some(AppError::new(
            ErrorCode::NotWhiteListed,
            "该机构已被撤除",
            "the institution was removed (撤除)",
        )));
    }
    let today = today.to_string();
    let door = tx.inspection().door_facts(&institution.id, &today).await?;
    if let Some(reason) = door.run_off_reason {
        return Ok(Some(AppError::new(
            ErrorCode::RunOffStarted,
            format!("清退：{reason}"),
            format!("run-off: {reason}"),
        )));
    }
    if institution.registry_state != domain::RegistryState::Listed
        || institution.list_status != domain::ListStatus::White
    {
        return Ok(Some(AppError::new(
            ErrorCode::NotWhiteListed,
            format!("该机构在{}上", institution.list_status.label_zh()),
            format!("the institution is on the {} list", institution.list_status),
        )));
    }
    if door.sales_stopped != 0
        && let Some(stop) = tx.inspection().sales_stop(&institution.id, &today).await?
    {
        let stop = crate::penalties::view(stop);
        return Ok(Some(AppError::new(
            ErrorCode::SalesSuspended,
            format!("{}（{}）", stop.kind_label, stop.decision_no),
            format!("{} ({})", stop.kind, stop.decision_no),
        )));
    }
    Ok(None)
}

fn line(r: OrderSummaryRow) -> OrderLine {
    OrderLine {
        status_label: r.status.label_for_parent(r.closed_at.is_some()),
        amount_display: yuan(r.amount_fen),
        escrow_display: yuan(r.escrow_fen),
        released_display: yuan(r.released_fen),
        refunded_display: yuan(r.refunded_fen),
        created_at_display: Timestamp::from_millis(r.created_at).china_display(),
        paid_at_display: r.paid_at.map(|t| Timestamp::from_millis(t).china_display()),
        id: r.id,
        order_no: r.order_no,
        institution_id: r.institution_id,
        institution_name: r.institution_name,
        course_name: r.course_name,
        lessons: r.lessons,
        amount_fen: r.amount_fen,
        status: r.status,
        escrow_fen: r.escrow_fen,
        released_fen: r.released_fen,
        refunded_fen: r.refunded_fen,
    }
}

/// The refund preview from the contract's price actually paid, by the same functions that compute refunds.
pub fn refund_preview(paid_fen: i64, lessons: u32) -> Vec<RefundStep> {
    contract::refund_preview(Fen::new(paid_fen), lessons)
        .into_iter()
        .map(|(n, r)| RefundStep {
            after_lessons: n,
            refund_fen: r.get(),
            refund_display: yuan(r.get()),
        })
        .collect()
}

/// `XW` + China date + 10 random digits: unique in the database, unguessable enough not to enumerate.
fn order_no(now: Timestamp) -> String {
    let n: u64 = rand::rng().random_range(0..10_000_000_000);
    format!("XW{}{n:010}", now.china_date().format("%Y%m%d"))
}

impl<'a> Money<'a> {
    /// The account an institution's new orders are paid into: its first confirmed supervised account.
    async fn receiving_account(
        self,
        institution_id: &str,
    ) -> Result<SupervisedAccountRow, AppError> {
        self.store
            .read()
            .funds()
            .supervised_accounts_of(institution_id)
            .await?
            .into_iter()
            .find(|a| a.status.is_confirmed())
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NoSupervisedAccount,
                    "该机构尚无已确认的资金监管账户",
                    "the institution has no confirmed supervised account",
                )
            })
    }

    /// A course on sale with its institution, for the buy page.
    pub async fn course_on_sale(
        self,
        course_id: &str,
    ) -> Result<(crate::views::InstitutionDetail, crate::views::CourseView), AppError> {
        let course = self
            .store
            .read()
            .registry()
            .course(course_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这门课程", "no such course"))?;
        let detail = self
            .registry()
            .institution_detail(&course.institution_id)
            .await?;
        let view = detail
            .courses
            .iter()
            .find(|c| c.id == course.id)
            .cloned()
            .ok_or_else(|| AppError::not_found("没有这门课程", "no such course"))?;
        Ok((detail, view))
    }

    /// A parent orders a course for one of their children: the e-contract is fixed now, before payment.
    pub async fn place_order(self, actor: &Actor, new: &NewOrder) -> Result<OrderDetail, AppError> {
        let account_id = self.require_parent(actor).await?;
        self.place_order_in(actor, account_id, new, None).await
    }

    /// An institution's system orders a course of that institution for a parent found by phone and a child
    /// of theirs found by ID card (a parent must have signed up on the parent end). The order is the parent's
    /// as if placed by them — same checks, same contract — and waits for the parent to pay through the bank;
    /// the parent is told in their inbox.
    pub async fn place_order_for_parent(
        self,
        staff: &Actor,
        new: &OrderForParent,
    ) -> Result<OrderDetail, AppError> {
        let institution_id = self.own_institution(staff).await?;
        let phone = crate::parents::phone(&new.parent_phone)?;
        let id_card = domain::person::IdCardNumber::parse(&new.child_id_card)
            .map_err(|e| AppError::new(ErrorCode::InvalidIdCard, e.message_zh(), e.to_string()))?;
        let read = self.store.read();
        let course = read
            .registry()
            .course(new.course_id.trim())
            .await?
            .filter(|c| c.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("该机构没有这门课程", "no such course of the institution")
            })?;
        let phone_index = self
            .keys
            .blind_index(crate::vault::field::PHONE, phone.expose());
        let not_found = || {
            AppError::not_found(
                "没有此手机号和孩子对应的家长，请家长先在家长端注册并添加孩子",
                "no parent with this phone and child: the parent signs up and adds the child on the parent end first",
            )
        };
        let parent = read
            .parents()
            .parent_by_phone_index(&phone_index)
            .await?
            .ok_or_else(not_found)?;
        let id_card_index = self
            .keys
            .blind_index(crate::vault::field::CHILD_ID_CARD, id_card.expose());
        let child = read
            .parents()
            .children_of(&parent.id)
            .await?
            .into_iter()
            .find(|c| c.id_card_index == id_card_index)
            .ok_or_else(not_found)?;
        let order = NewOrder {
            course_id: course.id,
            child_id: child.id,
        };
        self.place_order_in(staff, &parent.id, &order, Some(&institution_id))
            .await
    }

    /// Places an order for the parent `account_id`; `for_institution` when the institution's system placed
    /// it (the parent is then told).
    async fn place_order_in(
        self,
        actor: &Actor,
        account_id: &str,
        new: &NewOrder,
        for_institution: Option<&str>,
    ) -> Result<OrderDetail, AppError> {
        let read = self.store.read();
        let child = read
            .parents()
            .child(new.child_id.trim())
            .await?
            .filter(|c| c.parent_id == account_id)
            .ok_or_else(|| AppError::not_found("您名下没有这个孩子", "no such child of yours"))?;
        let course = read
            .registry()
            .course(new.course_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这门课程", "no such course"))?;
        let institution = read
            .registry()
            .institution(&course.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("course of a missing institution"))?;
        // Checked here for a quick answer, and again inside the transaction that writes the order.
        if institution.registry_state != domain::RegistryState::Listed
            || institution.list_status != domain::ListStatus::White
        {
            return Err(AppError::new(
                ErrorCode::NotWhiteListed,
                "只有白名单机构可以销售课程",
                "only a white-listed institution sells courses",
            ));
        }
        let account = self.receiving_account(&institution.id).await?;
        let region = RegionCode::parse(&institution.region_code)?;
        let policy = self.registry().region_policy(region.as_str()).await?.policy;
        if !policy.allowed_modes.contains(&account.mode) {
            return Err(AppError::new(
                ErrorCode::PolicyViolation,
                format!("本地区不允许{}监管方式", account.mode),
                format!(
                    "this region does not allow the {} mode of supervision",
                    account.mode
                ),
            ));
        }
        // The policy may have changed since the course was published: a purchase is checked as it happens.
        let lessons = u32::try_from(course.lessons)
            .map_err(|_| AppError::internal("stored lesson count out of range"))?;
        if let (Some(first), Some(last)) = (&course.first_lesson, &course.last_lesson) {
            let date = |s: &str| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| AppError::internal("stored course date"))
            };
            let broken = check_course(
                &policy,
                &CourseTerms {
                    category: Category::parse(&course.category)?,
                    mode: TeachingMode::parse(&course.mode)?,
                    lessons,
                    minutes_per_lesson: u32::try_from(course.minutes_per_lesson).unwrap_or(0),
                    class_size: u32::try_from(course.class_size).unwrap_or(0),
                    price_per_lesson_fen: course.price_per_lesson_fen,
                    first_lesson: date(first)?,
                    last_lesson: date(last)?,
                },
            );
            let mut broken = broken;
            broken.extend(check_collection_time(
                &policy,
                date(first)?,
                self.clock.now().china_date(),
            ));
            if !broken.is_empty() {
                let broken = broken.iter().map(BrokenRule::from).collect();
                return Err(AppError::rules_broken(ErrorCode::PolicyViolation, broken));
            }
        }
        // The price actually paid: the course's preferential price when it has one, else its list price.
        let list = course.price_per_lesson_fen.checked_mul(course.lessons);
        let price = list
            .and_then(|list| {
                contract::Price::paid(
                    course.price_per_lesson_fen,
                    lessons,
                    course.preferential_total_fen.unwrap_or(list),
                    "课程优惠价",
                )
            })
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    "该课程没有可支付的价格",
                    "the course has no price to pay",
                )
            })?;
        let amount = Fen::new(price.total_fen);
        let parent = read
            .accounts()
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::internal("signed-in parent missing"))?;
        let phone_masked = match &parent.phone_sealed {
            Some(sealed) => {
                PhoneNumber::parse(&self.keys.open(crate::vault::field::PHONE, sealed)?)
                    .map_err(|e| AppError::internal(e.to_string()))?
                    .masked()
            }
            None => String::new(),
        };
        let child_name = PersonName::parse(
            &self
                .keys
                .open(crate::vault::field::CHILD_NAME, &child.name_sealed)?,
        )
        .map_err(|e| AppError::internal(e.to_string()))?;
        let now = self.clock.now();
        let order_no = order_no(now);
        let contract = Contract {
            template: contract::TEMPLATE.to_owned(),
            order_no: order_no.clone(),
            signed_on: now.china_date().to_string(),
            provider: contract::Provider {
                institution_id: institution.id.clone(),
                name: institution.name.clone(),
                credit_code: institution.credit_code.clone(),
                region_code: institution.region_code.clone(),
            },
            customer: contract::Customer {
                parent_phone_masked: phone_masked,
                child_name_masked: child_name.masked(),
            },
            course: contract::CourseSold {
                course_id: course.id.clone(),
                name: course.name.clone(),
                category: course.category.clone(),
                mode: course.mode.clone(),
                grades: course.grades.clone(),
                lessons,
                minutes_per_lesson: u32::try_from(course.minutes_per_lesson).unwrap_or(0),
                class_size: u32::try_from(course.class_size).unwrap_or(0),
                first_lesson: course.first_lesson.clone(),
                last_lesson: course.last_lesson.clone(),
            },
            price,
            supervision: contract::Supervision {
                mode: account.mode.clone(),
                bank_id: account.bank_id.clone(),
                account_no: account.account_no.clone(),
            },
            refund_terms: contract::RefundTerms {
                full_refund_before_start: true,
                basis: contract::RefundTerms::PRO_RATA_AT_PRICE_PAID.to_owned(),
                response_working_days: policy.refund_response_working_days,
                pay_back_before_start_working_days: policy.refund_before_start_working_days,
                pay_back_after_start_working_days: policy.refund_after_start_working_days,
                route: contract::RefundTerms::ORIGINAL_ROUTE.to_owned(),
            },
            confirmation_working_days: policy.confirmation_working_days,
        };
        let value =
            serde_json::to_value(&contract).map_err(|e| AppError::internal(e.to_string()))?;
        let canonical = ledger::canonical_json(&value);
        let digest = hex::encode(self.store.crypto().hash(&[canonical.as_bytes()]));
        let row = OrderRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_no,
            institution_id: institution.id.clone(),
            course_id: course.id.clone(),
            parent_id: account_id.to_owned(),
            child_id: child.id.clone(),
            supervised_account_id: account.id.clone(),
            lessons: course.lessons,
            amount_fen: amount.get(),
            contract_json: canonical,
            contract_digest: digest.clone(),
            status: OrderStatus::AwaitingPayment,
            created_at: now.millis(),
            paid_at: None,
            payment_ref: None,
            closed_at: None,
            frozen_at: None,
            frozen_reason: None,
            instructed_fen: 0,
        };
        let mut tx = self.store.begin_write().await?;
        // The institution's standing, read where it cannot change until this order is written: a black-listing,
        // run-off or penalty deciding meanwhile either comes first and is seen, or waits for this order.
        let standing = tx
            .registry()
            .institution_for_share(&institution.id)
            .await?
            .ok_or_else(|| AppError::internal("course of a missing institution"))?;
        if let Some(closed) = closed_door_in(&mut tx, &standing, now.china_date()).await? {
            return Err(closed);
        }
        tx.orders().insert_order(&row).await?;
        if for_institution.is_some() {
            let note = crate::inbox::Note::new(
                account_id,
                "机构为您下单",
                &format!(
                    "{}为您下单：{}，{}。请在家长端核对合同后支付，未支付的订单不生效。",
                    institution.name,
                    course.name,
                    yuan(row.amount_fen)
                ),
            );
            crate::inbox::notify_each_in(&mut tx, std::slice::from_ref(&note), true, now.millis())
                .await?;
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::OrderPlaced,
            format!("institution:{}", institution.id),
            json!({"order": row.id, "order_no": row.order_no, "amount_fen": row.amount_fen,
                   "contract_digest": digest, "child": child.id, "parent": account_id,
                   "placed_for_parent": for_institution.is_some()}),
        )])
        .await?;
        tx.commit().await?;
        self.order_detail(&row.id).await
    }

    /// One order, for its parent, the institution's staff, or a regulator over the institution.
    pub async fn order_for(self, actor: &Actor, id: &str) -> Result<OrderDetail, AppError> {
        let row = self.visible_order(actor, id).await?;
        self.order_detail(&row.id).await
    }

    /// The order, when `actor` may see it (an audited refusal otherwise).
    pub(crate) async fn visible_order(self, actor: &Actor, id: &str) -> Result<OrderRow, AppError> {
        let row = self
            .store
            .read()
            .orders()
            .order(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这个订单", "no such order"))?;
        self.require_order_access(actor, &row.parent_id, &row.institution_id)
            .await?;
        Ok(row)
    }

    /// Who may see an order: its parent, or whoever may see the institution's money.
    pub(crate) async fn require_order_access(
        self,
        actor: &Actor,
        parent_id: &str,
        institution_id: &str,
    ) -> Result<(), AppError> {
        match actor {
            Actor::Parent { account_id } if account_id == parent_id => Ok(()),
            _ => self.require_money_view(actor, institution_id).await,
        }
    }

    /// Who may see an institution's orders and money: its staff, a regulator whose region covers it.
    pub(crate) async fn require_money_view(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<(), AppError> {
        match actor {
            Actor::Staff {
                institution_id: own,
                ..
            } if own == institution_id => Ok(()),
            Actor::Regulator { .. } => {
                let institution = self
                    .store
                    .read()
                    .registry()
                    .institution(institution_id)
                    .await?
                    .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
                let region = RegionCode::parse(&institution.region_code)?;
                let subject = format!("institution:{institution_id}");
                self.require_regulator_over(
                    actor,
                    Permission::ViewInstitutionPrivate,
                    &region,
                    &subject,
                )
                .await
            }
            _ => Err(self
                .deny(
                    actor,
                    "orders",
                    json!({}),
                    "这不是您的订单",
                    "not your order",
                )
                .await),
        }
    }

    async fn order_detail(self, id: &str) -> Result<OrderDetail, AppError> {
        let read = self.store.read();
        let row = read
            .orders()
            .order(id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这个订单", "no such order"))?;
        let summary = read
            .orders()
            .order_summary(id)
            .await?
            .ok_or_else(|| AppError::internal("order vanished"))?;
        let contract: Contract = serde_json::from_str(&row.contract_json)
            .map_err(|e| AppError::internal(format!("stored contract: {e}")))?;
        let account = read
            .funds()
            .supervised_account(&row.supervised_account_id)
            .await?;
        let checkout_url = if row.status == OrderStatus::AwaitingPayment {
            read.bank()
                .bank_endpoint(&contract.supervision.bank_id)
                .await?
                .map(|e| {
                    format!(
                        "{}?order_no={}&amount_fen={}&account_no={}",
                        e.checkout_url,
                        row.order_no,
                        row.amount_fen,
                        contract.supervision.account_no
                    )
                })
        } else {
            None
        };
        Ok(OrderDetail {
            refund_preview: refund_preview(row.amount_fen, contract.price.lessons),
            contract,
            contract_digest: row.contract_digest,
            checkout_url,
            last_reconciled_display: account
                .and_then(|a| a.reconciled_at)
                .map(|t| Timestamp::from_millis(t).china_display()),
            closed: row.closed_at.is_some(),
            line: line(summary),
        })
    }

    /// The signed-in parent's orders, newest first.
    pub async fn my_orders(self, actor: &Actor) -> Result<Vec<OrderLine>, AppError> {
        let account_id = self.require_parent(actor).await?;
        let rows = self
            .store
            .read()
            .orders()
            .order_summaries(Some(account_id), None, 200)
            .await?;
        Ok(rows.into_iter().map(line).collect())
    }

    /// An institution's orders (its staff, or a regulator over it), newest first.
    pub async fn institution_orders(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<Vec<OrderLine>, AppError> {
        self.require_money_view(actor, institution_id).await?;
        let rows = self
            .store
            .read()
            .orders()
            .order_summaries(None, Some(institution_id), 500)
            .await?;
        Ok(rows.into_iter().map(line).collect())
    }
}
