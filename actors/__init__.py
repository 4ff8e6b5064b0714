"""Dramatiq actors. Import `actors.broker` (it sets the broker up) before any actor module."""
