-- Every node starts as its own label. Input: ig_cc_input_nodes (node).
SELECT DISTINCT node, node AS label FROM ig_cc_input_nodes
