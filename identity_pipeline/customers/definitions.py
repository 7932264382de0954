"""The customer-scoring domain's Dagster definitions: its three assets. They belong to the
`identity_graph` group, so the `identity_graph_refresh` job (the whole group) runs them."""

from dagster import Definitions

from identity_pipeline.customers.assets import customer_metrics, customer_segments, customer_value

defs = Definitions(assets=[customer_metrics, customer_value, customer_segments])
