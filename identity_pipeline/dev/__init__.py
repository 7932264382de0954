"""Development aids, apart from the production path: the demo, sample-data generators (CRM
contacts, ad activity, seed 003 events) and a test-only mapping writer. Nothing under
identity_pipeline/ outside dev/ imports it (the CLI's demo and generate commands reach it
lazily)."""
