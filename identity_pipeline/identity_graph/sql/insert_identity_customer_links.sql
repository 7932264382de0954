-- The CRM links this stitch run brought in (ig_customer_link_identifiers), as stitched.
INSERT INTO identity_customer_links (customer_id, dii_id, stitch_run)
SELECT DISTINCT customer_id, dii_id, $stitch_run FROM ig_customer_link_identifiers;
