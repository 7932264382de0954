-- Connected components, portable SQL (no engine-specific functions): both directions of every
-- input edge between distinct nodes. Input: ig_cc_input_edges (src, dst).
SELECT DISTINCT src, dst FROM (
    SELECT src, dst FROM ig_cc_input_edges WHERE src <> dst
    UNION ALL
    SELECT dst, src FROM ig_cc_input_edges WHERE src <> dst
) AS e
