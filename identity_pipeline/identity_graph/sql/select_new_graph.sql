-- identifier -> person for the re-stitched identifiers. A person's anchor is its earliest-seen
-- identifier (ties: type priority from ig_type_rank, then value); person_id is the RFC 4122
-- uuid5 of anchor_type || ':' || anchor_value in namespace $namespace_hex, computed here so it
-- needs no Python per person: SHA-1 of namespace bytes + name, version nibble 5, variant 10xx.
WITH ranked AS (
    -- identifiers without a link are not in ig_components: alone, their own component
    SELECT a.id_key, a.id_type, a.id_value, a.first_seen_at,
        coalesce(c.component, a.id_key) AS component, r.type_rank
    FROM ig_affected AS a
    LEFT JOIN ig_components AS c ON c.id_key = a.id_key
    JOIN ig_type_rank AS r ON r.id_type = a.id_type
),
anchors AS (
    SELECT component,
        min(struct_pack(t := first_seen_at, r := type_rank, v := id_value, k := id_key,
                        y := id_type)) AS anchor
    FROM ranked
    GROUP BY component
),
hashed AS (
    SELECT component, anchor.k AS anchor_key, anchor.y AS anchor_type, anchor.v AS anchor_value,
        sha1(unhex($namespace_hex) || encode(anchor.y || ':' || anchor.v)) AS h
    FROM anchors
)
SELECT r.id_key, r.id_type, r.id_value, r.first_seen_at,
    h.anchor_key, h.anchor_type, h.anchor_value,
    substr(h.h, 1, 8) || '-' || substr(h.h, 9, 4) || '-5' || substr(h.h, 14, 3) || '-'
        || substr('89ab', (instr('0123456789abcdef', substr(h.h, 17, 1)) - 1) % 4 + 1, 1)
        || substr(h.h, 18, 3) || '-' || substr(h.h, 21, 12) AS person_id
FROM ranked AS r
JOIN hashed AS h ON h.component = r.component
