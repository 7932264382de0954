"""Attribution through the person gives the same rows on Spark as on DuckDB.

The engine tests' generated world (identity_pipeline_tests/engine/generated.py) with an
identity graph on top, built by the real stitcher: its identities get hashes of made-up
emails, events join pairs of them into persons (one pair with an opted-out email), some events
are purchases, and some conversions name their person by an ad id only. DuckDB attributes it
(what the assets run); Spark, in local mode in a child process, runs the same SELECTs from a
published snapshot; the lookup and both outputs must match row for row, with the same types.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from identity_pipeline.dev.spark_processes import ensure_java, free_port
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.warehouse import connect, execute_script
from identity_pipeline_tests.engine.generated import generate_world
from identity_pipeline_tests.engine.test_engine_equivalence import (
    WINDOW,
    assert_same_outputs,
    attribute_on_duckdb,
    publish,
    run_on_spark,
)

pytestmark = pytest.mark.integration

PERSONS_SQL = """
-- Every identity's hash becomes the UID2 hash of p<dii_id>@example.test, everywhere it is held.
CREATE TEMP TABLE rehash AS
SELECT dii_id, uid2_hash AS old_hash,
       to_base64(unhex(sha256('p' || dii_id || '@example.test'))) AS new_hash
FROM dii;
UPDATE dii SET uid2_hash = r.new_hash FROM rehash AS r WHERE dii.dii_id = r.dii_id;
UPDATE uid2_mapping SET uid2_hash = r.new_hash FROM rehash AS r
WHERE uid2_mapping.dii_id = r.dii_id;
UPDATE optouts SET uid2_hash = r.new_hash FROM rehash AS r WHERE optouts.uid2_hash = r.old_hash;
UPDATE conversions SET uid2_hash = r.new_hash FROM rehash AS r
WHERE conversions.uid2_hash = r.old_hash;
-- Conversions that named nobody now name their person by an ad id: the current UID2, else an ID5.
UPDATE conversions SET id_type = CASE WHEN x.current_uid IS NOT NULL THEN 'uid2' ELSE 'id5' END,
       id = coalesce(x.current_uid, x.id5_uid)
FROM (
    SELECT c.conversion_id, m.current_uid, i.id5_uid
    FROM conversions AS c
    JOIN uid2_mapping AS m ON m.dii_id = CAST(hash(c.conversion_id) % 600 + 1 AS BIGINT)
    LEFT JOIN id5_mapping AS i ON i.dii_id = m.dii_id
    WHERE c.customer_id IS NULL AND c.uid2_hash IS NULL
) AS x
WHERE conversions.conversion_id = x.conversion_id
  AND coalesce(x.current_uid, x.id5_uid) IS NOT NULL;

-- Events: identities 3k+1 and 3k+2 share a device (one person of two emails); every fourth
-- pair also buys on that device, logged out, once a day on two of the window's days.
CREATE TABLE raw_test_events AS
SELECT 'e' || dii_id AS event_id, TIMESTAMP '2025-04-20' + INTERVAL 1 MINUTE * dii_id AS created_at,
       'web' AS platform, 'dev-' || (dii_id - 1) // 3 AS anonymous_id,
       'p' || dii_id || '@example.test' AS email, CAST(NULL AS VARCHAR) AS phone,
       CAST(NULL AS VARCHAR) AS fbclid, CAST(NULL AS VARCHAR) AS gclid,
       CAST(NULL AS VARCHAR) AS gaclid
FROM dii WHERE dii_id % 3 <> 0;
INSERT INTO identity_events (event_id, created_at, day, platform, action, properties, value,
    currency, anonymous_id, email_hash, phone_hash, fbclid, gclid, source_file, ingest_seq)
SELECT 'buy-' || k || '-' || d, ts, CAST(ts AS DATE), 'web', 'purchase', '{}',
       CASE WHEN k % 5 = 0 THEN NULL ELSE 10 + k END,
       CASE WHEN k % 5 = 0 THEN NULL WHEN k % 7 = 0 THEN 'EUR' ELSE 'USD' END,
       'dev-' || k, NULL, NULL, NULL, NULL, 'events.jsonl', 1
FROM (
    SELECT k, d, TIMESTAMP '2025-05-02 12:15:00' + INTERVAL 1 DAY * d * 3
               + INTERVAL 1 MINUTE * k AS ts
    FROM range(0, 200, 4) AS a(k), range(0, 2) AS b(d)
);
DROP TABLE rehash;
"""


def add_persons(db: Path) -> None:
    with connect(db) as con:
        execute_script(con, PERSONS_SQL)
        stitch_events(con, "raw_test_events")
        con.execute("DROP TABLE raw_test_events")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("person-world")
    db = root / "identity.duckdb"
    generate_world(db)
    add_persons(db)
    attribute_on_duckdb(db, WINDOW)
    return root


def test_the_person_path_is_exercised(world: Path) -> None:
    """The world holds what the Spark comparison must cover: credit through persons, from
    purchase events and ad-id conversions, and a person left out for an opt-out."""
    with duckdb.connect(str(world / "identity.duckdb"), read_only=True) as con:
        figures = con.execute(
            """
            SELECT
                (SELECT count(DISTINCT person_id) FROM identity_graph),
                (SELECT count(*) FROM attributed_conversions WHERE credited_through = 'person'),
                (SELECT count(DISTINCT conversion_id) FROM attributed_conversions
                 WHERE conversion_id LIKE 'buy-%'),
                (SELECT count(DISTINCT a.conversion_id) FROM attributed_conversions AS a
                 JOIN conversions AS c USING (day, conversion_id) WHERE c.id IS NOT NULL),
                (SELECT count(DISTINCT g.person_id) FROM opted_out AS o
                 JOIN identity_graph AS g ON g.id_value = o.uid2_hash)
            """
        ).fetchone()
    assert figures is not None
    persons, through_person, purchases, by_ad_id, opted_out_persons = figures
    print(f"persons path: {figures}")
    assert persons == 200  # 400 identities in pairs
    assert through_person > 50
    assert purchases > 10
    assert by_ad_id > 5
    assert opted_out_persons > 0


def test_spark_local_gives_duckdbs_rows_through_persons(world: Path, tmp_path: Path) -> None:
    java = ensure_java()
    lake = tmp_path / "lake"
    snapshot = publish(world / "identity.duckdb", lake, WINDOW)
    conf = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": "1g",
        "spark.ui.port": str(free_port()),
        "spark.sql.shuffle.partitions": "4",
    }
    report = run_on_spark(
        java,
        {
            "SPARK_MASTER": "local[2]",
            "IDENTITY_PIPELINE_LAKE": str(lake),
            "IDENTITY_PIPELINE_SPARK_CONF": ",".join(f"{k}={v}" for k, v in conf.items()),
        },
        snapshot,
        WINDOW,
        tmp_path / "out",
    )
    assert_same_outputs(world / "identity.duckdb", lake, tmp_path / "out", report)
