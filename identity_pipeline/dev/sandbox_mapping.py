"""Test and benchmark aid: what the UID2/ID5 mapping assets would store after mapping every
dii identity against the sandboxes daily from `history_from` to `now`, without HTTP.

Attribution tests and benchmarks use it to build months of mapping history in seconds; it
computes the answers with the sandboxes' own models and writes the mapping tables' columns.
Not part of the production path.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa

from identity_pipeline.sandboxes.id5 import ID5SandboxConfig, ID5UidModel
from identity_pipeline.sandboxes.uid2 import (
    DAY_S,
    SaltModel,
    UID2SandboxConfig,
    bucket_id,
    seeded_optout,
)
from identity_pipeline.sandboxes.uid2_envelope import EMAIL, PHONE
from identity_pipeline.warehouse import transaction


@dataclass(frozen=True)
class StandInCounts:
    uid2_mapped: int
    uid2_optout: int
    uid2_with_previous: int
    id5_mapped: int
    id5_history_rows: int


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def write_sandbox_mappings(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    history_from: date,
    uid2_config: UID2SandboxConfig | None = None,
    id5_config: ID5SandboxConfig | None = None,
) -> StandInCounts:
    """Replace uid2_mapping, id5_mapping and id5_uid_history with the sandboxes' answers."""
    uid2_config = uid2_config or UID2SandboxConfig()
    salts, id5 = SaltModel(uid2_config.seed), ID5UidModel(id5_config)
    now_s, mapped_at = now.timestamp(), _naive(now)
    start_days = datetime(history_from.year, history_from.month, history_from.day, tzinfo=UTC)
    noon_days = [
        (start_days + timedelta(days=n, hours=12)).timestamp() / DAY_S
        for n in range(max(1, (now - start_days).days + 1))
    ]
    uid2_rows: dict[str, list[object]] = {
        k: []
        for k in ("dii_id", "hash", "type", "current", "previous", "refresh", "status", "bucket")
    }
    id5_rows: dict[str, list[object]] = {k: [] for k in ("dii_id", "hash", "uid", "previous")}
    history: dict[str, list[object]] = {k: [] for k in ("dii_id", "uid", "first", "last")}
    for dii_id, dii_type, uid2_hash, id5_hash in con.execute(
        "SELECT dii_id, dii_type, uid2_hash, id5_hash FROM dii ORDER BY dii_id"
    ).fetchall():
        row = uid2_rows
        row["dii_id"].append(dii_id)
        row["hash"].append(uid2_hash)
        row["type"].append(dii_type)
        if seeded_optout(uid2_config, uid2_hash):
            for key in ("current", "previous", "refresh", "bucket"):
                row[key].append(None)
            row["status"].append("optout")
        else:
            kind = EMAIL if dii_type == "email" else PHONE
            answer = salts.map(base64.b64decode(uid2_hash), kind, now_s)
            row["current"].append(answer.current)
            row["previous"].append(answer.previous)
            row["refresh"].append(
                datetime.fromtimestamp(answer.refresh_from, UTC).replace(tzinfo=None)
            )
            row["bucket"].append(bucket_id(answer.bucket))
            row["status"].append("mapped")
        if id5_hash is None:
            continue
        seen: dict[int, tuple[float, float]] = {}
        for day in noon_days:
            epoch = id5.epoch(id5_hash, day)
            first, _ = seen.get(epoch, (day, day))
            seen[epoch] = (first, day)
        current_epoch = id5.epoch(id5_hash, now_s / DAY_S)
        epochs = sorted(seen)
        earlier = [e for e in epochs if e < current_epoch]
        id5_rows["dii_id"].append(dii_id)
        id5_rows["hash"].append(id5_hash)
        id5_rows["uid"].append(id5.uid(id5_hash, now_s / DAY_S))
        id5_rows["previous"].append(id5.uid(id5_hash, seen[earlier[-1]][1]) if earlier else None)
        for epoch in epochs:
            first, last = seen[epoch]
            history["dii_id"].append(dii_id)
            history["uid"].append(id5.uid(id5_hash, first))
            history["first"].append(datetime.fromtimestamp(first * DAY_S, UTC).replace(tzinfo=None))
            history["last"].append(datetime.fromtimestamp(last * DAY_S, UTC).replace(tzinfo=None))
    con.register("standin_uid2", pa.table(uid2_rows))
    con.register("standin_id5", pa.table(id5_rows))
    con.register("standin_history", pa.table(history))
    with transaction(con):
        con.execute(
            "DELETE FROM uid2_mapping; DELETE FROM id5_mapping; DELETE FROM id5_uid_history"
        )
        con.execute(
            "INSERT INTO uid2_mapping "
            "(dii_id, uid2_hash, dii_type, current_uid, previous_uid, refresh_from, status, "
            "reason, bucket_id, mapped_at, attempts) "
            "SELECT dii_id, hash, type, current, previous, refresh, "
            "status, CASE WHEN status = 'optout' THEN 'optout' END, bucket, ?, 1 FROM standin_uid2",
            [mapped_at],
        )
        con.execute(
            "INSERT INTO id5_mapping "
            "(dii_id, id5_hash, id5_uid, previous_id5_uid, country_alpha2, status, "
            "error_code, mapped_at) SELECT dii_id, hash, uid, previous, 'US', 'mapped', NULL, ? "
            "FROM standin_id5",
            [mapped_at],
        )
        con.execute(
            "INSERT INTO id5_uid_history SELECT DISTINCT ON (dii_id, uid) dii_id, uid, first, last "
            "FROM standin_history"
        )
    for name in ("standin_uid2", "standin_id5", "standin_history"):
        con.unregister(name)
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'mapped'), count(*) FILTER (WHERE status = "
        "'optout'), count(previous_uid), (SELECT count(*) FROM id5_mapping), "
        "(SELECT count(*) FROM id5_uid_history) FROM uid2_mapping"
    ).fetchall()[0]
    return StandInCounts(*(int(c) for c in counts))
