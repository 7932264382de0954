-- A request file's unusable values, rows naming nobody and rows the reader could not parse,
-- replacing what an earlier version of the file left. Values only as salted fingerprints.
DELETE FROM forget_request_rejects WHERE source_file = $source_file;

INSERT INTO forget_request_rejects
SELECT $source_file, r.request_no, r.field, r.error, sha256($salt || coalesce(v.value, '')), $now
FROM fg_requested_all AS r
JOIN fg_request_values AS v
  ON v.request_no = r.request_no AND v.field = r.field AND v.ordinal = r.ordinal
WHERE r.error IS NOT NULL
UNION ALL
SELECT $source_file, f.row_number, 'row', 'no_identifier', NULL, $now
FROM fg_file AS f
WHERE f.row_number NOT IN (SELECT request_no FROM fg_request_values)
UNION ALL
SELECT $source_file, row_number, coalesce(field, 'row'), reason,
    sha256($salt || coalesce(line_text, '')), $now
FROM fg_file_rejects;
