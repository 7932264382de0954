-- The due rule every mapping service shares, for a dii row d LEFT JOINed to its mapping row m:
-- 'never_mapped' when there is no row; 'seen_again' when the service refused the identity
-- (`failed`) and newer source data has carried it since it was sent (last_seen_at after the
-- source_seen_at it was sent with, else after mapped_at); NULL otherwise, where the service's own
-- refresh rule decides. Opted-out identities are never due: each due list joins opted_out.
CREATE OR REPLACE TEMP MACRO mapping_due_reason(mapped_dii_id, failed, last_seen_at,
                                                 source_seen_at, mapped_at) AS
    CASE
        WHEN mapped_dii_id IS NULL THEN 'never_mapped'
        WHEN failed AND last_seen_at > coalesce(source_seen_at, mapped_at) THEN 'seen_again'
    END;
