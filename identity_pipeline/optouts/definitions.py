"""The opt-outs domain's Dagster definitions: the optouts asset, the check that no opted-out
identity holds an ID (after every table that holds IDs), the apply_optouts job and sensor."""

from identity_pipeline.domain import domain_definitions
from identity_pipeline.optouts.assets import optouts
from identity_pipeline.optouts.checks import optout_checks
from identity_pipeline.optouts.sensors import suppression_files_sensor

ID_HOLDING_ASSETS = ("optouts", "uid2_mapping", "id5_mapping")

defs = domain_definitions(
    job="apply_optouts",
    job_description="Load new suppression files and clear the IDs of everyone they name.",
    assets=[optouts],
    asset_checks=optout_checks(ID_HOLDING_ASSETS),
    sensors=[suppression_files_sensor],
)
