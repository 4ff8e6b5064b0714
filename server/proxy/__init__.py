"""The app proxy: storefront requests Shopify forwards, signed with the `signature` query."""
