-- 合规码牌 compliance plates. A plate's token is signed by the platform; its status here is what a scan
-- shows now: active, superseded (a newer plate after a change) or revoked (removal). One active plate per
-- institution at most.
CREATE TABLE plates (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    serial BIGINT NOT NULL CHECK (serial > 0),
    token TEXT NOT NULL UNIQUE,
    issued_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    status_reason TEXT,
    status_changed_at BIGINT,
    PRIMARY KEY (institution_id, serial)
);
CREATE UNIQUE INDEX plates_one_active ON plates (institution_id) WHERE status = 'active';

-- Where an institution stands in the registry: applying (signed up, not yet approved: not public), listed,
-- or removed (撤除).
ALTER TABLE institutions ADD COLUMN registry_state TEXT NOT NULL DEFAULT 'listed'
    CHECK (registry_state IN ('applying', 'listed', 'removed'));
