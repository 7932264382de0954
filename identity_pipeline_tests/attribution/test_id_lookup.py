"""The id lookup's choice when several identities claim one ad id, on a real DuckDB file.

select_id_lookup.sql picks one identity per (id_type, id): current beats previous beats
history, then the smallest dii_id; opted-out identities never claim anything; only ids seen in
the window's impressions are kept; the same string under two id types is two ids.
"""

from datetime import date, datetime
from pathlib import Path

from identity_pipeline.attribution.compute import DayWindow, build_id_lookup
from identity_pipeline.warehouse import connect

T = datetime(2025, 6, 1)


def test_lookup_prefers_current_then_previous_then_history_then_smallest_identity(
    tmp_path: Path,
) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        for dii_id in range(1, 8):
            con.execute(
                "INSERT INTO dii VALUES (?, 'email', ?, NULL, ?, ?, 1)",
                [dii_id, f"hash-{dii_id}", T, T],
            )
        con.execute(
            "INSERT INTO optouts (uid2_hash, dii_type, source, opted_out_at) "
            "VALUES ('hash-4', 'email', 'suppression_file', ?)",
            [T],
        )
        uid2 = [  # dii_id, current, previous, status
            (1, "U-A", None, "mapped"),
            (2, "U-B", "U-A", "mapped"),  # previous loses U-A to dii 1's current
            (3, "U-C", None, "mapped"),
            (5, "U-C", "U-E", "mapped"),  # tie on current U-C: dii 3 wins
            (4, "U-D", None, "mapped"),  # opted out (optouts list)
            (6, "U-F", "U-D", "mapped"),  # U-D is dii 6's previous only
            (7, None, None, "optout"),
        ]
        for dii_id, current, previous, status in uid2:
            con.execute(
                "INSERT INTO uid2_mapping (dii_id, uid2_hash, dii_type, current_uid, "
                "previous_uid, status, mapped_at, attempts) VALUES (?, ?, 'email', ?, ?, ?, ?, 1)",
                [dii_id, f"hash-{dii_id}", current, previous, status, T],
            )
        id5 = [(1, "I-A", "I-B"), (4, "I-D", None), (6, "I-F", "I-G"), (5, "I-G", None)]
        for dii_id, current, previous in id5:
            con.execute(
                "INSERT INTO id5_mapping (dii_id, id5_uid, previous_id5_uid, status) "
                "VALUES (?, ?, ?, 'mapped')",
                [dii_id, current, previous],
            )
        history = [(2, "I-A"), (3, "I-B"), (3, "I-C"), (2, "I-C"), (4, "I-H"), (1, "U-A")]
        for dii_id, uid in history:
            con.execute(
                "INSERT INTO id5_uid_history (dii_id, id5_uid) VALUES (?, ?)", [dii_id, uid]
            )
        seen = [
            ("uid2", "U-A"),
            ("uid2", "U-C"),
            ("uid2", "U-D"),
            ("uid2", "U-E"),
            ("uid2", "nobody"),
            ("id5", "I-A"),
            ("id5", "I-B"),
            ("id5", "I-C"),
            ("id5", "I-D"),
            ("id5", "I-G"),
            ("id5", "I-H"),
            ("id5", "U-A"),
        ]
        for n, (id_type, uid) in enumerate(seen * 2):  # each id served twice
            con.execute(
                "INSERT INTO impressions VALUES (?, ?, ?, 'cmp', ?, ?, NULL, 'f')",
                [date(2025, 6, 2), f"imp-{n}", datetime(2025, 6, 2, 12), id_type, uid],
            )
        con.execute(  # U-B and U-F are only served outside the window
            "INSERT INTO impressions VALUES (?, 'late', ?, 'cmp', 'uid2', 'U-B', NULL, 'f'), "
            "(?, 'early', ?, 'cmp', 'uid2', 'U-F', NULL, 'f')",
            [date(2025, 6, 5), datetime(2025, 6, 5), date(2025, 5, 31), datetime(2025, 5, 31)],
        )

        size = build_id_lookup(con, DayWindow(date(2025, 6, 1), date(2025, 6, 5)))
        lookup = con.execute(
            "SELECT id_type, id, dii_id, matched_via FROM attr_id_lookup ORDER BY ALL"
        ).fetchall()

    assert lookup == sorted(
        [
            ("uid2", "U-A", 1, "uid2_current"),
            ("uid2", "U-C", 3, "uid2_current"),
            ("uid2", "U-D", 6, "uid2_previous"),
            ("uid2", "U-E", 5, "uid2_previous"),
            ("id5", "I-A", 1, "id5_current"),
            ("id5", "I-B", 1, "id5_previous"),
            ("id5", "I-C", 2, "id5_history"),
            ("id5", "I-G", 5, "id5_current"),
            ("id5", "U-A", 1, "id5_history"),
        ]
    )
    assert size == len(lookup)
