"""Normalizing and hashing emails and phones, bit-exact with the uid2-client SDK: the rules
every identity that enters the warehouse goes through (contact files, suppression files, the
`hash` command). Shared; imports no domain."""
