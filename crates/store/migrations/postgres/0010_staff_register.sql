-- 从业人员黑名单 people barred from working in off-campus training (11 red-line behaviours), kept by
-- regulators. Only a keyed blind index of the ID-card number (for the hiring check) and the sealed name.
CREATE TABLE practitioner_blacklist (
    id TEXT PRIMARY KEY,
    id_card_index TEXT NOT NULL UNIQUE,
    name_sealed TEXT NOT NULL,
    reason TEXT NOT NULL,
    region_code TEXT NOT NULL,
    listed_by TEXT NOT NULL,
    listed_at BIGINT NOT NULL
);

-- 从业人员 an institution's staff register. Hiring checks the black list and refuses serving school teachers;
-- the pre-hire record check (性侵违法犯罪信息查询) is a filed document that a regulator confirms.
CREATE TABLE staff_members (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    name_sealed TEXT NOT NULL,
    id_card_sealed TEXT NOT NULL,
    id_card_index TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('teaching', 'research', 'other')),
    subject_teacher BIGINT NOT NULL CHECK (subject_teacher IN (0, 1)),
    teacher_cert_no TEXT,
    record_check_document TEXT NOT NULL REFERENCES documents (id),
    record_check_confirmed_by TEXT,
    record_check_confirmed_at BIGINT,
    hired_at BIGINT NOT NULL,
    UNIQUE (institution_id, id_card_index)
);
CREATE INDEX staff_members_by_person ON staff_members (id_card_index);
