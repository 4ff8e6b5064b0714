"""Requests from the app's checkout, customer-account and POS UI extensions (session tokens)."""
