//! One table of stable error codes. Every failure a user can see is one of these, with an HTTP status,
//! a Chinese and an English message. The web layer renders them; nothing else invents error text.

use domain::DomainError;
use store::StoreError;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:literal, $zh:literal, $en:literal;)*) => {
        /// A stable, documented error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The machine-readable code, e.g. `invalid_region`.
            pub fn code(self) -> &'static str { match self { $(ErrorCode::$variant => $code,)* } }
            /// The HTTP status this code answers with.
            pub fn status(self) -> u16 { match self { $(ErrorCode::$variant => $status,)* } }
            pub fn message_zh(self) -> &'static str { match self { $(ErrorCode::$variant => $zh,)* } }
            pub fn message_en(self) -> &'static str { match self { $(ErrorCode::$variant => $en,)* } }
        }
    };
}

error_codes! {
    InvalidRegion => "invalid_region", 400, "行政区划代码无效", "The region code is not a valid GB/T 2260 code";
    UnknownRegion => "unknown_region", 400, "行政区划代码不存在", "No region has this code";
    InvalidId => "invalid_id", 400, "编号格式无效", "The id is malformed";
    InvalidCategory => "invalid_category", 400, "培训类别无效", "Unknown training category";
    InvalidMode => "invalid_mode", 400, "教学方式无效（应为线上或线下）", "The teaching mode must be online or offline";
    InvalidListStatus => "invalid_list_status", 400, "名单类型无效（应为白名单、灰名单或黑名单）", "The list must be white, grey or black";
    InvalidPage => "invalid_page", 400, "页码无效", "The page number is out of range";
    PerPageOutOfRange => "per_page_out_of_range", 400, "每页条数超出范围（1–100）", "per_page must be between 1 and 100";
    QueryTooLong => "query_too_long", 400, "搜索词过长", "The search text is too long";
    InvalidParameter => "invalid_parameter", 400, "请求参数无效", "A request parameter is invalid";
    InvalidCreditCode => "invalid_credit_code", 400, "统一社会信用代码不正确（应为18位，校验位须正确）", "The unified social credit code is malformed or its check character is wrong";
    CertificateExpired => "certificate_expired", 400, "证照已过期或日期不正确，请上传有效期内的证照", "A licence or certificate date is in the past";
    DocumentTooLarge => "document_too_large", 413, "文件过大（不超过10MB）", "The document is larger than 10 MB";
    DocumentRejected => "document_rejected", 415, "文件须为 PDF、JPEG 或 PNG（按内容识别），且不能为空", "Documents must be PDF, JPEG or PNG by content, and not empty";
    InvalidPhone => "invalid_phone", 400, "手机号格式不正确（应为11位手机号）", "The mobile number is malformed (11 digits expected)";
    InvalidIdCard => "invalid_id_card", 400, "身份证号码不正确（长度、出生日期或校验位有误）", "The ID card number is malformed or its check digit is wrong";
    InvalidName => "invalid_name", 400, "姓名不能为空且不超过50个字符", "A name must be 1 to 50 characters";
    WeakPassword => "weak_password", 400, "密码需为10至128个字符，且不能与原密码相同", "A password must be 10 to 128 characters and differ from the old one";
    FieldTooLong => "field_too_long", 400, "输入内容为空或过长", "A field is empty or too long";
    Unauthenticated => "unauthenticated", 401, "请先登录", "Sign-in required";
    InvalidSignature => "invalid_signature", 401, "请求签名无效", "The request signature does not verify";
    StaleRequest => "stale_request", 401, "请求时间戳超出允许范围（5分钟）", "The request timestamp is outside the 5-minute window";
    ReplayedRequest => "replayed_request", 401, "重复的请求（nonce 已使用）", "The nonce was already used: replayed request";
    InvalidCode => "invalid_code", 401, "验证码错误或已过期", "The code is wrong or has expired";
    InvalidCredentials => "invalid_credentials", 401, "用户名或密码错误", "Wrong username or password";
    TotpRequired => "totp_required", 401, "请输入动态口令", "A one-time code from the authenticator is required";
    TotpInvalid => "totp_invalid", 401, "动态口令错误或已使用", "The one-time code is wrong or was already used";
    AccountLocked => "account_locked", 423, "登录失败次数过多，账户已临时锁定", "Too many failed sign-ins: the account is locked for a while";
    PasswordChangeRequired => "password_change_required", 403, "首次登录请先修改初始密码", "Replace the temporary password before signing in";
    Forbidden => "forbidden", 403, "无权执行此操作", "You are not allowed to do this";
    CsrfFailed => "csrf_failed", 403, "页面已过期或来源不明，请刷新后重试", "The form is stale or came from elsewhere: reload and retry";
    NotFound => "not_found", 404, "未找到您要访问的内容", "Not found";
    MethodNotAllowed => "method_not_allowed", 405, "不支持该请求方法", "Method not allowed";
    RequestTimeout => "request_timeout", 408, "请求处理超时，请稍后重试", "The request took too long to handle: try again";
    PayloadTooLarge => "payload_too_large", 413, "请求内容过大", "The request body is larger than this endpoint takes";
    UnsupportedMediaType => "unsupported_media_type", 415, "请求内容类型不受支持（应为 application/json）", "The request body's content type is not supported here";
    Conflict => "conflict", 409, "数据冲突，记录已存在", "The record already exists";
    PractitionerBlacklisted => "practitioner_blacklisted", 422, "此人在从业人员黑名单中，不得聘用", "This person is on the practitioner black list and may not be employed";
    ServingTeacherNotAllowed => "serving_teacher_not_allowed", 422, "不得聘用在职中小学、幼儿园教师", "Serving school and kindergarten teachers may not be employed";
    TeacherQualificationRequired => "teacher_qualification_required", 422, "学科类教师须具有相应教师资格", "A subject teacher needs a teacher qualification";
    RecordCheckRequired => "record_check_required", 422, "须先上传入职查询（性侵违法犯罪信息查询）结果", "Upload the pre-hire record check first";
    NotWhiteListed => "not_white_listed", 422, "只有白名单机构可以在平台销售课程", "Only a white-listed institution sells courses";
    CandidateFlagged => "candidate_flagged", 422, "该机构存在不符合项，不能选用为课后服务机构", "The candidate has a flag that bars it from after-school service";
    RunOffStarted => "run_off_started", 422, "该机构已进入清退程序，不能再报名缴费", "The institution is in run-off: it takes no new orders or money";
    SalesSuspended => "sales_suspended", 422, "该机构依行政处罚决定停止招生，暂不能报名", "The institution may not enrol anyone while a penalty decision stops its enrolment";
    PolicyLoosened => "policy_loosened", 422, "下级只能在上级规定基础上从严，不得放宽", "A lower level may make a rule stricter than the level above, never looser";
    PolicyViolation => "policy_violation", 422, "课程不符合本地区政策规定", "The course breaks the region's policy rules";
    InsufficientFunds => "insufficient_funds", 422, "账户余额不足，资金未移动", "The account would go negative: nothing moved";
    FilingIncomplete => "filing_incomplete", 422, "报备信息不完整，请补全后再提交", "The filing is incomplete: fill in what is missing first";
    FundSupervisionRequired => "fund_supervision_required", 422, "列入白名单须先审核通过并完成资金监管账户绑定", "The white list needs approval and a confirmed supervised account";
    NoSupervisedAccount => "no_supervised_account", 422, "该机构尚无已确认的资金监管账户，暂不能购买", "The institution has no confirmed supervised account: nothing can be bought yet";
    AmountOutOfRange => "amount_out_of_range", 422, "金额超出允许范围", "The amount is outside the range this field takes";
    AmountMismatch => "amount_mismatch", 422, "金额与订单或指令不符", "The amount differs from the order's or the instruction's";
    BankRefReused => "bank_ref_reused", 409, "银行流水号已用于另一笔不同的业务，本次报文未受理", "This bank reference was already used for a different message: nothing was recorded";
    AlreadyPaid => "already_paid", 409, "订单已由另一笔付款支付，请将此款退回付款人", "The order was paid by another payment: return this one to the payer";
    IdempotencyKeyReused => "idempotency_key_reused", 422, "幂等键已用于另一请求", "This Idempotency-Key was used for a different request";
    IdempotencyKeyRequired => "idempotency_key_required", 400, "变更请求须携带 Idempotency-Key（1至64个字符）", "Mutations need an Idempotency-Key header (1 to 64 characters)";
    ReviewNeedsConfirmedLesson => "review_needs_confirmed_lesson", 422, "至少有一节已确认的课后才能评价", "A review needs at least one confirmed lesson";
    BlockedWords => "blocked_words", 422, "内容含有不允许发布的词语，请修改后再提交", "The text contains words that may not be published";
    ConstraintViolation => "constraint_violation", 422, "数据不符合约束条件", "The data violates a constraint";
    AppendOnly => "append_only", 409, "该记录只能追加，不能修改或删除", "This record is append-only";
    TooManyRequests => "too_many_requests", 429, "操作过于频繁，请稍后再试", "Too many requests: try again later";
    PdfUnavailable => "pdf_unavailable", 503, "服务器未安装中文字体，暂不能生成 PDF，请使用打印或 CSV", "The server has no CJK font for PDFs: print the page or use the CSV";
    Unavailable => "unavailable", 503, "服务暂时不可用，请稍后再试", "The service is temporarily unavailable";
    Internal => "internal", 500, "系统内部错误", "Internal error";
}

