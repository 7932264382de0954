-- Every person this stitch run re-stitched, under its old and its new UUID.
INSERT INTO identity_person_changes (stitch_run, person_id)
SELECT $stitch_run, person_id FROM ig_old_persons
UNION
SELECT $stitch_run, person_id FROM ig_new_persons;
