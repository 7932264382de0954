"""The UID2 domain's Dagster definitions: the mapping assets, their check, the uid2_refresh
job and the `uid2` client resource (credentials from the environment)."""

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job

from identity_pipeline.uid2 import client
from identity_pipeline.uid2.assets import uid2_due_for_refresh, uid2_mapping
from identity_pipeline.uid2.checks import uid2_refresh_from_in_future

uid2_refresh_job = define_asset_job(
    "uid2_refresh",
    selection=AssetSelection.assets("optouts", "uid2_due_for_refresh", "uid2_mapping"),
    description="Apply suppression files, then map to UID2 every identity that is due.",
)

defs = Definitions(
    assets=[uid2_due_for_refresh, uid2_mapping],
    asset_checks=[uid2_refresh_from_in_future],
    jobs=[uid2_refresh_job],
    resources={
        "uid2": client.UID2Client(
            base_url=EnvVar(client.ENV_BASE_URL),
            api_key=EnvVar(client.ENV_API_KEY),
            secret_key=EnvVar(client.ENV_SECRET_KEY),
        )
    },
)
