"""Forgetting a person (issue 15, privacy requests).

`identity-pipeline forget` and request files in the landing area's forget/ folder remove a
person's events, journal, graph entries and scores in one transaction, record an audit row
that holds no value (`forget_requests`), and put every identifier of the person on the hashed
deny-list (`forgotten_identifiers`), which event ingestion reads so old files cannot bring
the person back.
"""
