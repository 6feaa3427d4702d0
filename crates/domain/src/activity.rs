//! 审计事项: everything that can happen on the platform, by the stable name its audit entry carries. A use
//! case records one of these and nothing else, so a misspelt action does not compile; the audit log, the
//! activity views (in Chinese, from `label_zh`) and the public webhooks (`app::integration::events`) all
//! read the same names.

use crate::refund::RefundStatus;
use crate::warning::WarningStatus;

/// One kind of thing that happened. The stored name (`order.paid`) never changes once written: verifiers,
/// reports and webhook subscriptions match on it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumMessage,
    strum::VariantArray,
)]
pub enum Action {
    // 账号与登录 accounts and signing in
    #[strum(serialize = "account.created", message = "开设账号")]
    AccountCreated,
    #[strum(serialize = "account.disabled", message = "停用账号")]
    AccountDisabled,
    #[strum(serialize = "account.enabled", message = "启用账号")]
    AccountEnabled,
    #[strum(serialize = "account.password_changed", message = "修改密码")]
    PasswordChanged,
    #[strum(
        serialize = "account.password_change_refused",
        message = "修改密码被拒"
    )]
    PasswordChangeRefused,
    #[strum(serialize = "auth.signed_in", message = "登录")]
    SignedIn,
    #[strum(serialize = "auth.signed_out", message = "退出登录")]
    SignedOut,
    #[strum(serialize = "auth.sign_in_failed", message = "登录失败")]
    SignInFailed,
    #[strum(serialize = "auth.sign_in_refused", message = "拒绝登录")]
    SignInRefused,
    #[strum(serialize = "auth.account_locked", message = "账号锁定")]
    AccountLocked,
    #[strum(serialize = "auth.account_under_attack", message = "账号疑遭撞库")]
    AccountUnderAttack,
    #[strum(serialize = "auth.refresh_reused", message = "刷新令牌被重复使用")]
    RefreshTokenReused,
    #[strum(serialize = "auth.permission_denied", message = "越权操作被拒")]
    PermissionDenied,
    #[strum(serialize = "security_policy.changed", message = "修改安全策略")]
    SecurityPolicyChanged,
    #[strum(serialize = "pii.revealed", message = "查看个人信息明文")]
    PersonalDataRevealed,
    #[strum(serialize = "keys.sealed_clear_values", message = "加密存量明文")]
    ClearValuesSealed,
    #[strum(serialize = "keys.resealed", message = "轮换密钥")]
    KeysResealed,
    #[strum(serialize = "child.linked", message = "绑定孩子")]
    ChildLinked,

    // 机构名录与备案 the registry
    #[strum(serialize = "institution.registered", message = "登记机构")]
    InstitutionRegistered,
    #[strum(serialize = "institution.signed_up", message = "机构入驻")]
    InstitutionSignedUp,
    #[strum(serialize = "institution.list_changed", message = "调整名单")]
    InstitutionListChanged,
    #[strum(serialize = "institution.removed", message = "移出名录")]
    InstitutionRemoved,
    #[strum(serialize = "institution.run_off_started", message = "启动停业退费")]
    RunOffStarted,
    #[strum(serialize = "notice.published", message = "发布公告")]
    NoticePublished,
    #[strum(serialize = "course.published", message = "发布课程")]
    CoursePublished,
    #[strum(serialize = "region_policy.changed", message = "修改地区收费政策")]
    RegionPolicyChanged,
    #[strum(serialize = "filing.saved", message = "保存备案")]
    FilingSaved,
    #[strum(serialize = "filing.submitted", message = "提交备案")]
    FilingSubmitted,
    #[strum(serialize = "filing.approved", message = "备案通过")]
    FilingApproved,
    #[strum(serialize = "filing.rejected", message = "备案退回")]
    FilingRejected,
    #[strum(serialize = "document.uploaded", message = "上传材料")]
    DocumentUploaded,
    #[strum(serialize = "financial_statement.filed", message = "报送财务报表")]
    FinancialStatementFiled,
    #[strum(serialize = "plate.issued", message = "发放合规牌")]
    PlateIssued,
    #[strum(serialize = "staff.hired", message = "聘用从业人员")]
    StaffHired,
    #[strum(serialize = "staff.hire_refused", message = "拒绝聘用（从业禁止）")]
    StaffHireRefused,
    #[strum(serialize = "staff.left", message = "从业人员离职")]
    StaffLeft,
    #[strum(
        serialize = "staff.record_check_confirmed",
        message = "确认无犯罪记录查询"
    )]
    StaffRecordCheckConfirmed,
    #[strum(serialize = "practitioner.blacklisted", message = "列入从业黑名单")]
    PractitionerBlacklisted,

    // 资金 money
    #[strum(serialize = "supervised_account.requested", message = "申请监管账户")]
    SupervisedAccountRequested,
    #[strum(serialize = "supervised_account.confirmed", message = "确认监管账户")]
    SupervisedAccountConfirmed,
    #[strum(serialize = "order.placed", message = "下单并签订合同")]
    OrderPlaced,
    #[strum(serialize = "order.paid", message = "付款入监管账户")]
    OrderPaid,
    #[strum(serialize = "order.discounted", message = "优惠")]
    OrderDiscounted,
    #[strum(serialize = "order.class_transferred", message = "转班")]
    ClassTransferred,
    #[strum(serialize = "lesson.attended", message = "记录上课")]
    LessonAttended,
    #[strum(serialize = "lesson.confirmed", message = "确认消课")]
    LessonConfirmed,
    #[strum(serialize = "lesson.disputed", message = "消课异议")]
    LessonDisputed,
    #[strum(serialize = "lesson.needs_review", message = "消课待核实")]
    LessonNeedsReview,
    #[strum(serialize = "lesson.leave", message = "请假")]
    LessonLeave,
    #[strum(serialize = "refund.requested", message = "申请退费")]
    RefundRequested,
    #[strum(serialize = "refund.agreed", message = "同意退费")]
    RefundAgreed,
    #[strum(serialize = "refund.refused", message = "拒绝退费")]
    RefundRefused,
    #[strum(serialize = "refund.escalated", message = "退费提交监管部门")]
    RefundEscalated,
    #[strum(serialize = "refund.upheld", message = "监管部门支持退费")]
    RefundUpheld,
    #[strum(serialize = "refund.dismissed", message = "监管部门未支持退费")]
    RefundDismissed,
    #[strum(serialize = "bank.endpoint_set", message = "银行设置对接地址")]
    BankEndpointSet,
    #[strum(serialize = "bank.instructed", message = "向银行发出资金指令")]
    BankInstructed,
    #[strum(
        serialize = "bank.instruction_acknowledged",
        message = "银行确认收到指令"
    )]
    BankInstructionAcknowledged,
    #[strum(
        serialize = "bank.instruction_asked_again",
        message = "向银行查询指令结果"
    )]
    BankInstructionAskedAgain,
    #[strum(serialize = "bank.instruction_result", message = "银行回报指令结果")]
    BankInstructionResult,
    #[strum(serialize = "bank.movement", message = "银行报告资金变动")]
    BankMovement,
    #[strum(serialize = "bank.release_batch_formed", message = "形成日终拨付批次")]
    ReleaseBatchFormed,
    #[strum(serialize = "bank.statement", message = "银行日终对账单")]
    BankStatement,

    // 监管 supervision
    #[strum(serialize = "risk.raised", message = "发现资金风险")]
    RiskRaised,
    #[strum(serialize = "risk.warning_raised", message = "发出风险预警")]
    WarningRaised,
    #[strum(serialize = "risk.warning_answered", message = "机构说明整改情况")]
    WarningAnswered,
    #[strum(serialize = "risk.warning_lifted", message = "解除预警")]
    WarningLifted,
    #[strum(serialize = "risk.warning_escalated", message = "预警升级处置")]
    WarningEscalated,
    #[strum(serialize = "risk.warning_published", message = "公开提示逾期未整改")]
    WarningPublished,
    #[strum(serialize = "risk.digest_sent", message = "发送风险摘要")]
    RiskDigestSent,
    #[strum(serialize = "risk.model_set", message = "设置风险模型")]
    RiskModelSet,
    #[strum(serialize = "risk.bank_score", message = "银行报送风险评分")]
    BankRiskScore,
    #[strum(serialize = "spot_check.campaign_created", message = "创建抽检任务")]
    SpotCheckCampaignCreated,
    #[strum(serialize = "spot_check.recorded", message = "记录抽检结果")]
    SpotCheckRecorded,
    #[strum(serialize = "penalty.recorded", message = "记录行政处罚")]
    PenaltyRecorded,
    #[strum(serialize = "annual_review.recorded", message = "记录年检结论")]
    AnnualReviewRecorded,
    #[strum(serialize = "credit.model_set", message = "设置信用模型")]
    CreditModelSet,
    #[strum(serialize = "credit.published", message = "发布信用评价")]
    CreditPublished,
    #[strum(serialize = "credit.exported", message = "导出信用数据")]
    CreditExported,
    #[strum(serialize = "monitoring.exported", message = "导出监测数据")]
    MonitoringExported,
    #[strum(
        serialize = "after_school.list_created",
        message = "建立课后服务机构名单"
    )]
    AfterSchoolListCreated,
    #[strum(
        serialize = "after_school.candidate_added",
        message = "列入课后服务候选机构"
    )]
    AfterSchoolCandidateAdded,
    #[strum(serialize = "after_school.chosen", message = "学校选定课后服务机构")]
    AfterSchoolChosen,
    #[strum(serialize = "after_school.withdrawn", message = "撤出课后服务名单")]
    AfterSchoolWithdrawn,

    // 服务 service
    #[strum(serialize = "complaint.filed", message = "提交投诉")]
    ComplaintFiled,
    #[strum(serialize = "complaint.answered", message = "机构答复投诉")]
    ComplaintAnswered,
    #[strum(serialize = "complaint.accepted", message = "家长接受答复")]
    ComplaintAccepted,
    #[strum(serialize = "complaint.escalated", message = "投诉提交监管部门")]
    ComplaintEscalated,
    #[strum(serialize = "complaint.resolved", message = "监管部门处理投诉")]
    ComplaintResolved,
    #[strum(serialize = "consultation.asked", message = "发起咨询")]
    ConsultationAsked,
    #[strum(serialize = "consultation.message", message = "咨询留言")]
    ConsultationMessage,
    #[strum(serialize = "review.posted", message = "发表评价")]
    ReviewPosted,
    #[strum(serialize = "review.replied", message = "机构回复评价")]
    ReviewReplied,
    #[strum(serialize = "review.hidden", message = "隐藏评价")]
    ReviewHidden,
    #[strum(serialize = "service.ticket_opened", message = "提交服务工单")]
    TicketOpened,
    #[strum(serialize = "service.ticket_assigned", message = "分派服务工单")]
    TicketAssigned,
    #[strum(serialize = "service.ticket_replied", message = "回复服务工单")]
    TicketReplied,
    #[strum(serialize = "service.ticket_resolved", message = "办结服务工单")]
    TicketResolved,

    // 对接 integration
    #[strum(serialize = "api_client.created", message = "创建接口凭据")]
    ApiClientCreated,
    #[strum(serialize = "integrator.registered", message = "登记技术服务商")]
    IntegratorRegistered,
    #[strum(serialize = "integration.granted", message = "授权对接")]
    IntegrationGranted,
    #[strum(serialize = "integration.revoked", message = "撤销对接授权")]
    IntegrationRevoked,
    #[strum(serialize = "integration.exported", message = "对接导出数据")]
    IntegrationExported,
    #[strum(serialize = "integration.webhook_set", message = "设置事件推送地址")]
    WebhookSet,
    #[strum(serialize = "integration.webhook_replayed", message = "重放事件推送")]
    WebhookReplayed,
}

