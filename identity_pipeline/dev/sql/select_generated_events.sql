-- Web and app events [$start, $stop) for seed $seed among $people people, shaped as seed 003
-- request bodies plus event_id and created_at. Randomness is md5 of (seed, event), (seed, person)
-- and (seed, person, device): identical on every machine and for any file split.
-- generated_customers (person, email, phone) are CRM customers (dev.generate_contacts' people):
-- 60% of the event people who are one of them use the CRM's email and phone, so CRM customers
-- and web visitors meet in one graph. events.events_query() supplies an empty one.
WITH ev AS (
    SELECT i,
        md5(CAST($seed AS VARCHAR) || ':event:' || i) AS ehex,
        md5_number_lower(CAST($seed AS VARCHAR) || ':event:' || i) AS h,
        md5_number_upper(CAST($seed AS VARCHAR) || ':event:' || i) AS h2
    FROM range(CAST($start AS BIGINT), CAST($stop AS BIGINT)) AS t(i)
),
-- skewed activity: a few people make many events, most make a handful
who AS (
    SELECT *,
        CAST(floor(CAST($people AS DOUBLE) * pow(CAST(h % 1000003 AS DOUBLE) / 1000003.0, 1.6))
             AS BIGINT) AS person
    FROM ev
),
p AS (
    SELECT *, md5_number_lower(CAST($seed AS VARCHAR) || ':person:' || person) AS ph,
        md5_number_upper(CAST($seed AS VARCHAR) || ':person:' || person) AS ph2
    FROM who
),
crm AS (
    SELECT p.*, c.email AS crm_email, c.phone AS crm_phone
    FROM p LEFT JOIN generated_customers AS c
        ON c.person = p.person AND (p.ph2 >> 50) % 100 < 60
),
traits AS (
    SELECT *,
        -- devices: 1 (50%), 2 (30%), 3 (15%), 4 (5%)
        CASE WHEN ph % 100 < 50 THEN 1 WHEN ph % 100 < 80 THEN 2 WHEN ph % 100 < 95 THEN 3
             ELSE 4 END AS devices,
        (ph >> 8) % 100 < 45 AS known,             -- logs in somewhere, revealing an email
        (ph >> 16) % 100 < 20 AS has_work_email,
        (ph >> 24) % 100 < 35 AS has_phone,
        (ph >> 32) % 100 < 4 AS in_family,          -- shares a family email with 2-4 others
        list_element(['james','mary','john','patricia','robert','jennifer','michael','linda',
            'david','elizabeth','sarah','thomas','karen','nguyen','wei','aarav','fatima','olga',
            'josé','zoë'], CAST((ph >> 40) % 20 AS INTEGER) + 1) AS first_name,
        list_element(['smith','johnson','brown','garcia','miller','davis','martinez','lopez',
            'wilson','taylor','lee','müller','dubois','rossi','kowalski','tanaka','singh','kim'],
            CAST((ph >> 48) % 18 AS INTEGER) + 1) AS last_name,
        list_element(['gmail.com','gmail.com','gmail.com','yahoo.com','hotmail.com',
            'outlook.com','icloud.com','example.co.uk','mail.de','orange.fr'],
            CAST((ph >> 54) % 10 AS INTEGER) + 1) AS domain,
        list_element(['US','US','US','US','US','GB','GB','DE','FR','FR'],
            CAST(ph2 % 10 AS INTEGER) + 1) AS country,
        CAST((ph2 >> 4) % 86400 AS BIGINT) AS first_day_second,
        CAST((ph2 >> 24) % 10000000 AS BIGINT) AS digits7,
        CAST(h % 100 AS INTEGER) AS r_action,
        CAST((h >> 8) % 1000 AS INTEGER) AS r_login,
        CAST((h >> 18) % 1000 AS INTEGER) AS r_click,
        CAST((h >> 28) % 1000 AS INTEGER) AS r_qa,
        CAST((h >> 38) % 100 AS INTEGER) AS r_spell,
        CAST((h >> 45) % 4 AS INTEGER) AS r_device,
        CAST((h >> 50) % 40 AS INTEGER) AS r_session,
        CAST(h2 % 1800 AS INTEGER) AS r_offset,
        CAST((h2 >> 12) % 100000 AS INTEGER) AS r_value
    FROM crm
),
dev AS (
    SELECT *,
        r_device % devices AS device,
        md5(CAST($seed AS VARCHAR) || ':device:' || person || ':' || (r_device % devices)) AS dhex
    FROM traits
),
shaped AS (
    SELECT *,
        list_element(['web','web','web','ios','android'],
            CAST(('0x' || dhex[1:2])::INTEGER % 5 AS INTEGER) + 1) AS platform_name,
        first_name || list_element(['.','_',''], CAST(person % 3 AS INTEGER) + 1) || last_name
            || CAST(person % 997 AS VARCHAR) AS local_part,
        CASE country WHEN 'US' THEN '+1' || list_element(['212','415','617','646','713','917'],
                                   CAST(digits7 % 6 AS INTEGER) + 1) || '55' || lpad(CAST(digits7 % 100000 AS VARCHAR), 5, '0')
                     WHEN 'GB' THEN '+447700' || lpad(CAST(digits7 % 1000000 AS VARCHAR), 6, '0')
                     WHEN 'DE' THEN '+49151' || lpad(CAST(digits7 AS VARCHAR), 8, '0')
                     ELSE '+336' || lpad(CAST(digits7 % 100000000 AS VARCHAR), 8, '0') END AS e164,
        CASE WHEN r_action < 55 THEN 'pageview' WHEN r_action < 70 THEN 'product_view'
             WHEN r_action < 80 THEN 'add_to_cart' WHEN r_action < 84 THEN 'purchase'
             WHEN r_action < 94 THEN 'login' WHEN r_action < 97 THEN 'form_submission'
             ELSE 'signup' END AS action,
        -- a person's visits: one of 40 sessions spread over 120 days, events within 30 minutes
        TIMESTAMP '2026-07-01' + to_seconds(first_day_second
            + CAST((ph2 >> CAST(r_session AS UBIGINT)) % 120 AS BIGINT) * 86400
            + r_session * 7919 % 86400 + r_offset) AS created_at
    FROM dev
),
ids AS (
    SELECT *,
        -- a login or a checkout reveals an email for known people; some app events carry only it
        known AND (action IN ('login', 'purchase', 'signup', 'form_submission') OR r_login < 30)
            AS reveals,
        CASE WHEN r_qa < 3 THEN list_element(['anonymous', 'null', '-1'], r_qa + 1)
             ELSE 'anon_' || dhex[3:18] END AS anon
    FROM shaped
),
chosen AS (
    SELECT *,
        CASE
            WHEN r_qa BETWEEN 2 AND 3 THEN 'test@test.com'
            WHEN NOT reveals THEN NULL
            WHEN in_family AND r_login % 10 < 4
                THEN 'the.family.' || CAST(person // 60 AS VARCHAR) || '@gmail.com'
            WHEN has_work_email AND r_login % 10 >= 7
                THEN first_name || '.' || last_name || CAST(person % 89 AS VARCHAR) || '@acme-corp.com'
            ELSE coalesce(lower(trim(crm_email)), local_part || '@' || domain)
        END AS clean_email
    FROM ids
)
SELECT
    ehex[1:8] || '-' || ehex[9:12] || '-' || ehex[13:16] || '-' || ehex[17:20] || '-' || ehex[21:32]
        AS event_id,
    strftime(created_at, '%Y-%m-%dT%H:%M:%S') || '.' || lpad(CAST(i % 1000000 AS VARCHAR), 6, '0')
        || 'Z' AS created_at,
    platform_name AS platform,
    CASE WHEN reveals AND platform_name <> 'web' AND r_login % 20 = 0 THEN NULL ELSE anon END
        AS anonymous_id,
    CASE
        WHEN clean_email IS NULL THEN NULL
        -- the same address written several ways; gmail ignores dots and +tags
        WHEN r_spell < 10 THEN upper(clean_email)
        WHEN r_spell < 15 THEN ' ' || clean_email || ' '
        WHEN r_spell < 22 AND domain = 'gmail.com' AND clean_email LIKE '%@gmail.com'
            THEN replace(clean_email, '@gmail.com', '+shop@gmail.com')
        ELSE clean_email
    END AS email,
    CASE
        WHEN r_qa = 4 THEN '0000000000'
        -- the call centre's line, typed in for people who ordered by phone
        WHEN reveals AND action = 'purchase' AND r_click < 40 THEN '+18005550199'
        WHEN reveals AND has_phone AND action IN ('purchase', 'signup') THEN
            CASE WHEN crm_phone IS NOT NULL THEN crm_phone
                 WHEN country = 'US' AND r_spell < 20
                 THEN '(' || e164[3:5] || ') ' || e164[6:8] || '-' || e164[9:12]
                 ELSE e164 END
    END AS phone,
    CASE WHEN r_click BETWEEN 40 AND 69 THEN 'IwAR' || ehex[1:24] END AS fbclid,
    CASE WHEN r_click BETWEEN 70 AND 99 AND platform_name = 'web'
         THEN 'EAIaIQobChMI' || ehex[9:28] END AS gclid,
    CASE WHEN r_click BETWEEN 70 AND 99 AND platform_name <> 'web'
         THEN 'EAIaIQobChMI' || ehex[9:28] END AS gaclid,
    CASE action
        WHEN 'purchase' THEN json_object('action', action, 'properties', json_object(
            'value', round(5 + r_value / 250.0, 2),
            'currency', CASE country WHEN 'US' THEN 'USD' WHEN 'GB' THEN 'GBP' ELSE 'EUR' END,
            'transaction_id', 'T' || ehex[1:10]))
        WHEN 'add_to_cart' THEN json_object('action', action, 'properties', json_object(
            'product_id', 'P' || CAST(r_value % 5000 AS VARCHAR),
            'value', round(5 + r_value / 250.0, 2),
            'currency', CASE country WHEN 'US' THEN 'USD' WHEN 'GB' THEN 'GBP' ELSE 'EUR' END))
        WHEN 'form_submission' THEN json_object('action', action, 'properties', json_object(
            'form_id', 'newsletter_signup', 'page_url', 'https://example.com/news'))
        ELSE json_object('action', action, 'properties', json_object(
            'page_url', 'https://example.com/p/' || CAST(r_value % 5000 AS VARCHAR),
            'referrer', CASE WHEN r_click < 100 THEN 'https://ads.example/' ELSE NULL END,
            'time_on_page', r_value % 300))
    END AS valuation_properties
FROM chosen
ORDER BY i
