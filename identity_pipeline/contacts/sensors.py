"""New or changed contact files → ingest them and map the identities they bring."""

from identity_pipeline.landing.sensors import landing_folder_sensor

contact_files_sensor = landing_folder_sensor(
    "contact",
    "contacts",
    "contacts_arrived",
    "New or changed files in landing contacts/ → ingest them and map only the identities never "
    "mapped before (refreshes wait for the daily schedule).",
    # uid2/id5 *_due_for_refresh config (mapping.assets.DueConfig), by asset name
    ops={
        "uid2_due_for_refresh": {"config": {"only_new": True}},
        "id5_due_for_refresh": {"config": {"only_new": True}},
    },
)
