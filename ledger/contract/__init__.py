"""The event contract: event models, personal-field marking, Avro schemas and the wire format."""
