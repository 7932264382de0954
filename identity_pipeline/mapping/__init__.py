"""What UID2 and ID5 mapping share: retries with a bounded budget, and per-run call statistics."""
