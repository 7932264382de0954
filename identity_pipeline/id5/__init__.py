"""ID5: the Partner Signals client resource, the mapping assets and their SQL.

Only emails go to ID5, and only as hex SHA-256 (`dii.id5_hash`); phones are never sent.
Each answer's ID5 ID is encrypted and rotates on ID5's schedule, so we keep every ID we were
given (`id5_uid_history`) and send the last one back as `known_uids`, which keeps a person on
one lineage across rotations. Opt-outs recorded anywhere (UID2 answers, suppression files)
exclude the identity from ID5 calls and remove the ID5 IDs we held for it.
"""
