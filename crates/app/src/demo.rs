//! Demo data: realistic institutions, courses, list placements and notices, generated from a fixed
//! seed so every demo database holds the same registry. Records go through the same path as real commands
//! ([`Registry::record_institutions`](crate::registry::Registry::record_institutions)), and so write the
//! same audit entries.

mod generator;
mod risks;

use generator::{Generator, PROVINCES, Region, announcements, short_place};
pub use risks::{DEMO_RISK_ACCOUNTS, DEMO_RISK_PARENT_PHONE};

use crate::registry::InstitutionRecord;
use crate::{Actor, App, AppError, ErrorCode};
use domain::RegionCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use store::RegionRow;

pub const DEFAULT_SEED: u64 = 20_210_724; // 双减 opinion, 24 July 2021
const BATCH: usize = 1_000;
/// Demo credit codes and licence numbers number institutions with seven digits.
pub const MAX_INSTITUTIONS: usize = 9_999_999;
const DEMO_ACTOR: Actor = Actor::System { name: "demo" };
/// The demo bank's API key id and secret.
pub const DEMO_BANK_KEY_ID: &str = "xwk_demo_bank";
pub const DEMO_BANK_SECRET: &str = "demo-bank-secret-0123456789abcdef";
/// The demo integrator's (a tutoring SaaS) key, authorised by the walkthrough's institution for every scope.
pub const DEMO_INTEGRATOR_KEY_ID: &str = "xwk_demo_integrator";
pub const DEMO_INTEGRATOR_SECRET: &str = "demo-integrator-secret-0123456789";
/// The demo institution's supervised account at the demo bank (custody mode, confirmed).
pub const DEMO_ACCOUNT_NO: &str = "6222020200112345678";
/// The demo parent's phone number (codes go to the development SMS log).
pub const DEMO_PARENT_PHONE: &str = "13800000001";
/// Password of every demo account (listed in the README; demo databases only).
pub const DEMO_PASSWORD: &str = "xiaowai-demo-2026";
/// The demo school's account (password only).
pub const DEMO_SCHOOL_USERNAME: &str = "haidian.school";
/// TOTP secret of the demo regulators and bank operator; base32 `GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`.
pub const DEMO_TOTP_SECRET: &[u8] = b"12345678901234567890";

/// How seeding went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub institutions: usize,
    pub courses: usize,
    pub notices: usize,
}

