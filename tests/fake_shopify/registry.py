"""Every secret value the fakes made in this process (tokens, webhook HMACs).

The test session checks that none of them ever reached a log line.
"""

from __future__ import annotations

ISSUED_SECRETS: set[str] = set()