crate::state::stored_state!(Action, "audit action");

impl Action {
    /// What a refund's move to `to` is recorded as.
    pub fn refund_moved(to: RefundStatus) -> Action {
        match to {
            RefundStatus::Requested => Action::RefundRequested,
            RefundStatus::Agreed => Action::RefundAgreed,
            RefundStatus::Refused => Action::RefundRefused,
            RefundStatus::Escalated => Action::RefundEscalated,
            RefundStatus::Upheld => Action::RefundUpheld,
            RefundStatus::Dismissed => Action::RefundDismissed,
        }
    }

    /// What a warning's move to `to` is recorded as.
    pub fn warning_moved(to: WarningStatus) -> Action {
        match to {
            WarningStatus::Open => Action::WarningRaised,
            WarningStatus::Answered => Action::WarningAnswered,
            WarningStatus::Lifted => Action::WarningLifted,
            WarningStatus::Escalated => Action::WarningEscalated,
            WarningStatus::Published => Action::WarningPublished,
        }
    }

    /// The Chinese name of a stored action, or the stored name itself for one this version does not know.
    pub fn label_of(stored: &str) -> &str {
        match Action::parse(stored) {
            Ok(action) => action.label_zh(),
            Err(_) => stored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use strum::VariantArray;

    #[test]
    fn every_action_has_one_stored_name_that_reads_back_and_a_chinese_label() {
        let mut names = HashSet::new();
        for &action in Action::VARIANTS {
            assert!(names.insert(action.as_str()), "{action:?} shares its name");
            assert_eq!(Action::parse(action.as_str()), Ok(action));
            let (area, what) = action.as_str().split_once('.').expect("area.what");
            assert!(!area.is_empty() && !what.is_empty(), "{action:?}");
            assert_ne!(
                action.label_zh(),
                action.as_str(),
                "{action:?} has no Chinese label"
            );
        }
    }

    #[test]
    fn refund_and_warning_moves_are_recorded_under_their_state_names() {
        for &to in RefundStatus::VARIANTS {
            assert_eq!(Action::refund_moved(to).as_str(), format!("refund.{to}"));
        }
        for &to in WarningStatus::VARIANTS.iter().filter(|s| !s.is_open()) {
            assert_eq!(
                Action::warning_moved(to).as_str(),
                format!("risk.warning_{to}")
            );
        }
    }

    #[test]
    fn an_unknown_stored_action_reads_as_itself() {
        assert_eq!(Action::label_of("order.paid"), "付款入监管账户");
        assert_eq!(Action::label_of("something.new"), "something.new");
    }
}
