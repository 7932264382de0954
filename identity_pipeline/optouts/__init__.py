"""Opt-outs: permanent, from UID2 answers and from suppression files; enforced everywhere."""