/// What exactly was wrong with one request (错误详情): in Chinese for pages and in both languages for the
/// API, with the request field at fault and the rules broken when there are such.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    pub zh: String,
    pub en: String,
    /// The request field at fault, as the API names it (`bank_id`, `schedule.times`).
    pub field: Option<String>,
    /// For `policy_violation` and `policy_loosened`: each rule broken, with its numbers.
    pub rules: Vec<BrokenRule>,
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}

/// One rule a request breaks, by its stable name and in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenRule {
    pub rule: String,
    pub zh: String,
    pub en: String,
}

impl From<&domain::policy::RuleViolation> for BrokenRule {
    fn from(v: &domain::policy::RuleViolation) -> Self {
        BrokenRule {
            rule: v.rule().to_owned(),
            zh: v.message_zh(),
            en: v.message_en(),
        }
    }
}

impl From<&domain::schedule::ScheduleProblem> for BrokenRule {
    fn from(p: &domain::schedule::ScheduleProblem) -> Self {
        BrokenRule {
            rule: p.rule().to_owned(),
            zh: p.message_zh(),
            en: p.message_en(),
        }
    }
}

/// An error from a use case: a stable code plus a detail for the person reading it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", code.code(), detail.en)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: Detail,
    /// When a refusal in time (`too_many_requests`, `account_locked`) lifts, in seconds from now.
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    /// A refusal with its detail in Chinese and in English.
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError {
            code,
            detail: Detail {
                zh: zh.into(),
                en: en.into(),
                ..Detail::default()
            },
            retry_after_secs: None,
        }
    }

    /// The same refusal, naming the request field at fault.
    pub fn on(mut self, field: impl Into<String>) -> AppError {
        self.detail.field = Some(field.into());
        self
    }

    /// A refusal for the rules broken: its detail lists them all.
    pub fn rules_broken(code: ErrorCode, rules: Vec<BrokenRule>) -> AppError {
        let join =
            |f: fn(&BrokenRule) -> &str, sep| rules.iter().map(f).collect::<Vec<_>>().join(sep);
        let mut e = AppError::new(code, join(|r| &r.zh, "；"), join(|r| &r.en, "; "));
        e.detail.rules = rules;
        e
    }

    /// The same refusal, saying when to try again.
    pub fn retry_after(mut self, secs: u64) -> AppError {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// A request parameter that is not what the endpoint takes.
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::InvalidParameter, zh, en)
    }

    pub fn not_found(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::NotFound, zh, en)
    }

    /// A fault: its words go to the log only, so they need no Chinese.
    pub fn internal(detail: impl Into<String>) -> AppError {
        AppError::new(
            ErrorCode::Internal,
            ErrorCode::Internal.message_zh(),
            detail,
        )
    }
}

