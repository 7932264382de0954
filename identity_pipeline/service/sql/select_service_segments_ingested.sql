-- The identity service's landing files (events/service-<log_id>-<n>.jsonl) whose events the
-- published graph holds: loaded, and none of their events newer (ingest_seq) than the newest
-- event person_journal holds, so a file ingested after the graph was last built does not
-- count yet. A loaded file left without rows (every event a duplicate or forgotten) counts.
WITH stitched AS (
    SELECT max(r.ingest_seq) AS seq
    FROM person_journal AS j
    JOIN raw_events AS r ON r.event_id = j.event_id
),
service_rows AS (
    SELECT regexp_extract(source_file, '(^|/)service-[0-9a-f]+-[0-9]+\.jsonl$', 0) AS name,
        max(ingest_seq) AS seq
    FROM raw_events
    WHERE regexp_matches(source_file, '(^|/)service-[0-9a-f]+-[0-9]+\.jsonl$')
    GROUP BY name
),
service_files AS (
    SELECT regexp_extract(file_path, '(^|/)service-[0-9a-f]+-[0-9]+\.jsonl$', 0) AS name
    FROM event_files
    WHERE status = 'loaded'
      AND regexp_matches(file_path, '(^|/)service-[0-9a-f]+-[0-9]+\.jsonl$')
)
SELECT DISTINCT
    regexp_extract(f.name, 'service-([0-9a-f]+)-([0-9]+)\.jsonl$', 1) AS log_id,
    CAST(regexp_extract(f.name, 'service-([0-9a-f]+)-([0-9]+)\.jsonl$', 2) AS BIGINT) AS segment
FROM service_files AS f
LEFT JOIN service_rows AS r ON r.name = f.name
WHERE r.seq IS NULL OR r.seq <= (SELECT seq FROM stitched)
