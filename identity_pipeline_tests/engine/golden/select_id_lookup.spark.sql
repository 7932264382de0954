WITH seen AS (
  SELECT
    id
  FROM impressions
  WHERE
    day >= CAST(:impressions_from AS DATE) AND day < CAST(:impressions_to AS DATE)
  UNION ALL
  SELECT
    id
  FROM conversions
  WHERE
    day >= CAST(:impressions_from AS DATE)
    AND day < CAST(:impressions_to AS DATE)
    AND NOT id IS NULL
), opted_out_reach AS (
  SELECT
    o.dii_id,
    pd.dii_id AS person_dii_id
  FROM opted_out AS o
  LEFT JOIN identity_graph AS g
    ON g.id_value = o.uid2_hash AND g.id_type IN ('email', 'phone')
  LEFT JOIN person_dii AS pd
    ON pd.person_id = g.person_id
), opted_out_identities AS (
  SELECT
    dii_id
  FROM opted_out_reach
  WHERE
    NOT dii_id IS NULL
  UNION
  SELECT
    person_dii_id
  FROM opted_out_reach
  WHERE
    NOT person_dii_id IS NULL
), candidates AS (
  SELECT
    'uid2' AS id_type,
    current_uid AS id,
    dii_id,
    1 AS preference
  FROM uid2_mapping
  WHERE
    status = 'mapped' AND NOT current_uid IS NULL
  UNION ALL
  SELECT
    'uid2',
    previous_uid,
    dii_id,
    2
  FROM uid2_mapping
  WHERE
    status = 'mapped' AND NOT previous_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    id5_uid,
    dii_id,
    1
  FROM id5_mapping
  WHERE
    status = 'mapped' AND NOT id5_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    previous_id5_uid,
    dii_id,
    2
  FROM id5_mapping
  WHERE
    NOT previous_id5_uid IS NULL
  UNION ALL
  SELECT
    'id5',
    id5_uid,
    dii_id,
    3
  FROM id5_uid_history
  WHERE
    NOT id5_uid IS NULL
), seen_candidates AS (
  SELECT
    c.id_type,
    c.id,
    c.dii_id,
    c.preference
  FROM candidates AS c
  WHERE
    c.id IN (
      SELECT
        id
      FROM seen
    )
), claims AS (
  SELECT
    id_type,
    id,
    MIN(CASE WHEN preference = 1 THEN dii_id END) AS current_dii_id,
    MIN(CASE WHEN preference = 2 THEN dii_id END) AS previous_dii_id,
    MIN(CASE WHEN preference = 3 THEN dii_id END) AS history_dii_id
  FROM seen_candidates
  WHERE
    NOT dii_id IN (
      SELECT
        dii_id
      FROM opted_out_identities
    )
  GROUP BY
    id_type,
    id
)
SELECT
  id_type,
  id,
  COALESCE(current_dii_id, previous_dii_id, history_dii_id) AS dii_id,
  CASE
    WHEN NOT current_dii_id IS NULL
    THEN id_type || '_current'
    WHEN NOT previous_dii_id IS NULL
    THEN id_type || '_previous'
    ELSE id_type || '_history'
  END AS matched_via
FROM claims
