"""The Web Pixel extension: ingest endpoint, management API and analytics summary."""
