"""Privacy: the mandatory compliance webhooks (data request, customer and shop redaction)."""
