"""The ID5 domain's Dagster definitions: the mapping assets, the id5_refresh job and the `id5`
client resource (credentials from the environment)."""

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job

from identity_pipeline.id5 import client
from identity_pipeline.id5.assets import id5_due_for_refresh, id5_mapping

id5_refresh_job = define_asset_job(
    "id5_refresh",
    selection=AssetSelection.assets(
        "optouts", "id5_due_for_refresh", "id5_mapping", "id5_uid_history"
    ),
    description="Apply suppression files, then map to ID5 every email that is due.",
)

defs = Definitions(
    assets=[id5_due_for_refresh, id5_mapping],
    jobs=[id5_refresh_job],
    resources={
        "id5": client.ID5Client(
            base_url=EnvVar(client.ENV_BASE_URL),
            partner_id=EnvVar.int(client.ENV_PARTNER_ID),
            token=EnvVar(client.ENV_TOKEN),
        )
    },
)
