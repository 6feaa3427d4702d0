//! The demo registry's generator: institution names, places, categories, courses and notices drawn from a
//! seeded ChaCha8 stream, so every demo database holds the same registry.

use crate::registry::InstitutionRecord;
use domain::credit_code::CreditCode;
use domain::{Category, CourseId, InstitutionId, ListChangeId, ListStatus, NoticeId, Timestamp};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use store::{CourseRow, InstitutionRow, ListChangeRow, NoticeRow};

/// Provinces in the demo and their relative weight.
pub(super) const PROVINCES: &[(&str, u32)] = &[
    ("110000", 14),
    ("310000", 14),
    ("320000", 16),
    ("330000", 18),
    ("420000", 10),
    ("440000", 18),
    ("510000", 10),
];

const BRANDS: &[&str] = &[
    "启航",
    "博雅",
    "育才",
    "明德",
    "致远",
    "思源",
    "晨曦",
    "阳光",
    "蓝天",
    "春晖",
    "英才",
    "雏鹰",
    "飞扬",
    "金桥",
    "睿思",
    "知行",
    "求真",
    "弘毅",
    "青禾",
    "星火",
    "朗润",
    "嘉禾",
    "海燕",
    "翰林",
    "新苗",
    "励志",
    "卓越",
    "乐学",
    "童心",
    "七彩",
    "北辰",
    "远航",
    "梧桐",
    "书香",
    "向日葵",
    "小橡树",
    "萤火虫",
    "金话筒",
];
const ROADS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "文化路",
    "新华路",
    "和平路",
    "长江路",
    "学院路",
    "青年路",
    "光明路",
    "滨江路",
    "东风路",
    "朝阳路",
    "科技路",
    "育才路",
    "五一路",
    "胜利路",
    "迎宾大道",
    "世纪大道",
];
const SUBJECTS: &[&str] = &[
    "数学",
    "语文",
    "英语",
    "物理",
    "化学",
    "生物",
    "历史",
    "地理",
    "道德与法治",
];
const ARTS: &[&str] = &[
    "钢琴",
    "美术",
    "舞蹈",
    "书法",
    "声乐",
    "小提琴",
    "古筝",
    "素描",
    "戏剧表演",
];
const SPORTS: &[&str] = &[
    "篮球",
    "足球",
    "游泳",
    "跆拳道",
    "羽毛球",
    "乒乓球",
    "武术",
    "轮滑",
    "击剑",
];
const TECHNOLOGY: &[&str] = &[
    "机器人",
    "少儿编程",
    "航模",
    "科学实验",
    "人工智能",
    "3D打印",
];
const PRACTICE: &[&str] = &[
    "研学实践",
    "劳动技术",
    "信息技术",
    "非遗手工",
    "自然探索",
    "心理素质拓展",
];

fn items(c: Category) -> &'static [&'static str] {
    match c {
        Category::Subject => SUBJECTS,
        Category::Arts => ARTS,
        Category::Sports => SPORTS,
        Category::Technology => TECHNOLOGY,
        Category::Practice => PRACTICE,
    }
}

fn suffix(c: Category, rng: &mut ChaCha8Rng) -> &'static str {
    let options: &[&str] = match c {
        Category::Subject => &["培训学校", "培训学校", "培训中心"],
        Category::Arts => &["艺术培训中心", "艺术学校", "艺术工作室"],
        Category::Sports => &["体育俱乐部", "运动培训中心", "体育培训学校"],
        Category::Technology => &["科技培训中心", "科创中心", "科技教育学校"],
        Category::Practice => &["实践教育中心", "素质教育中心"],
    };
    options.choose(rng).copied().unwrap_or("培训中心")
}

fn weighted<'a, T>(rng: &mut ChaCha8Rng, options: &'a [(T, u32)]) -> &'a T {
    let total: u32 = options.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (v, w) in options {
        if pick < *w {
            return v;
        }
        pick -= w;
    }
    &options[options.len() - 1].0
}

/// "西湖区" → "西湖"; short names stay whole.
pub(super) fn short_place(name: &str) -> &str {
    let n = name.chars().count();
    if n > 2 {
        for s in ["自治县", "新区", "区", "县", "市"] {
            if let Some(stripped) = name.strip_suffix(s)
                && stripped.chars().count() >= 2
            {
                return stripped;
            }
        }
    }
    name
}

/// Days since 2022-03-01 (China time, 09:00) as a timestamp.
fn day(days: i64, rng: &mut ChaCha8Rng) -> Timestamp {
    const START: i64 = 1_646_096_400_000; // 2022-03-01T01:00:00Z = 09:00 in Beijing
    Timestamp::from_millis(START + days * 86_400_000 + rng.random_range(0..9 * 3_600_000))
}

pub(super) struct Region {
    pub(super) code: String,
    pub(super) address_prefix: String,
    pub(super) place: String,
}

/// Generates institution number `n` (0-based) of the demo set.
pub(super) struct Generator {
    pub(super) rng: ChaCha8Rng,
    pub(super) provinces: Vec<(Vec<Region>, u32)>,
}

