"""Identity service (issue 16): seed 003's `POST /api/v1/identifier`, served over our graph.

No Dagster in what serves. `config` reads the environment, `identifiers` types a request's
identifiers with the identity graph's rules, `eventlog` makes accepted events durable (a
write-ahead log with group commit) and publishes closed segments into the landing area's
`events/`, `snapshot` reads (and writes) the graph the pipeline publishes, `overlay` answers
from that graph plus every event accepted since, `app` is the ASGI application and `server`
runs it. The pipeline's side is `assets` (asset `identity_service_snapshot`, which publishes
the snapshot) and `definitions`; the serving process never imports them.
"""
