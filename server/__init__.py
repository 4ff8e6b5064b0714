"""The Shopify app backend: the HTTP edge (server/web), one package per flow, shared mechanisms."""
