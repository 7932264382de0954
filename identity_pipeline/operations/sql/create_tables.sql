-- Failed runs, recorded by run_failure_recorder: which job, which step, why (first line only).
CREATE TABLE IF NOT EXISTS run_failures (
    run_id    VARCHAR PRIMARY KEY,
    job_name  VARCHAR NOT NULL,
    step_keys VARCHAR,           -- steps that failed, comma-separated
    message   VARCHAR NOT NULL,  -- e.g. "UID2 batch 7/20 (5000 identities): gave up after ..."
    failed_at TIMESTAMP NOT NULL
);
