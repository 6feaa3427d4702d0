-- 课程咨询 a parent's questions to an institution about a course, answered by its customer service; how long the
-- first answer took is what regulators see.
CREATE TABLE consultations (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    topic TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    first_answer_at BIGINT
);
CREATE INDEX consultations_by_institution ON consultations (institution_id, created_at);
CREATE INDEX consultations_by_parent ON consultations (parent_id, created_at);

CREATE TABLE consultation_messages (
    id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    from_institution BIGINT NOT NULL CHECK (from_institution IN (0, 1)),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX consultation_messages_by_thread ON consultation_messages (consultation_id, created_at);
