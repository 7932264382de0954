"""The ID5 domain's Dagster definitions: the mapping assets, the id5_refresh job and the `id5`
client resource (credentials from the environment)."""

from dagster import AssetSelection, EnvVar

from identity_pipeline.domain import domain_definitions
from identity_pipeline.id5 import client
from identity_pipeline.id5.assets import id5_due_for_refresh, id5_mapping

defs = domain_definitions(
    job="id5_refresh",
    job_description="Apply suppression files, then map to ID5 every email that is due.",
    assets=[id5_due_for_refresh, id5_mapping],
    selection=AssetSelection.assets("optouts", id5_due_for_refresh, id5_mapping),
    resources={
        "id5": client.ID5Client(
            base_url=EnvVar(client.ENV_BASE_URL),
            partner_id=EnvVar.int(client.ENV_PARTNER_ID),
            token=EnvVar(client.ENV_TOKEN),
        )
    },
)
