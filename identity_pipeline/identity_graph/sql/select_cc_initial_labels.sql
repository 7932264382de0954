-- Every node of an edge starts as its own label (ig_cc_edges holds both directions).
SELECT DISTINCT src AS node, src AS label FROM ig_cc_edges