/// A request field's name as a person reads it: the label where we have one, else the name itself.
pub fn field_label(field: &str) -> &str {
    match field {
        "reason" => "理由",
        "name" => "名称",
        "text" => "内容",
        "body" => "内容",
        "bank_ref" => "银行流水号",
        "decision_no" => "决定书文号",
        "address" => "地址",
        "topic" => "主题",
        "subject" => "事由",
        "session_date" => "上课日期",
        "school_name" => "学校名称",
        "school" => "学校",
        "ruling" => "处理意见",
        "remarks" => "备注",
        "note" => "备注",
        "legal_basis" => "法律依据",
        "first_lesson" => "开课日期",
        "last_lesson" => "结课日期",
        "in_force_until" => "执行截止日期",
        "decided_on" => "决定日期",
        "grade" => "年级",
        "filename" => "文件名",
        "facts" => "违法事实",
        "explanation" => "说明",
        "contact" => "联系方式",
        "evidence" => "上课凭证",
        "page" => "页码",
        "per_page" => "每页条数",
        "price_per_lesson_fen" | "price" => "每课时价格",
        "preferential_total" | "preferential_total_fen" => "优惠总价",
        "instruction_url" => "指令接收地址",
        "checkout_url" => "收银台地址",
        "webhook_url" => "回调地址",
        "amount_fen" | "amount" => "金额",
        "max_failures" => "登录失败次数上限",
        "lockout_minutes" => "锁定时长（分钟）",
        "privileged_idle_minutes" => "特权账户空闲超时（分钟）",
        "idle_minutes" => "空闲超时（分钟）",
        "session_hours" => "会话时长（小时）",
        "revenue" => "营业收入",
        "expenses" => "营业支出",
        "net_assets" => "净资产",
        "prepaid" => "预收费余额",
        other => other,
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::InvalidRegionCode(_) => ErrorCode::InvalidRegion,
            DomainError::InvalidId(_) => ErrorCode::InvalidId,
            DomainError::InvalidCategory(_) => ErrorCode::InvalidCategory,
            DomainError::InvalidTeachingMode(_) => ErrorCode::InvalidMode,
            DomainError::InvalidListStatus(_) => ErrorCode::InvalidListStatus,
            DomainError::InvalidPage(_) => ErrorCode::InvalidPage,
            DomainError::PerPageOutOfRange { .. } => ErrorCode::PerPageOutOfRange,
            DomainError::InvalidCreditCode(_) => ErrorCode::InvalidCreditCode,
            DomainError::AmountOutOfRange { .. } => ErrorCode::AmountOutOfRange,
            DomainError::MoneyOverflow | DomainError::InvalidCalendar { .. } => ErrorCode::Internal,
        };
        let refused = AppError::new(code, e.message_zh(), e.to_string());
        match e {
            DomainError::AmountOutOfRange { field, .. } => refused.on(field),
            DomainError::InvalidPage(_) => refused.on("page"),
            DomainError::PerPageOutOfRange { .. } => refused.on("per_page"),
            _ => refused,
        }
    }
}