impl App {
    /// Seeds `count` demo institutions into an empty registry. `progress` hears after each batch.
    pub async fn seed_demo(
        &self,
        count: usize,
        seed: u64,
        mut progress: impl FnMut(usize),
    ) -> Result<DemoSummary, AppError> {
        if count > MAX_INSTITUTIONS {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!("演示数据最多生成{MAX_INSTITUTIONS}家机构，本次要求{count}家"),
                format!(
                    "the demo generator makes at most {MAX_INSTITUTIONS} institutions, asked for {count}"
                ),
            ));
        }
        let existing = self.store.read().registry().institution_count().await?;
        if existing > 0 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("数据库中已有{existing}家机构，演示数据只写入空数据库"),
                format!(
                    "the database already holds {existing} institutions; demo data is seeded only into an empty one"
                ),
            ));
        }
        let reader = self.store.read();
        let mut provinces = Vec::new();
        for (code, weight) in PROVINCES {
            let leaves = reader.registry().leaf_regions_in(code).await?;
            let regions = leaves
                .iter()
                .map(|r| self.demo_region(r))
                .collect::<Vec<_>>();
            provinces.push((regions, *weight));
        }
        let mut generator = Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            provinces,
        };
        let mut summary = DemoSummary {
            institutions: 0,
            courses: 0,
            notices: 0,
        };
        let mut first = true;
        let mut n = 0;
        while n < count {
            let take = BATCH.min(count - n);
            let mut records: Vec<InstitutionRecord> =
                (n..n + take).map(|k| generator.record(k)).collect();
            if first {
                if let Some(r) = records.first_mut() {
                    r.notices.extend(announcements(self.clock.now()));
                }
                first = false;
            }
            summary.institutions += records.len();
            summary.courses += records.iter().map(|r| r.courses.len()).sum::<usize>();
            summary.notices += records.iter().map(|r| r.notices.len()).sum::<usize>();
            self.registry()
                .record_institutions_unindexed(&DEMO_ACTOR, &records)
                .await?;
            n += take;
            progress(n);
        }
        self.registry().refresh_search_index().await?;
        self.seed_demo_accounts().await?;
        Ok(summary)
    }

    /// The demo's people: regulators at every level around Beijing, a Haidian institution's staff and a
    /// bank operator. Their passwords and TOTP secrets are public (README); only `--demo` creates them.
    async fn seed_demo_accounts(&self) -> Result<(), AppError> {
        use crate::admin::{NewAccount, NewAccountKind};
        use domain::access::{RegulatorRole as R, StaffRole as S};
        let regulator = |username: &str, name: &str, region: &str, role: R| NewAccount {
            username: username.into(),
            display_name: name.into(),
            password: DEMO_PASSWORD.into(),
            kind: NewAccountKind::Regulator {
                region: RegionCode::parse(region).expect("demo regions are valid"),
                role,
                totp_secret: DEMO_TOTP_SECRET.to_vec(),
            },
        };
        let mut accounts = vec![
            regulator("moe.supervisor", "教育部监管员", "000000", R::Supervisor),
            regulator("moe.admin", "教育部系统管理员", "000000", R::SystemAdmin),
            regulator(
                "moe.security",
                "教育部安全管理员",
                "000000",
                R::SecurityAdmin,
            ),
            regulator("moe.auditor", "教育部审计管理员", "000000", R::AuditAdmin),
            regulator(
                "beijing.supervisor",
                "北京市监管员",
                "110000",
                R::Supervisor,
            ),
            regulator(
                "beijing.admin",
                "北京市系统管理员",
                "110000",
                R::SystemAdmin,
            ),
            regulator(
                "beijing.security",
                "北京市安全管理员",
                "110000",
                R::SecurityAdmin,
            ),
            regulator(
                "beijing.auditor",
                "北京市审计管理员",
                "110000",
                R::AuditAdmin,
            ),
            regulator("haidian.reviewer", "海淀区审核员", "110108", R::Reviewer),
            regulator(
                "haidian.supervisor",
                "海淀区监管员",
                "110108",
                R::Supervisor,
            ),
            regulator("chaoyang.reviewer", "朝阳区审核员", "110105", R::Reviewer),
            NewAccount {
                username: "bank.operator".into(),
                display_name: "监管银行操作员".into(),
                password: DEMO_PASSWORD.into(),
                kind: NewAccountKind::BankOperator {
                    bank_id: "demo-bank".into(),
                    totp_secret: DEMO_TOTP_SECRET.to_vec(),
                },
            },
        ];
        // Staff of the first white-listed institution in Haidian (or anywhere, for tiny demos).
        let reader = self.store.read();
        let mut after = String::new();
        let mut institution = None;
        'scan: loop {
            let batch = reader.registry().institutions_after(&after, 2_000).await?;
            let Some(last) = batch.last() else { break };
            after = last.id.clone();
            for i in &batch {
                if i.list_status == domain::ListStatus::White
                    && (i.region_code == "110108" || institution.is_none())
                {
                    institution = Some(i.id.clone());
                    if i.region_code == "110108" {
                        break 'scan;
                    }
                }
            }
        }
        if let Some(institution_id) = institution.clone() {
            for (username, name, role) in [
                ("inst.admin", "机构管理员", S::Admin),
                ("inst.operator", "机构运营", S::Operator),
                ("inst.teacher", "机构教师", S::Teacher),
            ] {
                accounts.push(NewAccount {
                    username: username.into(),
                    display_name: name.into(),
                    password: DEMO_PASSWORD.into(),
                    kind: NewAccountKind::Staff {
                        institution_id: institution_id.clone(),
                        role,
                    },
                });
            }
        }
        let mut haidian = risks::HaidianRegulators::default();
        for account in accounts {
            let username = account.username.clone();
            let id = self.identity().create_account(&DEMO_ACTOR, account).await?;
            match username.as_str() {
                "haidian.reviewer" => haidian.reviewer = Some(id),
                "haidian.supervisor" => haidian.supervisor = Some(id),
                _ => {}
            }
        }
        // A Haidian school choosing after-school providers (no TOTP: a school moves no money).
        let school = crate::admin::NewSchoolAccountRequest {
            username: DEMO_SCHOOL_USERNAME.into(),
            display_name: "中关村第一小学教务处".into(),
            password: DEMO_PASSWORD.into(),
            region_code: "110108".into(),
            school_name: "北京市海淀区中关村第一小学".into(),
        };
        self.identity()
            .create_school_account(&DEMO_ACTOR, &school)
            .await?;
        // The demo bank's API key (documented in the README; demo databases only).
        self.integration()
            .register_api_client(
                &DEMO_ACTOR,
                DEMO_BANK_KEY_ID,
                DEMO_BANK_SECRET,
                "bank",
                "demo-bank",
            )
            .await?;
        if let Some(institution_id) = &institution {
            self.money()
                .seed_confirmed_account(&DEMO_ACTOR, institution_id, "demo-bank", DEMO_ACCOUNT_NO)
                .await?;
            self.seed_demo_integrator(institution_id).await?;
            self.seed_demo_risks(institution_id, &haidian).await?;
        }
        // A parent (signs in with a code sent to this number) with two children.
        let phone =
            domain::person::PhoneNumber::parse(DEMO_PARENT_PHONE).expect("valid demo phone");
        let parent = self.identity().create_parent(&DEMO_ACTOR, &phone).await?;
        for (name, gender, id_card, grade) in [
            ("王小明", "male", "11010820150301001X", "小学四年级"),
            ("王小红", "female", "11010820170912002X", "小学二年级"),
        ] {
            let child = crate::parents::NewChild {
                name: name.into(),
                gender: gender.into(),
                id_card: id_card.into(),
                school: "北京市海淀区中关村第一小学".into(),
                grade: grade.into(),
            };
            self.identity().add_child(&parent, &child).await?;
        }
        Ok(())
    }

    /// A tutoring SaaS connected to the walkthrough's institution for every scope (key in the README).
    async fn seed_demo_integrator(&self, institution_id: &str) -> Result<(), AppError> {
        let new = crate::integrations::NewIntegrator {
            name: "演示教务系统".into(),
            contact: "接入负责人 13800000009".into(),
        };
        let credentials = self
            .integration()
            .register_integrator_with_key(
                &DEMO_ACTOR,
                &new,
                DEMO_INTEGRATOR_KEY_ID,
                DEMO_INTEGRATOR_SECRET,
            )
            .await?;
        let admin = Actor::Staff {
            account_id: "demo-admin".into(),
            institution_id: institution_id.to_owned(),
            role: domain::access::StaffRole::Admin,
        };
        let grant = crate::integrations::NewGrant {
            integrator_id: credentials.integrator_id,
            scopes: domain::access::IntegrationScope::ALL
                .map(|s| s.as_str().to_owned())
                .to_vec(),
        };
        self.integration().grant_integration(&admin, &grant).await?;
        Ok(())
    }

    fn demo_region(&self, r: &RegionRow) -> Region {
        let code = RegionCode::parse(&r.code).expect("region table codes parse");
        Region {
            code: r.code.clone(),
            address_prefix: self.regions.full_name(&code).replace(' ', ""),
            place: short_place(&r.name).to_owned(),
        }
    }
}
