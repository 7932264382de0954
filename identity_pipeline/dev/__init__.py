"""Development helpers: generators of realistic sample data for demos, tests and benchmarks."""
