"""The UID2 domain's Dagster definitions: the mapping assets, their check, the uid2_refresh
job and the `uid2` client resource (credentials from the environment)."""

from dagster import AssetSelection, EnvVar

from identity_pipeline.domain import domain_definitions
from identity_pipeline.uid2 import client
from identity_pipeline.uid2.assets import uid2_due_for_refresh, uid2_mapping
from identity_pipeline.uid2.checks import uid2_refresh_from_in_future

defs = domain_definitions(
    job="uid2_refresh",
    job_description="Apply suppression files, then map to UID2 every identity that is due.",
    assets=[uid2_due_for_refresh, uid2_mapping],
    selection=AssetSelection.assets("optouts", uid2_due_for_refresh, uid2_mapping),
    asset_checks=[uid2_refresh_from_in_future],
    resources={
        "uid2": client.UID2Client(
            base_url=EnvVar(client.ENV_BASE_URL),
            api_key=EnvVar(client.ENV_API_KEY),
            secret_key=EnvVar(client.ENV_SECRET_KEY),
        )
    },
)
