-- 分级服务保障 the service desk: banks, integrators and institutions open tickets; technical ones go to the
-- platform's service team, policy questions to the regulators of the asker's region. Tickets keep their
-- deadlines and times so the desk's figures per tier can be computed; messages are appended, never changed.
CREATE TABLE service_tickets (
    id TEXT PRIMARY KEY,
    ticket_no TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('technical', 'policy')),
    tier TEXT NOT NULL CHECK (tier IN ('urgent', 'high', 'normal')),
    subject TEXT NOT NULL,
    -- Who opened it (an audit name) and what they are: an institution, a bank or an integrator, by id.
    opener TEXT NOT NULL,
    opener_kind TEXT NOT NULL CHECK (opener_kind IN ('institution', 'bank', 'integrator')),
    opener_id TEXT NOT NULL,
    opener_label TEXT NOT NULL,
    -- The region whose answerers see it: national for technical tickets.
    region_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'resolved')),
    assignee TEXT REFERENCES accounts (id),
    opened_at BIGINT NOT NULL,
    respond_by BIGINT NOT NULL,
    resolve_by BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at BIGINT
);
CREATE INDEX service_tickets_by_opener ON service_tickets (opener_kind, opener_id, opened_at);
CREATE INDEX service_tickets_by_region ON service_tickets (kind, region_code, opened_at);

CREATE TABLE service_ticket_messages (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES service_tickets (id),
    author TEXT NOT NULL,
    author_label TEXT NOT NULL,
    -- 1 when the service team or a regulator wrote it.
    from_desk BIGINT NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX service_ticket_messages_of ON service_ticket_messages (ticket_id, at);
