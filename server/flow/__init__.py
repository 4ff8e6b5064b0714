"""Shopify Flow actions: `POST /flow/actions/{handle}`, durable like webhook deliveries."""
