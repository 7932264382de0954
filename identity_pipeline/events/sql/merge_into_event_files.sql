-- Record one file version in event_files (status 'loaded' or 'failed'); a failed version keeps
-- the counts of the last loaded one.
INSERT INTO event_files (file_path, checksum, size_bytes, status, error, loaded_checksum,
                         row_count, rejected_rows, seen_at, stored_rows, duplicate_rows,
                         forgotten_rows)
VALUES ($file_path, $checksum, $size_bytes, $status, $error,
        CASE WHEN $status = 'loaded' THEN $checksum END, $row_count, $rejected_rows,
        CAST($seen_at AS TIMESTAMP), $stored_rows, $duplicate_rows, $forgotten_rows)
ON CONFLICT (file_path) DO UPDATE SET
    checksum = excluded.checksum, size_bytes = excluded.size_bytes, status = excluded.status,
    error = excluded.error, seen_at = excluded.seen_at,
    loaded_checksum = coalesce(excluded.loaded_checksum, event_files.loaded_checksum),
    row_count = coalesce(excluded.row_count, event_files.row_count),
    rejected_rows = coalesce(excluded.rejected_rows, event_files.rejected_rows),
    stored_rows = coalesce(excluded.stored_rows, event_files.stored_rows),
    duplicate_rows = coalesce(excluded.duplicate_rows, event_files.duplicate_rows),
    forgotten_rows = coalesce(excluded.forgotten_rows, event_files.forgotten_rows);
