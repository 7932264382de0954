-- Messy, realistic CRM rows [$start, $stop) for seed $seed with $people distinct people.
-- Randomness comes from md5 of (seed, row) and (seed, person): identical on every machine.
WITH rows AS (
    SELECT i, md5_number(CAST($seed AS VARCHAR) || ':row:' || i) AS h FROM range(CAST($start AS BIGINT), CAST($stop AS BIGINT)) AS t(i)
),
people AS (
    SELECT i, h, CAST(h % CAST($people AS UHUGEINT) AS BIGINT) AS person FROM rows
),
p AS (
    SELECT i, h, person, md5_number(CAST($seed AS VARCHAR) || ':person:' || person) AS ph FROM people
),
persona AS (
    SELECT i, h, person, ph,
        list_element(['james','mary','john','patricia','robert','jennifer','michael','linda',
            'william','elizabeth','david','barbara','richard','susan','joseph','jessica','thomas',
            'sarah','charles','karen','josé','zoë','françois','ümit','siobhan','nguyen','wei',
            'aarav','fatima','olga'], CAST(ph % 30 AS INTEGER) + 1) AS first_name,
        list_element(['smith','johnson','williams','brown','jones','garcia','miller','davis',
            'rodriguez','martinez','hernandez','lopez','gonzalez','wilson','anderson','thomas',
            'taylor','moore','jackson','martin','lee','müller','o''brien','dubois','rossi',
            'kowalski','tanaka','singh','kim','novak'], CAST((ph >> 8) % 30 AS INTEGER) + 1)
            AS last_name,
        list_element(['gmail.com','gmail.com','gmail.com','gmail.com','yahoo.com','hotmail.com',
            'outlook.com','icloud.com','aol.com','example.co.uk','mail.de','orange.fr'],
            CAST((ph >> 16) % 12 AS INTEGER) + 1) AS domain,
        list_element(['.','_','',''], CAST((ph >> 24) % 4 AS INTEGER) + 1) AS sep,
        CAST((ph >> 28) % 1000 AS INTEGER) AS num,
        list_element(['US','US','US','US','US','US','GB','GB','DE','FR'],
            CAST((ph >> 40) % 10 AS INTEGER) + 1) AS country,
        CAST((ph >> 44) % 100000000 AS BIGINT) AS digits8,
        CAST((ph >> 72) % 14 AS INTEGER) AS p1,
        CAST((ph >> 76) % 10 AS INTEGER) AS p2
    FROM p
),
phones AS (
    SELECT *,
        CASE country
            WHEN 'US' THEN list_element([201,212,305,312,404,415,512,617,646,702,713,718,818,917],
                               p1 + 1) || list_element([234,345,456,567,678,789,823,864,907,972],
                               p2 + 1) || lpad(CAST(digits8 % 10000 AS VARCHAR), 4, '0')
            WHEN 'GB' THEN list_element(['7400','7800','7956','7412','7500','7900','7723'],
                               p1 % 7 + 1) || lpad(CAST(digits8 % 1000000 AS VARCHAR), 6, '0')
            WHEN 'DE' THEN list_element(['151','152','157','160','170','171','176'],
                               p1 % 7 + 1) || lpad(CAST(digits8 AS VARCHAR), 8, '0')
            ELSE list_element(['61','62','64','65','66','67','68','75','76','78'], p2 + 1)
                               || lpad(CAST(digits8 % 10000000 AS VARCHAR), 7, '0')
        END AS national_digits
    FROM persona
),
shaped AS (
    SELECT *,
        first_name || sep || last_name || CASE WHEN num < 600 THEN CAST(num AS VARCHAR) ELSE '' END
            AS local_part,
        CASE country WHEN 'US' THEN '+1' WHEN 'GB' THEN '+44' WHEN 'DE' THEN '+49' ELSE '+33' END
            || national_digits AS e164,
        CASE country
            WHEN 'US' THEN '(' || national_digits[1:3] || ') ' || national_digits[4:6] || '-'
                           || national_digits[7:10]
            WHEN 'GB' THEN '0' || national_digits[1:4] || ' ' || national_digits[5:]
            WHEN 'DE' THEN '0' || national_digits[1:3] || ' ' || national_digits[4:]
            ELSE '0' || national_digits[1:1] || ' ' || national_digits[2:3] || ' '
                 || national_digits[4:5] || ' ' || national_digits[6:7] || ' ' || national_digits[8:9]
        END AS national,
        CAST((h >> 8) % 100 AS INTEGER) AS r_case,
        CAST((h >> 16) % 100 AS INTEGER) AS r_space,
        CAST((h >> 24) % 100 AS INTEGER) AS r_gmail,
        CAST((h >> 32) % 1000 AS INTEGER) AS r_bad_email,
        CAST((h >> 42) % 100 AS INTEGER) AS r_phone_fmt,
        CAST((h >> 50) % 1000 AS INTEGER) AS r_bad_phone,
        CAST((h >> 60) % 100 AS INTEGER) AS r_missing,
        CAST((h >> 70) % 60000000 AS BIGINT) AS r_seconds
    FROM phones
),
emails AS (
    SELECT *,
        CASE
            -- gmail ignores dots and +tags: the same person arrives written several ways
            WHEN domain = 'gmail.com' AND r_gmail < 15 THEN local_part[1:2] || '.' || local_part[3:]
            WHEN domain = 'gmail.com' AND r_gmail < 25 THEN local_part || '+news'
            ELSE local_part
        END || '@' || domain AS clean_email
    FROM shaped
)
SELECT
    'C' || lpad(CAST(person AS VARCHAR), 9, '0') AS customer_id,
    CASE
        WHEN r_missing < 5 THEN NULL
        WHEN r_bad_email < 4 THEN replace(clean_email, '@', ' at ')
        WHEN r_bad_email < 6 THEN replace(clean_email, '@', '@@')
        ELSE (CASE WHEN r_space < 8 THEN '  ' ELSE '' END)
             || (CASE WHEN r_case < 15 THEN upper(clean_email)
                      WHEN r_case < 40 THEN upper(clean_email[1:1]) || clean_email[2:]
                      ELSE clean_email END)
             || (CASE WHEN r_space >= 95 THEN ' ' ELSE '' END)
    END AS email,
    CASE
        WHEN r_missing >= 90 THEN NULL
        WHEN r_bad_phone < 5 THEN '12345'
        WHEN r_bad_phone < 8 THEN 'n/a'
        WHEN r_phone_fmt < 70 THEN e164
        WHEN r_phone_fmt < 90 THEN national
        ELSE replace(e164, national_digits, ' ' || national_digits[1:3] || ' ' || national_digits[4:])
    END AS phone,
    CASE WHEN r_case % 7 = 0 THEN lower(country) || ' ' ELSE country END AS country,
    strftime(TIMESTAMP '2024-01-01' + to_seconds(r_seconds), '%Y-%m-%dT%H:%M:%S') AS updated_at
FROM emails
ORDER BY i
