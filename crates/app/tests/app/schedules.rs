use super::*;
use app::courses::{NewCourse, NewSchedule};

async fn teacher(t: &TestApp, admin: &Actor, institution_id: &str, cert: Option<&str>) -> String {
    let check = t
        .app
        .registry()
        .upload_document(
            admin,
            "record_check",
            "check.pdf",
            b"%PDF-1.4\n%record check\n",
        )
        .await
        .unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = t.app.store().begin_write().await.unwrap();
    tx.staff()
        .insert_staff_member(&store::StaffMemberRow {
            id: id.clone(),
            institution_id: institution_id.into(),
            name_sealed: "sealed".into(),
            id_card_sealed: "sealed".into(),
            id_card_index: id.clone(),
            role: "teaching".into(),
            subject_teacher: i64::from(cert.is_some()),
            teacher_cert_no: cert.map(str::to_owned),
            record_check_document: check.id,
            record_check_confirmed_by: None,
            record_check_confirmed_at: None,
            hired_at: 0,
            left_at: None,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

fn course(category: &str, weekdays: Vec<u32>, start: &str, teacher: &str, room: &str) -> NewCourse {
    NewCourse {
        name: format!("{category} {start}"),
        category: category.into(),
        mode: "offline".into(),
        grades: "三年级".into(),
        lessons: 4,
        minutes_per_lesson: 45,
        class_size: 12,
        price_per_lesson_fen: 5_000,
        first_lesson: "2027-03-01".into(),
        last_lesson: "2027-03-31".into(),
        preferential_total_fen: None,
        schedule: Some(NewSchedule {
            weekdays,
            times: vec![start.into()],
            teacher_id: teacher.into(),
            room: room.into(),
        }),
    }
}

/// The refusal names the rule with its numbers.
fn says(e: &app::AppError, text: &str) {
    assert_eq!(e.code, ErrorCode::PolicyViolation);
    assert!(e.detail.zh.contains(text), "{}", e.detail);
}

#[tokio::test]
async fn a_schedule_keeps_the_time_rules_and_never_puts_a_teacher_or_room_in_two_places() {
    let t = TestApp::with_demo(6).await;
    let staff = super::money_flow::demo_staff(&t).await;
    let institution_id = staff.institution_id.clone().unwrap();
    let operator = Actor::Staff {
        account_id: staff.id,
        institution_id: institution_id.clone(),
        role: domain::access::StaffRole::Admin,
    };
    let plain = teacher(&t, &operator, &institution_id, None).await;
    let qualified = teacher(&t, &operator, &institution_id, Some("20211100142000123")).await;
    let refused = |c: NewCourse| {
        let (app, operator) = (&t.app, &operator);
        async move {
            app.registry()
                .publish_course(operator, &c)
                .await
                .unwrap_err()
        }
    };

    let first = course("arts", vec![2, 4], "19:00", &plain, "A101");
    t.app
        .registry()
        .publish_course(&operator, &first)
        .await
        .unwrap();
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM course_sessions")
        .fetch_one(t.app.store().pool_for_tests())
        .await
        .unwrap();
    assert_eq!(sessions, 4, "one session per lesson");

    let e = refused(course("arts", vec![4], "19:30", &plain, "B2")).await;
    assert_eq!(e.code, ErrorCode::PolicyViolation);
    says(&e, "授课教师2027-03-04与课程“arts 19:00”时间冲突");
    let e = refused(course("sports", vec![2], "18:30", &qualified, "A101")).await;
    says(&e, "教室“A101”2027-03-02已被课程“arts 19:00”占用");
    let e = refused(course("arts", vec![1], "20:00", &qualified, "C3")).await;
    says(&e, "课程须在20:30前结束，2027-03-01的课程20:45结束");
    let e = refused(course("subject", vec![6], "09:00", &plain, "C3")).await;
    assert_eq!(e.code, ErrorCode::TeacherQualificationRequired);
    let e = refused(course("subject", vec![6], "09:00", &qualified, "C3")).await;
    says(&e, "学科类培训不得在周末、法定节假日开展：2027-03-06");
    // Back to back with the first course, in its room, is fine.
    t.app
        .registry()
        .publish_course(
            &operator,
            &course("arts", vec![2], "19:45", &qualified, "A101"),
        )
        .await
        .unwrap();
}
