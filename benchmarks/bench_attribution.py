"""Attribution at scale: our equality-join SQL against the reference sample's OR-join.

    .venv/bin/python benchmarks/bench_attribution.py              # 1M case, then 10M ours alone
    .venv/bin/python benchmarks/bench_attribution.py --skip-large # 1M case only
    .venv/bin/python benchmarks/bench_attribution.py --scale 0.001 # smoke run (the test suite's)

Case 1: 1M mapping rows (dii, uid2_mapping, id5), 1M impressions, 100k conversions over 30
days, through our attribution (id lookup + attributed_conversions + campaign_attribution for
the whole range, as a single-run backfill does) and through the OR-join formulation of the
UID2 integration sample (`JOIN uid_mapping um ON (imp.uid = um.current_uid OR imp.uid =
um.previous_uid)`) with a 120 s timeout. The OR-join variant does strictly less work than ours
(UID2 only, no ID5, no opt-outs, no credit), so the ratio favours it.
Case 1 also runs the UID2 sample itself: its SQLite schema and indexes (stdlib sqlite3) filled
from the same generated tables, and its attribution query as shipped (`SELECT * ... JOIN
uid_mapping um ON (imp.uid = um.current_uid OR imp.uid = um.previous_uid) WHERE um.opt_out =
FALSE`), whole result fetched; the benchmark exits 1 unless its (impression, identity) pairs
are exactly ours on the same scope (UID2 ids of identities not opted out).
    .venv/bin/python benchmarks/bench_attribution.py --skip-large --skip-duckdb-or-join
runs only ours and the SQLite sample at 1M (the DuckDB OR-join alone takes its 120 s timeout).
Case 2: 10M mapping rows, 10M impressions, 1M conversions through ours alone.

Every measurement runs in a fresh child process over a DuckDB file, so each peak RSS is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

FIRST_DAY = date(2025, 5, 1)
DAYS = 30
OR_TIMEOUT_S = 120.0
RUN_KEY = "bench-run"

BUILD_SQL = """
SET threads = 2;
SET preserve_insertion_order = false;
DELETE FROM dii; DELETE FROM customer_dii; DELETE FROM uid2_mapping; DELETE FROM id5_mapping;
DELETE FROM id5_uid_history; DELETE FROM optouts; DELETE FROM impressions;
DELETE FROM conversions;
-- People: one email identity each; 10% rotated UID2 (a previous id), 60% with ID5 (half of
-- those rotated once), 1% opted out at the operator, 0.5% on a suppression list.
CREATE TEMP TABLE people AS
SELECT i AS dii_id, hash(i, 'people') AS h,
       to_base64(unhex(md5('hash' || i) || md5('hash2' || i))) AS uid2_hash,
       to_base64(unhex('03' || md5('cur' || i) || md5('cur2' || i))) AS current_uid,
       to_base64(unhex('03' || md5('prev' || i) || md5('prev2' || i))) AS previous_uid,
       'ID5*' || md5('id5' || i) || md5('id5b' || i) AS id5_uid,
       'ID5*' || md5('id5old' || i) || md5('id5oldb' || i) AS old_id5_uid
FROM range(CAST($people AS BIGINT)) AS t(i);
INSERT INTO dii (dii_id, dii_type, uid2_hash, id5_hash, first_seen_at, last_seen_at,
                 source_count)
SELECT dii_id, 'email', uid2_hash, md5(uid2_hash) || md5(uid2_hash || 'x'),
    TIMESTAMP '2025-01-01', TIMESTAMP '2025-01-01', 1 FROM people;
INSERT INTO customer_dii (customer_id, dii_id, first_seen_at, last_seen_at)
SELECT 'C' || dii_id, dii_id, TIMESTAMP '2025-01-01',
    TIMESTAMP '2025-01-01' FROM people;
INSERT INTO uid2_mapping (dii_id, uid2_hash, dii_type, current_uid, previous_uid,
                          refresh_from, status, reason, bucket_id, mapped_at, attempts)
SELECT dii_id, uid2_hash, 'email',
    CASE WHEN h % 100 = 0 THEN NULL ELSE current_uid END,
    CASE WHEN h % 100 <> 0 AND h % 10 = 1 THEN previous_uid END,
    TIMESTAMP '2025-09-01', CASE WHEN h % 100 = 0 THEN 'optout' ELSE 'mapped' END,
    NULL, 'b', TIMESTAMP '2025-06-01', 1 FROM people;
