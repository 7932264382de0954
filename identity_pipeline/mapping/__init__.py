"""What UID2 and ID5 mapping share: budgeted retries and call statistics, the HTTP client base,
the pipelined batch loop, the due rule and the assets' run config and metadata."""
