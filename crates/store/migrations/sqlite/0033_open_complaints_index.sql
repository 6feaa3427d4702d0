-- The dashboard counts the complaints not yet closed, with their deadlines, for any region: read them by status.
CREATE INDEX complaints_open ON complaints (status, institution_id);
