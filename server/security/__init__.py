"""Security primitives: HMACs, session tokens, token encryption at rest."""