INSERT INTO id5_mapping (dii_id, id5_hash, id5_uid, previous_id5_uid, country_alpha2, status,
                         error_code, mapped_at)
SELECT dii_id, 'x', id5_uid,
    CASE WHEN (h >> 8) % 10 < 3 THEN old_id5_uid END, 'US', 'mapped', NULL,
    TIMESTAMP '2025-06-01' FROM people WHERE (h >> 8) % 10 < 6;
INSERT INTO id5_uid_history (dii_id, id5_uid, first_seen_at, last_seen_at)
SELECT dii_id, id5_uid, TIMESTAMP '2025-04-01',
    TIMESTAMP '2025-06-01' FROM people WHERE (h >> 8) % 10 < 6;
INSERT INTO id5_uid_history (dii_id, id5_uid, first_seen_at, last_seen_at)
SELECT dii_id, old_id5_uid, TIMESTAMP '2025-03-01',
    TIMESTAMP '2025-04-01' FROM people WHERE (h >> 8) % 10 < 3;
INSERT INTO optouts (uid2_hash, dii_type, source, source_file, opted_out_at)
SELECT uid2_hash, 'email', 'suppression', 'bench', TIMESTAMP '2025-05-01'
    FROM people WHERE (h >> 16) % 200 = 0;
-- Impressions: 80% reach a known person (via current UID2, previous UID2 or an ID5 id),
-- 20% strangers.
INSERT INTO impressions (day, impression_id, ts, campaign_id, id_type, id, cost, source_file)
WITH r AS (
    SELECT i, hash(i, 'imp') AS h FROM range(CAST($impressions AS BIGINT)) AS t(i)
),
shaped AS (
    SELECT i, h, CAST(h % CAST($people AS UBIGINT) AS BIGINT) AS person,
           CAST($first_day AS DATE)
               + to_seconds(CAST((h >> 20) % (CAST($days AS BIGINT) * 86400) AS BIGINT)) AS ts,
           (h >> 50) % 100 AS pick
    FROM r
)
SELECT CAST(s.ts AS DATE), 'imp' || s.i, s.ts, 'cmp-' || (s.i % 40),
       CASE WHEN s.pick < 70 OR s.pick >= 80 THEN 'uid2' ELSE 'id5' END,
       CASE WHEN s.pick < 60 THEN p.current_uid
            WHEN s.pick < 70 THEN CASE WHEN p.h % 10 = 1 THEN p.previous_uid ELSE p.current_uid END
            WHEN s.pick < 75 THEN p.id5_uid
            WHEN s.pick < 80 THEN p.old_id5_uid
            ELSE to_base64(unhex('03' || md5('stranger' || s.i) || md5('s2' || s.i))) END,
       0.001, 'bench'
FROM shaped AS s JOIN people AS p ON p.dii_id = s.person;
-- Conversions by customer_id (75%) or by email uid2_hash.
INSERT INTO conversions (day, conversion_id, ts, customer_id, uid2_hash, value, currency,
                         source_file)
WITH r AS (
    SELECT i, hash(i, 'conv') AS h FROM range(CAST($conversions AS BIGINT)) AS t(i)
),
shaped AS (
    SELECT i, h, CAST(h % CAST($people AS UBIGINT) AS BIGINT) AS person,
           CAST($first_day AS DATE)
               + to_seconds(CAST((h >> 20) % (CAST($days AS BIGINT) * 86400) AS BIGINT)) AS ts
    FROM r
)
SELECT CAST(s.ts AS DATE), 'cv' || s.i, s.ts,
       CASE WHEN (s.h >> 50) % 4 <> 0 THEN 'C' || s.person END,
       CASE WHEN (s.h >> 50) % 4 = 0 THEN p.uid2_hash END,
       round(5 + CAST((s.h >> 40) % 10000 AS DOUBLE) / 100, 2), 'USD', 'bench'
