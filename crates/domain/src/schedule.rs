//! 课表 a course's schedule: weekly sessions at a fixed time, from the first lesson date until every lesson
//! has its session, each with a teacher and a room. Checked against the region's teaching-time rules (end by
//! 20:30 offline and 21:00 online; no subject training on rest days) and against the institution's other
//! sessions (a teacher or a room in two places at once).

use crate::policy::RegionPolicy;
use crate::{Category, TeachingMode, WorkingDayCalendar};
use chrono::{Datelike, NaiveDate};

/// Weekly sessions: ISO weekdays (1 = Monday … 7 = Sunday), at each of `start_minutes` (after midnight) on
/// those days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weekly {
    pub weekdays: Vec<u32>,
    pub start_minutes: Vec<u32>,
}

/// One session of a course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub date: NaiveDate,
    pub start_minute: u32,
    pub end_minute: u32,
}

/// A session already booked for a teacher or a room (another course of the institution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    pub session: Session,
    pub teacher_id: String,
    pub room: String,
    pub course_name: String,
}

/// What is wrong with a schedule, with its numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleProblem {
    NoWeekdays,
    /// The weekly sessions between the dates are fewer than the lessons sold.
    TooFewSessions {
        lessons: u32,
        sessions: u32,
        last: NaiveDate,
    },
    EndsTooLate {
        date: NaiveDate,
        end_minute: u32,
        latest_minute: u32,
    },
    SubjectOnRestDay {
        date: NaiveDate,
    },
    SubjectInVacation {
        date: NaiveDate,
        vacation: String,
    },
    /// Online lessons the same day closer together than the rule's break.
    BreakTooShort {
        date: NaiveDate,
        minutes: u32,
        min: u32,
    },
    TeacherClash {
        date: NaiveDate,
        other_course: String,
    },
    RoomClash {
        date: NaiveDate,
        room: String,
        other_course: String,
    },
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl ScheduleProblem {
    /// The stable name of the rule the schedule breaks.
    pub fn rule(&self) -> &'static str {
        match self {
            ScheduleProblem::NoWeekdays | ScheduleProblem::TooFewSessions { .. } => "schedule",
            ScheduleProblem::EndsTooLate { .. } => "latest_end",
            ScheduleProblem::SubjectOnRestDay { .. } => "subject_on_rest_days",
            ScheduleProblem::SubjectInVacation { .. } => "subject_in_vacations",
            ScheduleProblem::BreakTooShort { .. } => "online_min_break_minutes",
            ScheduleProblem::TeacherClash { .. } => "teacher_clash",
            ScheduleProblem::RoomClash { .. } => "room_clash",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            ScheduleProblem::NoWeekdays => {
                "a schedule needs at least one weekday and one start time".to_owned()
            }
            ScheduleProblem::TooFewSessions {
                lessons,
                sessions,
                last,
            } => format!(
                "the schedule holds {sessions} sessions until {last}, fewer than the {lessons} lessons sold"
            ),
            ScheduleProblem::EndsTooLate {
                date,
                end_minute,
                latest_minute,
            } => format!(
                "lessons end by {}; the lesson on {date} ends at {}",
                clock(*latest_minute),
                clock(*end_minute)
            ),
            ScheduleProblem::SubjectOnRestDay { date } => {
                format!("no subject training on weekends and public holidays: {date}")
            }
            ScheduleProblem::SubjectInVacation { date, vacation } => {
                format!("no subject training in the school vacations: {date} ({vacation})")
            }
            ScheduleProblem::BreakTooShort { date, minutes, min } => {
                format!(
                    "online lessons need a break of {min} minutes; on {date} two are {minutes} minutes apart"
                )
            }
            ScheduleProblem::TeacherClash { date, other_course } => {
                format!("the teacher is booked on {date} for \"{other_course}\"")
            }
            ScheduleProblem::RoomClash {
                date,
                room,
                other_course,
            } => format!("room \"{room}\" is booked on {date} for \"{other_course}\""),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            ScheduleProblem::NoWeekdays => "课表须至少选择每周一天、每天一个上课时间".to_owned(),
            ScheduleProblem::TooFewSessions {
                lessons,
                sessions,
                last,
            } => format!("课表截至{last}只能安排{sessions}次课，少于所售{lessons}课时"),
            ScheduleProblem::EndsTooLate {
                date,
                end_minute,
                latest_minute,
            } => format!(
                "课程须在{}前结束，{date}的课程{}结束",
                clock(*latest_minute),
                clock(*end_minute)
            ),
            ScheduleProblem::SubjectOnRestDay { date } => {
                format!("学科类培训不得在周末、法定节假日开展：{date}")
            }
            ScheduleProblem::SubjectInVacation { date, vacation } => {
                format!("学科类培训不得在寒暑假开展：{date}（{vacation}）")
            }
            ScheduleProblem::BreakTooShort { date, minutes, min } => {
                format!("线上课程课间休息不少于{min}分钟，{date}的两节课间隔{minutes}分钟")
            }
            ScheduleProblem::TeacherClash { date, other_course } => {
                format!("授课教师{date}与课程“{other_course}”时间冲突")
            }
            ScheduleProblem::RoomClash {
                date,
                room,
                other_course,
            } => {
                format!("教室“{room}”{date}已被课程“{other_course}”占用")
            }
        }
    }
}

