"""domain.domain_definitions: a domain's assets and its one asset job as one Definitions."""

from dagster import AssetSelection, Definitions, asset

from identity_pipeline.domain import domain_definitions


@asset
def first() -> None:
    return None


@asset(deps=[first])
def second() -> None:
    return None


def _job_assets(defs: Definitions, job: str) -> set[str]:
    job_def = defs.get_repository_def().get_job(job)
    return {key.to_user_string() for key in job_def.asset_layer.selected_asset_keys}


def test_the_job_runs_the_domains_own_assets_unless_told() -> None:
    own = domain_definitions(job="own_job", job_description="both", assets=[first, second])
    told = domain_definitions(
        job="told_job",
        job_description="only the second",
        assets=[first, second],
        selection=AssetSelection.assets(second),
    )

    assert _job_assets(own, "own_job") == {"first", "second"}
    assert _job_assets(told, "told_job") == {"second"}
    assert told.get_repository_def().get_job("told_job").description == "only the second"
