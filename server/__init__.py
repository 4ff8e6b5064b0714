"""The aiohttp web application of the Shopify app backend."""
