-- 课表 a course's sessions: one per lesson, each with its teacher (a registered staff member) and room. The
-- institution's sessions on a day are read to refuse a teacher or a room in two places at once.
CREATE TABLE course_sessions (
    id TEXT PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES courses (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    lesson_no BIGINT NOT NULL CHECK (lesson_no > 0),
    session_date TEXT NOT NULL,
    start_minute BIGINT NOT NULL CHECK (start_minute >= 0 AND start_minute < 1440),
    end_minute BIGINT NOT NULL CHECK (end_minute > start_minute),
    teacher_id TEXT NOT NULL REFERENCES staff_members (id),
    room TEXT NOT NULL,
    UNIQUE (course_id, lesson_no)
);
CREATE INDEX course_sessions_by_day ON course_sessions (institution_id, session_date);
