-- An integrator's contact (a person's name and phone) is personal data: sealed like every other, under the field
-- `integrator.contact`. Values stored in the clear before this are sealed when the application opens.
ALTER TABLE integrators RENAME COLUMN contact TO contact_sealed;
