"""The HTTP edge every flow shares: the app, its routes and middlewares, keys, limits."""
