-- Retired persons, and persons about to be written again.
DELETE FROM identity_persons
WHERE (person_id IN (SELECT person_id FROM ig_old_persons)
       AND person_id NOT IN (SELECT person_id FROM ig_new_persons))
   OR person_id IN (SELECT person_id FROM ig_persons_added);
