"""Shops: install (OAuth, token exchange), tokens (encrypted, refreshed), uninstall."""
