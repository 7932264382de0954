"""One SQL, two engines: our portable DuckDB SELECTs converted to Spark SQL with sqlglot.

The `select_*.sql` files are written for DuckDB and are the only source of the logic. Spark
gets them through `SparkDialect.transpile`, the one place that knows how the engines differ
in what a SELECT means (the way Splink keeps a dialect object per backend):

- `$name` parameters become Spark's named parameters `:name` (bound with `spark.sql(args=)`);
- ORDER BY gets the null ordering DuckDB uses (NULLS LAST), written out, since Spark's
  ascending default is NULLS FIRST (sqlglot does this from the two dialects' settings);
- ROW_NUMBER() is BIGINT on DuckDB and INT on Spark: it is cast to BIGINT.

Golden files of the output live in identity_pipeline_tests/engine/golden/ and a test compares
them, so a sqlglot upgrade cannot change the Spark SQL silently. Imports sqlglot (the `spark`
extra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlglot
from sqlglot import exp

PARAMETER = re.compile(r"(?<![:\w])[$:](\w+)")


def _row_number_as_bigint(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber):
        parent = node.parent
        already = isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.BIGINT)
        if not already:
            return exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT"))
    return node


class SparkDialect:
    """DuckDB SQL in, Spark SQL out; see the module docstring for what changes."""

    source = "duckdb"
    target = "spark"

    def transpile(self, sql: str) -> str:
        statements = sqlglot.parse(sql, read=self.source)
        if len(statements) != 1 or statements[0] is None:
            raise ValueError(f"expected one SQL statement, got {len(statements)}")
        tree = statements[0].transform(_row_number_as_bigint)
        return tree.sql(dialect=self.target, pretty=True, comments=False)

    @staticmethod
    def bind(sql: str, params: Mapping[str, object]) -> dict[str, object]:
        """The subset of `params` that `sql` names (as $name or :name); a missing one fails."""
        used = set(PARAMETER.findall(sql))
        missing = sorted(used - params.keys())
        if missing:
            raise ValueError(f"SQL parameter(s) without a value: {', '.join(missing)}")
        return {k: v for k, v in params.items() if k in used}


SPARK = SparkDialect()
