"""Development aids, apart from the production path: the demo, sample-data generators and a
test-only mapping writer. Nothing under identity_pipeline/ outside dev/ imports it (the CLI's
demo and generate commands reach it lazily)."""