FROM shaped AS s JOIN people AS p ON p.dii_id = s.person;
DROP TABLE people;
CHECKPOINT;
"""

# The reference sample's formulation: impressions joined to the UID2 mapping on
# "current OR previous", then to conversions of the same person within the window; its
# "opt_out = FALSE" becomes our two opt-out sources.
OR_JOIN_SQL = """
SELECT count(*), count(DISTINCT conv.conversion_id)
FROM impressions AS imp
JOIN uid2_mapping AS um ON (imp.id = um.current_uid OR imp.id = um.previous_uid)
JOIN customer_dii AS cd ON cd.dii_id = um.dii_id
JOIN conversions AS conv ON conv.customer_id = cd.customer_id
WHERE um.status = 'mapped' AND imp.id_type = 'uid2'
  AND um.dii_id NOT IN (SELECT d.dii_id FROM dii AS d JOIN optouts AS o USING (uid2_hash))
  AND imp.ts <= conv.ts AND imp.ts >= conv.ts - INTERVAL 30 DAY
"""

# The same pairs from our attributed_conversions, for a cross-check when the OR-join finishes.
OURS_COMPARABLE_SQL = """
SELECT count(*), count(DISTINCT a.conversion_id)
FROM attributed_conversions AS a JOIN conversions AS c USING (day, conversion_id)
WHERE a.id_type = 'uid2' AND c.customer_id IS NOT NULL
"""

# The UID2 sample as shipped (identity-map-integration-example, src/database.py and its
# README): its SQLite tables and indexes, and its attribution join, whole result fetched.
# Schema and query are the sample's; the rows are ours.
SAMPLE_SCHEMA_SQL = """
CREATE TABLE uid_mapping (
    uid_mapping_id INTEGER PRIMARY KEY AUTOINCREMENT,
    dii TEXT NOT NULL,
    dii_type TEXT NOT NULL CHECK (dii_type IN ('email', 'phone')),
    current_uid TEXT,
    previous_uid TEXT,
    refresh_from TIMESTAMP,
    opt_out BOOLEAN DEFAULT FALSE
);
CREATE TABLE impressions (
    impression_id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    campaign_id TEXT NOT NULL
);
CREATE TABLE conversions (
    conversion_id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    conversion_value REAL NOT NULL
);
"""
# Its indexes, created after the rows are in (faster to build; the same indexes).
SAMPLE_INDEXES_SQL = """
CREATE INDEX idx_mapping_query ON uid_mapping(opt_out, current_uid, refresh_from);
CREATE INDEX idx_uid_mapping_current_uid ON uid_mapping(current_uid);
CREATE INDEX idx_uid_mapping_previous_uid ON uid_mapping(previous_uid);
CREATE INDEX idx_impressions_uid ON impressions(uid);
CREATE INDEX idx_conversions_uid ON conversions(uid);
"""

SAMPLE_QUERY_SQL = """
SELECT * FROM impressions imp
JOIN uid_mapping um ON (imp.uid = um.current_uid OR imp.uid = um.previous_uid)
WHERE um.opt_out = FALSE;
"""

# The sample's tables filled from the generated DuckDB tables: one uid_mapping row per UID2
# mapping row (uid_mapping_id = dii_id; its opt_out is our opted_out view; the hash stands in
# for the raw email the sample keeps), every impression numbered by (day, impression_id), and
# the conversions that name a person by email, under that person's current UID2.
SAMPLE_MAPPING_FROM_OURS = """
SELECT m.dii_id, m.uid2_hash, m.dii_type, m.current_uid, m.previous_uid,
       strftime(m.refresh_from, '%Y-%m-%d %H:%M:%S'),
       EXISTS (SELECT 1 FROM opted_out AS o WHERE o.dii_id = m.dii_id)
FROM uid2_mapping AS m ORDER BY m.dii_id
"""
SAMPLE_IMPRESSIONS_FROM_OURS = """
SELECT row_number() OVER (ORDER BY day, impression_id), id,
       strftime(ts, '%Y-%m-%d %H:%M:%S'), campaign_id
FROM impressions ORDER BY day, impression_id
"""
SAMPLE_CONVERSIONS_FROM_OURS = """
SELECT row_number() OVER (ORDER BY c.day, c.conversion_id), m.current_uid,
       strftime(c.ts, '%Y-%m-%d %H:%M:%S'), c.value
