-- Each window keeps its latency histogram (the analytics' 64 exponential buckets), so a
-- percentile over a time range merges the range's windows instead of taking the worst window's.
-- Windows stored before this have none: a range of only those falls back to their largest p95.
ALTER TABLE dns_window ADD COLUMN latency_buckets integer[] NOT NULL DEFAULT '{}';
