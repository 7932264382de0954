WITH seen AS (
  SELECT DISTINCT
    id
  FROM impressions
  WHERE
    day >= CAST(:impressions_from AS DATE) AND day < CAST(:impressions_to AS DATE)
), candidates AS (
  SELECT
    'uid2' AS id_type,
    current_uid AS id,
    dii_id,
    1 AS preference,
    'uid2_current' AS matched_via
  FROM uid2_mapping
  WHERE
    status = 'mapped' AND NOT current_uid IS NULL
  UNION ALL
  SELECT
    'uid2',
    previous_uid,
    dii_id,
    2,
    'uid2_previous'
  FROM uid2_mapping
  WHERE
    status = 'mapped' AND NOT previous_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    id5_uid,
    dii_id,
    1,
    'id5_current'
  FROM id5_mapping
  WHERE
    status = 'mapped' AND NOT id5_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    previous_id5_uid,
    dii_id,
    2,
    'id5_previous'
  FROM id5_mapping
  WHERE
    NOT previous_id5_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    id5_uid,
    dii_id,
    3,
    'id5_history'
  FROM id5_uid_history
  WHERE
    NOT id5_uid IS NULL
), eligible AS (
  SELECT
    c.id_type,
    c.id,
    c.dii_id,
    c.preference,
    c.matched_via
  FROM candidates AS c
  JOIN seen AS s
    ON s.id = c.id
  LEFT JOIN opted_out AS o
    ON o.dii_id = c.dii_id
  WHERE
    o.dii_id IS NULL
), ranked AS (
  SELECT
    id_type,
    id,
    dii_id,
    matched_via,
    CAST(ROW_NUMBER() OVER (PARTITION BY id_type, id ORDER BY preference NULLS LAST, dii_id NULLS LAST) AS BIGINT) AS choice
  FROM eligible
)
SELECT
  id_type,
  id,
  dii_id,
  matched_via
FROM ranked
WHERE
  choice = 1
