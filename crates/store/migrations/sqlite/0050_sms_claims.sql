-- A text message being sent is claimed by one server until `claimed_until` (unix ms), so two servers on one
-- database never send it twice; a server that dies mid-send leaves the claim to lapse.
ALTER TABLE sms_outbox ADD COLUMN claimed_until BIGINT;
