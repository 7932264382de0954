"""A new suppression file → apply the opt-outs at once, not at the next daily refresh."""

from identity_pipeline.landing.sensors import landing_folder_sensor

suppression_files_sensor = landing_folder_sensor(
    "suppression",
    "optouts",
    "apply_optouts",
    "New or changed files in landing optouts/ → load them and clear the IDs of everyone they name.",
)
