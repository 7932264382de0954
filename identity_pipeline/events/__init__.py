"""Web and app events (issue 15): landed `events/` files -> raw_events -> identity_events.

Only `raw_events` holds raw emails and phones; `identity_events` and everything built from it
hold them as the UID2 hashes the contacts `dii` uses.
"""