FROM conversions AS c JOIN dii AS d ON d.uid2_hash = c.uid2_hash
JOIN uid2_mapping AS m ON m.dii_id = d.dii_id
WHERE m.current_uid IS NOT NULL ORDER BY c.day, c.conversion_id
"""

# What the sample's query finds, in our terms: (impression number, identity) for every
# impression whose id is a current or previous UID2 of an identity that is not opted out.
# Ours: our id lookup joined to impressions on equality, UID2 ids only.
OURS_SAMPLE_SCOPE_SQL = """
WITH numbered AS (
    SELECT row_number() OVER (ORDER BY day, impression_id) AS n, id_type, id FROM impressions
)
SELECT n.n, l.dii_id
FROM numbered AS n JOIN attr_id_lookup AS l ON l.id_type = n.id_type AND l.id = n.id
WHERE l.id_type = 'uid2'
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU of this process (all its threads): less noisy than wall time on a
    shared machine, though not what a user waits for."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def role_build(db: Path, people: int, impressions: int, conversions: int) -> dict[str, object]:
    from identity_pipeline.warehouse import connect, execute_script

    started = time.perf_counter()
    with connect(db) as con:
        execute_script(
            con,
            BUILD_SQL,
            {
                "people": people,
                "impressions": impressions,
                "conversions": conversions,
                "first_day": FIRST_DAY,
                "days": DAYS,
            },
        )
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("uid2_mapping", "id5_uid_history", "impressions", "conversions")
        }
    return {"seconds": time.perf_counter() - started, "counts": counts}


def role_ours(db: Path) -> dict[str, object]:
    from identity_pipeline.attribution.compute import (
        DayWindow,
        attribute_conversions,
        summarize_campaigns,
    )
    from identity_pipeline.warehouse import connect

    window = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS))
    with connect(db) as con:
        con.execute("SET threads = 2")
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        # as the assets of one run do: attributed_conversions keeps the campaign delivery it
        # computes from its id lookup for campaign_attribution (the run id is the key)
        stats = attribute_conversions(con, window, 30, keep_delivery_for=RUN_KEY)
        attributed_s = time.perf_counter() - started
        campaign_rows = summarize_campaigns(con, window, run_key=RUN_KEY)
        total_s = time.perf_counter() - started
        cpu_s = _cpu_seconds() - cpu_started
        comparable = con.execute(OURS_COMPARABLE_SQL).fetchall()[0]
    return {
        "seconds": total_s,
        "cpu_seconds": cpu_s,
        "attributed_seconds": attributed_s,
        "touches": stats.touches,
        "conversions": stats.conversions,
        "attributed_conversions": stats.attributed_conversions,
        "by_match": stats.touches_by_match,
        "campaign_rows": campaign_rows,
        "uid2_customer_pairs": list(comparable),
        "peak_rss_mb": _peak_rss_mb(),
    }


def role_orjoin(db: Path) -> dict[str, object]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET threads = 2")
    started = time.perf_counter()
    row = con.execute(OR_JOIN_SQL).fetchall()[0]
    return {
        "seconds": time.perf_counter() - started,
        "pairs": list(row),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _pairs_digest(pairs: list[tuple[int, int]]) -> dict[str, object]:
    """Count and SHA-256 of the sorted (impression number, identity) pairs."""
    digest = hashlib.sha256()
    for n, dii_id in sorted(pairs):
        digest.update(f"{n}:{dii_id}\n".encode())
    return {"pairs": len(pairs), "sha256": digest.hexdigest()}


def _sample_path(db: Path) -> Path:
    return db.with_name(db.stem + "_uid2_sample.sqlite")


def role_sample_build(db: Path) -> dict[str, object]:
    """The UID2 sample's SQLite database, filled from the generated DuckDB tables."""
    import duckdb

    path = _sample_path(db)
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    source = duckdb.connect(str(db), read_only=True)
    target = sqlite3.connect(path)
    target.executescript(SAMPLE_SCHEMA_SQL)
    fills = (
        ("uid_mapping", 7, SAMPLE_MAPPING_FROM_OURS),
        ("impressions", 4, SAMPLE_IMPRESSIONS_FROM_OURS),
        ("conversions", 4, SAMPLE_CONVERSIONS_FROM_OURS),
    )
    for table, width, select in fills:
        cursor = source.execute(select)
        marks = ", ".join("?" * width)
        while batch := cursor.fetchmany(100_000):
            target.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
    target.executescript(SAMPLE_INDEXES_SQL)
    target.commit()
    target.execute("ANALYZE")
    target.close()
    source.close()
    return {"seconds": time.perf_counter() - started}


def role_sample(db: Path) -> dict[str, object]:
    """The sample's attribution query on its SQLite database, whole result fetched."""
    con = sqlite3.connect(_sample_path(db))
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    rows = con.execute(SAMPLE_QUERY_SQL).fetchall()
    seconds, cpu_s = time.perf_counter() - started, _cpu_seconds() - cpu_started
    plan = [row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + SAMPLE_QUERY_SQL)]
    # imp.* then um.*: impression_id first, uid_mapping_id (= our dii_id) after imp's 4 columns
    scope = _pairs_digest([(row[0], row[4]) for row in rows])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_s,
        "rows": len(rows),
        "scope": scope,
        "plan": plan,
        "peak_rss_mb": _peak_rss_mb(),
    }