/// The sessions of `lessons` lessons of `minutes` each, weekly from `first` (at most until `last`).
pub fn expand(
    weekly: &Weekly,
    minutes: u32,
    lessons: u32,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<Session>, ScheduleProblem> {
    if weekly.weekdays.is_empty()
        || weekly.weekdays.iter().any(|d| !(1..=7).contains(d))
        || weekly.start_minutes.is_empty()
    {
        return Err(ScheduleProblem::NoWeekdays);
    }
    let mut starts = weekly.start_minutes.clone();
    starts.sort_unstable();
    starts.dedup();
    let mut sessions = Vec::new();
    let mut date = first;
    while date <= last && sessions.len() < lessons as usize {
        if weekly
            .weekdays
            .contains(&date.weekday().number_from_monday())
        {
            for start in starts.iter().take(lessons as usize - sessions.len()) {
                sessions.push(Session {
                    date,
                    start_minute: *start,
                    end_minute: start + minutes,
                });
            }
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    if sessions.len() < lessons as usize {
        return Err(ScheduleProblem::TooFewSessions {
            lessons,
            sessions: sessions.len() as u32,
            last,
        });
    }
    Ok(sessions)
}

/// A course's planned sessions, with who teaches them where.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    pub category: Category,
    pub mode: TeachingMode,
    pub sessions: &'a [Session],
    pub teacher_id: &'a str,
    pub room: &'a str,
}

/// Every rule of `policy` the plan breaks, and every clash with what the teacher and room already have.
pub fn check(
    policy: &RegionPolicy,
    calendar: &WorkingDayCalendar,
    plan: Plan<'_>,
    booked: &[Booked],
) -> Vec<ScheduleProblem> {
    let Plan {
        category,
        mode,
        sessions,
        teacher_id,
        room,
    } = plan;
    let latest = match mode {
        TeachingMode::Online => policy.online_latest_end_minute,
        TeachingMode::Offline => policy.offline_latest_end_minute,
    };
    let mut problems = Vec::new();
    for s in sessions {
        if s.end_minute > latest {
            problems.push(ScheduleProblem::EndsTooLate {
                date: s.date,
                end_minute: s.end_minute,
                latest_minute: latest,
            });
        }
        if category == Category::Subject && !policy.subject_on_rest_days {
            if !calendar.is_working_day(s.date) {
                problems.push(ScheduleProblem::SubjectOnRestDay { date: s.date });
            } else if let Some(v) = policy
                .vacations
                .iter()
                .find(|v| v.from <= s.date && s.date <= v.to)
            {
                problems.push(ScheduleProblem::SubjectInVacation {
                    date: s.date,
                    vacation: v.name.clone(),
                });
            }
        }
        for b in booked.iter().filter(|b| {
            b.session.date == s.date
                && b.session.start_minute < s.end_minute
                && s.start_minute < b.session.end_minute
        }) {
            if b.teacher_id == teacher_id {
                problems.push(ScheduleProblem::TeacherClash {
                    date: s.date,
                    other_course: b.course_name.clone(),
                });
            }
            if !room.is_empty() && b.room == room {
                problems.push(ScheduleProblem::RoomClash {
                    date: s.date,
                    room: room.to_owned(),
                    other_course: b.course_name.clone(),
                });
            }
        }
    }
    if mode == TeachingMode::Online {
        for pair in sessions.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.date == b.date && b.start_minute < a.end_minute + policy.online_min_break_minutes {
                problems.push(ScheduleProblem::BreakTooShort {
                    date: a.date,
                    minutes: b.start_minute.saturating_sub(a.end_minute),
                    min: policy.online_min_break_minutes,
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn plan<'a>(
        category: Category,
        mode: TeachingMode,
        sessions: &'a [Session],
        teacher_id: &'a str,
        room: &'a str,
    ) -> Plan<'a> {
        Plan {
            category,
            mode,
            sessions,
            teacher_id,
            room,
        }
    }

    fn evenings() -> Weekly {
        // Tuesdays and Thursdays at 19:00.
        Weekly {
            weekdays: vec![2, 4],
            start_minutes: vec![19 * 60],
        }
    }

    #[test]
    fn weekly_sessions_are_laid_out_until_every_lesson_has_one() {
        let s = expand(&evenings(), 45, 4, day("2027-03-01"), day("2027-03-31")).unwrap();
        let dates: Vec<String> = s.iter().map(|s| s.date.to_string()).collect();
        assert_eq!(
            dates,
            ["2027-03-02", "2027-03-04", "2027-03-09", "2027-03-11"]
        );
        assert_eq!((s[0].start_minute, s[0].end_minute), (1140, 1185));
        let short = expand(&evenings(), 45, 20, day("2027-03-01"), day("2027-03-31")).unwrap_err();
        assert_eq!(
            short.message_zh(),
            "课表截至2027-03-31只能安排9次课，少于所售20课时"
        );
        assert_eq!(
            expand(
                &Weekly {
                    weekdays: vec![],
                    start_minutes: vec![0]
                },
                45,
                1,
                day("2027-03-01"),
                day("2027-03-31")
            ),
            Err(ScheduleProblem::NoWeekdays)
        );
    }

    #[test]
    fn late_ends_rest_days_and_clashes_are_named() {
        let policy = RegionPolicy::default();
        let calendar = WorkingDayCalendar::china();
        // 20:00 + 45 minutes ends 20:45: too late offline (20:30), fine online (21:00) if it were 30 minutes.
        let late = Weekly {
            weekdays: vec![2],
            start_minutes: vec![20 * 60],
        };
        let s = expand(&late, 45, 1, day("2027-03-01"), day("2027-03-31")).unwrap();
        let p = check(
            &policy,
            &calendar,
            plan(Category::Arts, TeachingMode::Offline, &s, "t1", "A101"),
            &[],
        );
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].message_zh(),
            "课程须在20:30前结束，2027-03-02的课程20:45结束"
        );
        let online = expand(&late, 30, 1, day("2027-03-01"), day("2027-03-31")).unwrap();
        assert!(
            check(
                &policy,
                &calendar,
                plan(Category::Arts, TeachingMode::Online, &online, "t1", ""),
                &[]
            )
            .is_empty()
        );

        // Saturday: fine for arts, not for a subject.
        let saturday = Weekly {
            weekdays: vec![6],
            start_minutes: vec![9 * 60],
        };
        let s = expand(&saturday, 45, 1, day("2027-03-01"), day("2027-03-31")).unwrap();
        assert!(
            check(
                &policy,
                &calendar,
                plan(Category::Arts, TeachingMode::Offline, &s, "t1", "A101"),
                &[]
            )
            .is_empty()
        );
        let p = check(
            &policy,
            &calendar,
            plan(Category::Subject, TeachingMode::Offline, &s, "t1", "A101"),
            &[],
        );
        assert_eq!(
            p,
            vec![ScheduleProblem::SubjectOnRestDay {
                date: day("2027-03-06")
            }]
        );

        // The same teacher or room, overlapping by ten minutes; back to back is no clash.
        let s = expand(&evenings(), 45, 1, day("2027-03-01"), day("2027-03-31")).unwrap();
        let other = |start: u32, teacher: &str, room: &str| Booked {
            session: Session {
                date: day("2027-03-02"),
                start_minute: start,
                end_minute: start + 45,
            },
            teacher_id: teacher.into(),
            room: room.into(),
            course_name: "书法".into(),
        };
        let p = check(
            &policy,
            &calendar,
            plan(Category::Arts, TeachingMode::Offline, &s, "t1", "A101"),
            &[
                other(18 * 60 + 25, "t1", "B2"),
                other(19 * 60 + 35, "t9", "A101"),
                other(19 * 60 + 45, "t1", "A101"),
            ],
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].message_zh(), "授课教师2027-03-02与课程“书法”时间冲突");
        assert_eq!(p[1].message_zh(), "教室“A101”2027-03-02已被课程“书法”占用");
    }

    #[test]
    fn online_lessons_on_one_day_keep_their_breaks_and_subjects_keep_out_of_vacations() {
        let mut policy = RegionPolicy::default();
        policy.vacations = vec![crate::policy::Vacation {
            name: "寒假".into(),
            from: day("2027-01-16"),
            to: day("2027-02-21"),
        }];
        let calendar = WorkingDayCalendar::china();
        // Two online lessons each Wednesday: 19:00 and 19:35 leave a 5-minute break; 19:40 leaves 10.
        let close = Weekly {
            weekdays: vec![3],
            start_minutes: vec![19 * 60 + 35, 19 * 60],
        };
        let s = expand(&close, 30, 4, day("2027-03-01"), day("2027-03-31")).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(
            (s[0].date, s[0].start_minute, s[1].date),
            (day("2027-03-03"), 1140, day("2027-03-03"))
        );
        let p = check(
            &policy,
            &calendar,
            plan(Category::Arts, TeachingMode::Online, &s, "t1", ""),
            &[],
        );
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].message_zh(),
            "线上课程课间休息不少于10分钟，2027-03-03的两节课间隔5分钟"
        );
        let apart = Weekly {
            weekdays: vec![3],
            start_minutes: vec![19 * 60, 19 * 60 + 40],
        };
        let s = expand(&apart, 30, 4, day("2027-03-01"), day("2027-03-31")).unwrap();
        assert!(
            check(
                &policy,
                &calendar,
                plan(Category::Arts, TeachingMode::Online, &s, "t1", ""),
                &[]
            )
            .is_empty()
        );

        // A Wednesday in the winter vacation: a working day, but no subject training.
        let winter = Weekly {
            weekdays: vec![3],
            start_minutes: vec![16 * 60],
        };
        let s = expand(&winter, 45, 1, day("2027-01-18"), day("2027-01-31")).unwrap();
        let p = check(
            &policy,
            &calendar,
            plan(Category::Subject, TeachingMode::Offline, &s, "t1", "A1"),
            &[],
        );
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].message_zh(),
            "学科类培训不得在寒暑假开展：2027-01-20（寒假）"
        );
        assert!(
            check(
                &policy,
                &calendar,
                plan(Category::Arts, TeachingMode::Offline, &s, "t1", "A1"),
                &[]
            )
            .is_empty()
        );
    }
}
