"""The event log port and its adapters: Kafka, and an embedded SQLite log for a laptop."""
