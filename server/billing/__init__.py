"""Billing: merchants pay through Shopify's Billing API (docs/billing.md).

plans.py (what a plan asks Shopify for), state.py (each shop's charges as Shopify reports
them: the return, webhooks, reconciliation, uninstall), charges.py (subscribe, confirm,
cancel), usage.py (the daily usage charge of metered plans, an outbox), http.py (the
routes and the 402 gate).
"""