impl Generator {
    pub(super) fn record(&mut self, n: usize) -> InstitutionRecord {
        let rng = &mut self.rng;
        let weights: Vec<(usize, u32)> = self
            .provinces
            .iter()
            .enumerate()
            .map(|(i, (_, w))| (i, *w))
            .collect();
        let province = *weighted(rng, &weights);
        let region = self.provinces[province]
            .0
            .choose(rng)
            .expect("every demo province has counties");
        let category = *weighted(
            rng,
            &[
                (Category::Subject, 25),
                (Category::Arts, 30),
                (Category::Sports, 20),
                (Category::Technology, 15),
                (Category::Practice, 10),
            ],
        );
        let online = rng.random_bool(0.15);
        let status = *weighted(
            rng,
            &[
                (ListStatus::White, 80),
                (ListStatus::Grey, 14),
                (ListStatus::Black, 6),
            ],
        );
        let item = *items(category).choose(rng).expect("non-empty");
        let brand = *BRANDS.choose(rng).expect("non-empty");
        let name = if online {
            format!("{brand}{item}在线教育")
        } else if rng.random_bool(0.6) {
            format!("{}{brand}{item}{}", region.place, suffix(category, rng))
        } else {
            format!("{brand}{item}{}", suffix(category, rng))
        };
        let mut categories = vec![category];
        if rng.random_bool(0.2) {
            let other = *[
                Category::Arts,
                Category::Sports,
                Category::Technology,
                Category::Practice,
            ]
            .choose(rng)
            .expect("non-empty");
            if other != category {
                categories.push(other);
            }
        }
        let created_day = rng.random_range(0..1_700);
        let created = day(created_day, rng);
        let id = InstitutionId::from_parts(created, rng.random());
        let unlicensed = status == ListStatus::Black && rng.random_bool(0.5);
        let dept = if category.is_subject() { "52" } else { "91" };
        let credit_code = CreditCode::complete(dept, &region.code, &format!("M{n:07}"))
            .expect("generated parts have the right shape")
            .as_str()
            .to_owned();
        let licence_no = (!unlicensed)
            .then(|| format!("教民{}{:02}{n:07}号", region.code, 22 + created_day / 365));
        let (reason, changed_day) = match status {
            ListStatus::White => (
                "已通过主管部门审核，预收费纳入资金监管".to_owned(),
                created_day + rng.random_range(3..60),
            ),
            ListStatus::Grey => (
                (*[
                    "已取得办学许可，尚未在平台开展收费",
                    "预收费资金监管不到位，整改期间",
                ]
                .choose(rng)
                .expect("non-empty"))
                .to_owned(),
                created_day + rng.random_range(3..120),
            ),
            ListStatus::Black if unlicensed => {
                let found = if online {
                    "无证无照开展线上培训，网络巡查中发现"
                } else {
                    "无证无照开展校外培训，执法检查中发现"
                };
                (found.to_owned(), created_day + rng.random_range(0..30))
            }
            ListStatus::Black => {
                // Reasons that fit the institution: no fire hazard online, no weekend rule for non-subject.
                let mut reasons = vec!["违规收费且拒不退费，已被撤除"];
                if !online {
                    reasons.push("存在消防安全隐患且拒不整改");
                }
                reasons.push(if category.is_subject() {
                    "违规在周末、节假日开展学科类培训"
                } else {
                    "以非学科类名义隐形变异开展学科类培训"
                });
                (
                    (*reasons.choose(rng).expect("non-empty")).to_owned(),
                    created_day + rng.random_range(60..400),
                )
            }
        };
        let changed = day(changed_day.min(1_730), rng);
        let address = if online {
            format!(
                "{}{}{}号（线上机构注册地址）",
                region.address_prefix,
                ROADS.choose(rng).expect("non-empty"),
                rng.random_range(1..999)
            )
        } else {
            format!(
                "{}{}{}号{}楼",
                region.address_prefix,
                ROADS.choose(rng).expect("non-empty"),
                rng.random_range(1..999),
                rng.random_range(1..12)
            )
        };
        let intro = format!(
            "{}面向中小学生开展{}类{}培训，{}授课，师资持证上岗。",
            name,
            category.label_zh(),
            item,
            if online { "线上" } else { "线下" }
        );
        let institution = InstitutionRow {
            id: id.to_string(),
            name: name.clone(),
            credit_code,
            licence_no,
            region_code: region.code.clone(),
            address,
            mode: if online { "online" } else { "offline" }.to_owned(),
            categories: categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            intro,
            list_status: status,
            list_reason: reason.clone(),
            list_changed_at: changed.millis(),
            created_at: created.millis(),
            updated_at: changed.millis(),
            registry_state: domain::RegistryState::Listed,
        };
        let course_count = if status == ListStatus::Black {
            0
        } else {
            rng.random_range(1..=4)
        };
        let courses = (0..course_count)
            .map(|k| {
                let course_item = if k == 0 {
                    item
                } else {
                    items(category).choose(rng).expect("non-empty")
                };
                course(rng, &institution, course_item, category, online, created)
            })
            .collect();
        let list_change = ListChangeRow {
            id: ListChangeId::from_parts(changed, rng.random()).to_string(),
            institution_id: institution.id.clone(),
            from_status: None,
            to_status: status.as_str().to_owned(),
            reason: reason.clone(),
            actor: "regulator:demo".to_owned(),
            at: changed.millis(),
        };
        let mut notices = Vec::new();
        let warning = status == ListStatus::Grey && reason.contains("整改");
        if status == ListStatus::Black || warning {
            let (kind, title, body) = if status == ListStatus::Black {
                (
                    "black_list",
                    format!("关于将{name}列入黑名单的公示"),
                    format!(
                        "经查，{name}{reason}。现将其列入校外培训机构黑名单，请家长切勿报名缴费。"
                    ),
                )
            } else {
                (
                    "public_warning",
                    format!("关于{name}的公开提示"),
                    format!("{name}{reason}。请家长谨慎选择，缴费时务必通过平台监管账户。"),
                )
            };
            notices.push(NoticeRow {
                id: NoticeId::from_parts(changed, rng.random()).to_string(),
                kind: kind.to_owned(),
                institution_id: Some(institution.id.clone()),
                region_code: region.code.clone(),
                title,
                body,
                published_at: changed.millis(),
                until_at: None,
            });
        }
        InstitutionRecord {
            institution,
            courses,
            list_change,
            notices,
        }
    }
}

