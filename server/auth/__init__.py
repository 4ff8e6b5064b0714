"""Merchant install (OAuth), token exchange, and session-token auth of /api/*."""