def role_ours_scope(db: Path) -> dict[str, object]:
    """Our lookup's UID2 matches of impressions, in the sample query's terms (not timed)."""
    from identity_pipeline.attribution.compute import DayWindow, build_id_lookup
    from identity_pipeline.warehouse import connect

    window = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS)).widened(30)
    with connect(db) as con:
        build_id_lookup(con, window)
        pairs = con.execute(OURS_SAMPLE_SCOPE_SQL).fetchall()
    return _pairs_digest(pairs)


def _child(role: str, db: Path, timeout: float | None = None, **sizes: int) -> dict[str, object]:
    args = [sys.executable, __file__, "--role", role, "--db", str(db)]
    for key, value in sizes.items():
        args += [f"--{key}", str(value)]
    started = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "seconds": time.perf_counter() - started}
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"{role} failed:\n{error.stderr}") from None
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


PROBE_DIVISOR = 20


def _probe(tmp: Path, people: int, impressions: int, conversions: int) -> None:
    """The OR-join at 1/PROBE_DIVISOR scale, to show how its cost grows (an estimate only)."""
    db = tmp / "probe.duckdb"
    _child("build", db, people=people, impressions=impressions, conversions=conversions)
    ours, theirs = _child("ours", db), _child("orjoin", db, timeout=OR_TIMEOUT_S)
    if theirs.get("timed_out"):
        print(f"probe at 1/{PROBE_DIVISOR} scale: OR-join also timed out")
        return
    theirs_s = float(theirs["seconds"])  # type: ignore[arg-type]
    print(
        f"probe at 1/{PROBE_DIVISOR} scale ({people:,} mapping / {impressions:,} impressions): "
        f"OR-join {theirs_s:.2f}s, ours {float(ours['seconds']):.3f}s "  # type: ignore[arg-type]
        f"(pairs {theirs['pairs']} vs {ours['uid2_customer_pairs']}); the OR-join is a nested "
        f"loop over impressions x mapping, so x{PROBE_DIVISOR}^2 = "
        f"~{theirs_s * PROBE_DIVISOR**2:,.0f}s is its expected time at full scale"
    )


def _check_ours(ours: dict[str, Any], conversions: int) -> None:
    """Fail the benchmark (exit 1) if our figures cannot be right, whatever the scale."""
    touches, attributed = ours["touches"], ours["attributed_conversions"]
    problems = []
    if ours["conversions"] != conversions:
        problems.append(f"{ours['conversions']} conversions read of {conversions} generated")
    if sum(ours["by_match"].values()) != touches:
        problems.append(f"touches by match {ours['by_match']} do not add up to {touches}")
    if not 0 < attributed <= min(conversions, touches):
        problems.append(f"{attributed} attributed of {conversions} with {touches} touches")
    if ours["campaign_rows"] <= 0:
        problems.append("no campaign rows")
    if problems:
        raise SystemExit("ours gave impossible figures: " + "; ".join(problems))


