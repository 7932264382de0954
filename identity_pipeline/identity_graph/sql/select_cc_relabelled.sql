-- Each node's label moves to the root of the tree its label was hooked into.
SELECT l.node, coalesce(h.parent, l.label) AS label
FROM ig_cc_labels AS l
LEFT JOIN ig_cc_hooks AS h ON h.node = l.label
