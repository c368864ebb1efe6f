"""Vehicle positions: MQTT ingest, track storage, latest position, arrival detection."""