def _sample_case(db: Path, ours: dict[str, Any]) -> None:
    """The UID2 sample's SQLite query on the same rows; exit 1 unless it finds our pairs."""
    built: dict[str, Any] = _child("sample_build", db)
    sample: dict[str, Any] = _child("sample", db)
    scope: dict[str, Any] = _child("ours_scope", db)
    ours_s, sample_s = float(ours["seconds"]), float(sample["seconds"])
    print(
        f"UID2 sample (SQLite {sqlite3.sqlite_version}, its schema, indexes and OR-join, whole "
        f"result; built in {float(built['seconds']):.1f}s): {sample_s:.2f}s, "
        f"{sample['rows']:,} rows, plan {sample['plan']}, peak RSS "
        f"{float(sample['peak_rss_mb']):,.0f} MB, CPU {float(sample['cpu_seconds']):.2f}s"
    )
    same = sample["scope"] == scope
    print(
        f"sample pairs (impression, identity): {sample['scope']['pairs']:,}; ours, same scope: "
        f"{scope['pairs']:,}, equal: {same}; ratio (sample / ours) {sample_s / ours_s:,.1f}x "
        f"(CPU {float(sample['cpu_seconds']) / max(float(ours['cpu_seconds']), 1e-6):,.1f}x)"
    )
    if not same:
        raise SystemExit("the UID2 sample's query and ours disagree on the same scope")


def _case(
    people: int, impressions: int, conversions: int, with_or: bool, skip_duckdb_or: bool = False
) -> None:
    label = f"{people:,} mapping / {impressions:,} impressions / {conversions:,} conversions"
    with tempfile.TemporaryDirectory(prefix="bench_attr_") as tmp:
        db = Path(tmp) / "bench.duckdb"
        built = _child("build", db, people=people, impressions=impressions, conversions=conversions)
        print(f"\n== {label}: built in {built['seconds']:.1f}s: {built['counts']}")
        ours = _child("ours", db)
        _check_ours(ours, conversions)
        print(
            f"ours:    {ours['seconds']:.2f}s (attributed_conversions "
            f"{ours['attributed_seconds']:.2f}s + campaign_attribution), "
            f"{ours['touches']:,} touches for "
            f"{ours['attributed_conversions']:,} of {ours['conversions']:,} conversions, "
            f"by match {ours['by_match']}, peak RSS {ours['peak_rss_mb']:,.0f} MB, "
            f"CPU {ours['cpu_seconds']:.2f}s"
        )
        if not with_or:
            return
        _sample_case(db, ours)
        if skip_duckdb_or:
            return
        theirs = _child("orjoin", db, timeout=OR_TIMEOUT_S)
        ours_s = float(ours["seconds"])  # type: ignore[arg-type]
        if theirs.get("timed_out"):
            print(
                f"OR-join: timed out after {OR_TIMEOUT_S:.0f}s (killed); ratio > "
                f"{OR_TIMEOUT_S / ours_s:,.0f}x"
            )
            _probe(
                db.parent,
                people // PROBE_DIVISOR,
                impressions // PROBE_DIVISOR,
                conversions // PROBE_DIVISOR,
            )
        else:
            theirs_s = float(theirs["seconds"])  # type: ignore[arg-type]
            same = theirs["pairs"] == ours["uid2_customer_pairs"]
            print(
                f"OR-join: {theirs_s:.2f}s, pairs {theirs['pairs']} (ours, same scope: "
                f"{ours['uid2_customer_pairs']}, equal: {same}); ratio {theirs_s / ours_s:,.1f}x"
            )
            if not same:
                raise SystemExit("the OR-join and ours disagree on the same scope")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--role", choices=["build", "ours", "orjoin", "sample_build", "sample", "ours_scope"]
    )
    parser.add_argument("--db", type=Path)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--impressions", type=int, default=1_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument(
        "--skip-duckdb-or-join",
        action="store_true",
        help="leave out the OR-join run in DuckDB (120 s timeout); the SQLite sample still runs",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply case sizes (smoke runs)")
    args = parser.parse_args()
    if args.role == "build":
        print(json.dumps(role_build(args.db, args.people, args.impressions, args.conversions)))
        return 0
    roles = {
        "ours": role_ours,
        "orjoin": role_orjoin,
        "sample_build": role_sample_build,
        "sample": role_sample,
        "ours_scope": role_ours_scope,
    }
    if args.role in roles:
        print(json.dumps(roles[args.role](args.db)))
        return 0
    s = args.scale
    _case(int(1e6 * s), int(1e6 * s), int(1e5 * s), True, args.skip_duckdb_or_join)
    if not args.skip_large:
        _case(int(1e7 * s), int(1e7 * s), int(1e6 * s), with_or=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
