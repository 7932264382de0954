"""identity_pipeline: first-party identities to UID2/ID5 IDs and attribution, on Dagster."""

__version__ = "0.1.0"
