"""Stage functions the DAGs call. Each takes ids/names and settings, does its
work in batches against the warehouse, and returns counts (never bodies), so
that XCom stays small and every task is idempotent over its inputs."""