/// An event the state does not allow: someone else moved the record first, or the request comes too late.
impl From<domain::TransitionRefused> for AppError {
    fn from(e: domain::TransitionRefused) -> Self {
        AppError::new(ErrorCode::Conflict, e.message_zh(), e.to_string())
    }
}

/// A fault below the application becomes a stable code with a fixed sentence: the database's own words (its
/// SQL, table and constraint names) go to the log, never to the person who sent the request.
impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let (code, zh, en) = match &e {
            StoreError::Conflict(_) => (
                ErrorCode::Conflict,
                "已有相同的记录",
                "a record with the same key already exists",
            ),
            StoreError::Constraint(_) => (
                ErrorCode::ConstraintViolation,
                "数据不符合数据库的约束规则",
                "the data breaks a rule the database holds",
            ),
            StoreError::AppendOnly(_) => (
                ErrorCode::AppendOnly,
                "该记录只能追加",
                "this record may only be appended to",
            ),
            StoreError::Database(sqlx_error) if is_unavailable(sqlx_error) => (
                ErrorCode::Unavailable,
                "数据库暂时无法连接",
                "the database cannot be reached",
            ),
            _ => (
                ErrorCode::Internal,
                "系统内部错误",
                "a fault in the database layer",
            ),
        };
        tracing::warn!(error = %e, code = code.code(), "store error");
        AppError::new(code, zh, en)
    }
}

