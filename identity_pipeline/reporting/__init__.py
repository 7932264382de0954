"""Pictures for Dagster metadata: charts rendered to PNG and embedded in Markdown."""
