"""Re-encrypting stored tokens: key rotation and legacy plaintext rows.

Both tables holding tokens are covered: `shops` (the offline access and refresh tokens) and
`online_tokens` (staff members' online tokens).

Both are compare-and-swap updates in one statement per batch, so they are safe while the
app runs: a row a concurrent refresh rewrote is skipped and looked at again.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from server.security.crypto import TokenCipher, TokenDecryptError

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_PASSES = 10

_SELECT = """
SELECT id, access_token_enc, refresh_token_enc FROM shops
WHERE id > $1 AND (access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL)
ORDER BY id LIMIT $2
"""

# Only rows still holding exactly what we read are updated (compare-and-swap).
_SWAP = """
UPDATE shops AS s
SET access_token_enc = v.new_access, refresh_token_enc = v.new_refresh, updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
     AS v(id, old_access, old_refresh, new_access, new_refresh)
WHERE s.id = v.id
  AND s.access_token_enc IS NOT DISTINCT FROM v.old_access
  AND s.refresh_token_enc IS NOT DISTINCT FROM v.old_refresh
"""


# Staff members' online tokens: one column, never stored as plaintext.
_SELECT_ONLINE = """
SELECT id, access_token_enc FROM online_tokens WHERE id > $1 ORDER BY id LIMIT $2
"""

_SWAP_ONLINE = """
UPDATE online_tokens AS t
SET access_token_enc = v.new_access, updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, old_access, new_access)
WHERE t.id = v.id AND t.access_token_enc = v.old_access
"""


def _reencrypt(cipher: TokenCipher, newest: TokenCipher, value: str | None) -> str | None:
    """The value under the newest key, or None when it already is (or is empty)."""
    if not value:
        return None
    if not TokenCipher.looks_encrypted(value):
        return cipher.encrypt(value)  # a legacy plaintext token
    try:
        newest.decrypt(value)
        return None
    except TokenDecryptError:
        return cipher.rotate(value)


async def reencrypt_tokens(db: BaseDBAsyncClient, cipher: TokenCipher, newest: TokenCipher) -> int:
    """Encrypt plaintext tokens and re-encrypt old-key ones with the newest key; returns rows
    (of shops and online tokens)."""
    changed_total = await _reencrypt_shops(db, cipher, newest)
    changed_total += await _reencrypt_online(db, cipher, newest)
    log.info("tokens re-encrypted", extra={"rows": changed_total})
    return changed_total


async def _reencrypt_shops(db: BaseDBAsyncClient, cipher: TokenCipher, newest: TokenCipher) -> int:
    changed_total = 0
    for _ in range(MAX_PASSES):
        pending = 0
        last_id = 0
        while True:
            rows: list[dict[str, Any]] = await db.execute_query_dict(_SELECT, [last_id, BATCH_SIZE])
            if not rows:
                break
            last_id = rows[-1]["id"]
            ids, old_a, old_r, new_a, new_r = [], [], [], [], []
            for row in rows:
                access = _reencrypt(cipher, newest, row["access_token_enc"])
                refresh = _reencrypt(cipher, newest, row["refresh_token_enc"])
                if access is None and refresh is None:
                    continue
                ids.append(row["id"])
                old_a.append(row["access_token_enc"])
                old_r.append(row["refresh_token_enc"])
                new_a.append(access if access is not None else row["access_token_enc"])
                new_r.append(refresh if refresh is not None else row["refresh_token_enc"])
            if ids:
                pending += len(ids)
                swapped, _ = await db.execute_query(_SWAP, [ids, old_a, old_r, new_a, new_r])
                changed_total += swapped
        if pending == 0:
            break
    return changed_total


async def _reencrypt_online(db: BaseDBAsyncClient, cipher: TokenCipher, newest: TokenCipher) -> int:
    """The same for online tokens (a row a concurrent token exchange rewrote is skipped and
    looked at again)."""
    changed_total = 0
    for _ in range(MAX_PASSES):
        pending = 0
        last_id = 0
        while True:
            rows: list[dict[str, Any]] = await db.execute_query_dict(
                _SELECT_ONLINE, [last_id, BATCH_SIZE]
            )
            if not rows:
                break
            last_id = rows[-1]["id"]
            ids, old, new = [], [], []
            for row in rows:
                value = _reencrypt(cipher, newest, row["access_token_enc"])
                if value is not None:
                    ids.append(row["id"])
                    old.append(row["access_token_enc"])
                    new.append(value)
            if ids:
                pending += len(ids)
                swapped, _ = await db.execute_query(_SWAP_ONLINE, [ids, old, new])
                changed_total += swapped
        if pending == 0:
            break
    return changed_total


async def plaintext_token_count(db: BaseDBAsyncClient) -> int:
    """Rows whose stored token is not Fernet ciphertext (legacy plaintext)."""
    rows = await db.execute_query_dict(
        "SELECT count(*) AS n FROM shops WHERE (access_token_enc IS NOT NULL AND "
        "access_token_enc NOT LIKE 'gAAAAA%') OR (refresh_token_enc IS NOT NULL AND "
        "refresh_token_enc NOT LIKE 'gAAAAA%')"
    )
    return int(rows[0]["n"])


async def encrypt_legacy_plaintext(db: BaseDBAsyncClient) -> int:
    """The data migration: encrypt any plaintext token row with the configured keys."""
    if await plaintext_token_count(db) == 0:
        return 0  # nothing to do, and no keys needed
    from server.config import load_config

    keys = load_config().security.token_encryption_keys
    if not keys:
        raise RuntimeError("TOKEN_ENCRYPTION_KEYS must be set to encrypt legacy plaintext tokens")
    cipher = TokenCipher(keys)
    # Only shops: it runs as migration 1, before online_tokens exists.
    return await _reencrypt_shops(db, cipher, TokenCipher(keys[:1]))
