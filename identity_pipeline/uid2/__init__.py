"""UID2: the Identity Map client resource, the mapping assets and their SQL."""
