-- A course's teaching span (first and last lesson, YYYY-MM-DD), checked against the region's months cap.
-- Courses recorded before have none.
ALTER TABLE courses ADD COLUMN first_lesson TEXT;
ALTER TABLE courses ADD COLUMN last_lesson TEXT;