fn is_unavailable(e: &store::SqlxError) -> bool {
    matches!(
        e,
        store::SqlxError::PoolTimedOut | store::SqlxError::PoolClosed | store::SqlxError::Io(_)
    )
}

/// A stated reason or short note (a refusal, a dispute, a policy change, a hidden review): 1 to 200 characters,
/// trimmed; `field` names it in the error.
/// A required text field: trimmed, 1 to `max` characters.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::FieldTooLong,
            format!("{}：须为1至{max}个字符", field_label(field)),
            format!("{field}: 1 to {max} characters"),
        )
        .on(field));
    }
    Ok(v.to_owned())
}

pub(crate) fn stated_reason<'a>(field: &str, text: &'a str) -> Result<&'a str, AppError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 200 {
        return Err(AppError::new(
            ErrorCode::FieldTooLong,
            format!("{}：须为1至200个字符", field_label(field)),
            format!("{field}: 1 to 200 characters"),
        )
        .on(field));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_database_refusal_reaches_no_one_in_the_database_s_words() {
        let said = [
            StoreError::Conflict("UNIQUE constraint failed: orders.payment_ref".into()),
            StoreError::Constraint(
                "new row for relation \"orders\" violates check constraint \"orders_instructed_within_paid\""
                    .into(),
            ),
            StoreError::AppendOnly("append_only: UPDATE of audit_log refused".into()),
            StoreError::Corrupt("orders.status = 'weird'".into()),
            StoreError::Database(sqlx::Error::Protocol("SELECT id FROM orders".into())),
        ];
        let expected = [
            ErrorCode::Conflict,
            ErrorCode::ConstraintViolation,
            ErrorCode::AppendOnly,
            ErrorCode::Internal,
            ErrorCode::Internal,
        ];
        for (e, code) in said.into_iter().zip(expected) {
            let told = AppError::from(e);
            assert_eq!(told.code, code);
            for sql in [
                "UNIQUE",
                "constraint",
                "orders",
                "relation",
                "audit_log",
                "SELECT",
                "UPDATE",
            ] {
                for said in [&told.detail.zh, &told.detail.en] {
                    assert!(!said.contains(sql), "{sql} in {said:?}");
                }
            }
        }
    }

    #[test]
    fn every_code_is_unique_and_fully_described() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert!(
                (400..600).contains(&c.status()),
                "{} has status {}",
                c.code(),
                c.status()
            );
            assert!(!c.message_zh().is_empty() && !c.message_en().is_empty());
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
    }

    #[test]
    fn constraint_violations_are_never_500() {
        assert_eq!(
            AppError::from(StoreError::Conflict("x".into()))
                .code
                .status(),
            409
        );
        assert_eq!(
            AppError::from(StoreError::Constraint("x".into()))
                .code
                .status(),
            422
        );
        assert_eq!(
            AppError::from(StoreError::AppendOnly("x".into()))
                .code
                .status(),
            409
        );
    }
}
