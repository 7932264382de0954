"""The identity tables attribution reads, named once for both engines.

The list lives in identity_pipeline.engine.state, because the optouts, uid2 and id5 domains
publish exactly these tables to the lake for the Spark engine after each of their runs; here
they are the attribution assets' deps.
"""

from identity_pipeline.engine.state import IDENTITY_TABLES

__all__ = ["IDENTITY_TABLES"]
