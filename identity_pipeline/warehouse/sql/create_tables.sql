-- Settings every concern may keep in the warehouse itself (a fingerprint salt, a last-checked
-- time): one row per key.
CREATE TABLE IF NOT EXISTS warehouse_settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
