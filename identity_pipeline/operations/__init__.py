"""Running the pipeline unattended: schedules and the record of failed runs."""