fn course(
    rng: &mut ChaCha8Rng,
    i: &InstitutionRow,
    item: &str,
    category: Category,
    online: bool,
    created: Timestamp,
) -> CourseRow {
    let (name, grades, minutes, price_range) = match category {
        Category::Subject => {
            let grade = *[
                "小学三年级",
                "小学四年级",
                "小学五年级",
                "小学六年级",
                "初一",
                "初二",
                "初三",
            ]
            .choose(rng)
            .expect("non-empty");
            let kind = *["同步提高班", "思维拓展班", "基础巩固班", "阅读写作班"]
                .choose(rng)
                .expect("non-empty");
            (
                format!("{grade}{item}{kind}"),
                grade.to_owned(),
                if online { 30 } else { 45 },
                3_000..8_000,
            )
        }
        _ => {
            let level = *["启蒙班", "初级班", "中级班", "提高班", "考级班", "兴趣班"]
                .choose(rng)
                .expect("non-empty");
            let grades = *["3-6岁", "小学1-3年级", "小学4-6年级", "初中", "小学全学段"]
                .choose(rng)
                .expect("non-empty");
            (
                format!("{item}{level}"),
                grades.to_owned(),
                if online {
                    30
                } else {
                    *[45, 60, 90].choose(rng).expect("non-empty")
                },
                6_000..25_000,
            )
        }
    };
    let price: i64 = rng.random_range(price_range) / 100 * 100;
    // Within the 60-lesson and 5,000-yuan caps of one purchase.
    let lessons = rng.random_range(8..=48).min(500_000 / price).clamp(1, 60);
    CourseRow {
        id: CourseId::from_parts(created, rng.random()).to_string(),
        institution_id: i.id.clone(),
        name,
        category: category.as_str().to_owned(),
        mode: i.mode.clone(),
        grades,
        lessons,
        minutes_per_lesson: minutes,
        class_size: if category.is_subject() {
            *[8, 20, 30].choose(rng).expect("non-empty")
        } else {
            rng.random_range(4..=20)
        },
        price_per_lesson_fen: price,
        created_at: created.millis(),
        first_lesson: None,
        last_lesson: None,
        preferential_total_fen: None,
    }
}

pub(super) fn announcements(at: Timestamp) -> Vec<NoticeRow> {
    [
        ("关于规范校外培训预收费资金监管的公告", "校外培训机构预收费须全部进入监管账户，按课消逐课释放。家长缴费请通过平台完成，切勿向个人账户转账。"),
        ("关于寒假期间校外培训安全工作的提示", "寒假期间学科类校外培训一律不得开展。请家长核验机构合规码牌，选择白名单机构参加非学科类培训。"),
        ("全国校外教育培训监管与服务综合平台家长端使用说明", "家长可在平台查询机构资质、选课购课、逐课确认消课、申请退费和投诉。"),
    ]
    .iter()
    .enumerate()
    .map(|(k, (title, body))| NoticeRow {
        id: NoticeId::from_parts(at.plus_millis(k as i64), [k as u8; 10]).to_string(),
        kind: "announcement".to_owned(),
        institution_id: None,
        region_code: "000000".to_owned(),
        title: (*title).to_owned(),
        body: (*body).to_owned(),
        published_at: at.plus_millis(k as i64).millis(),
                until_at: None,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_names_lose_their_administrative_suffix() {
        assert_eq!(short_place("西湖区"), "西湖");
        assert_eq!(short_place("海淀区"), "海淀");
        assert_eq!(short_place("城区"), "城区");
        assert_eq!(short_place("峨边彝族自治县"), "峨边彝族");
    }
}
