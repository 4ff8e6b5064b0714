"""Typed, frozen configuration: defaults from config.toml, overridden by environment variables.

Each setting is declared once, as a field of its section's dataclass below:
`port: int = setting(env="PORT", le=65535)` says its type (which says how it is read), its
environment name if it has one, and its bounds. `ENV_OVERRIDES`, the reading and every
error message ("PORT (app.port): must be between 0 and 65535, got 70000") follow from that
declaration. Its default lives in config.toml; tests/test_docs.py checks config.toml,
README's table and .env.example against the declaration.

How a field is read, by its type: `int` is a whole number `>= ge` (0 unless given) and
`<= le` when given; `float` is a number > 0; `bool` is true/false (also 1/0, yes/no,
on/off); `str` is non-empty unless `required=False`, one of `choices`, matching `pattern`,
or a URL of one of `schemes`. Anything else names its reader (`read=`).
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal, get_type_hints
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = ROOT / "config.toml"
MASK = "**********"
PRODUCTION: Final = "production"  # `required=PRODUCTION`: required in production mode only


class ConfigError(Exception):
    """A missing or invalid setting; the message is one line naming the key."""


class Secret:
    """A string whose repr and str never show the value (starlette's `Secret` idea)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value itself; only for the place that uses it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def mask_url(url: str) -> str:
    """The URL with any password replaced by the mask, for logs and reprs."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    return parts._replace(netloc=netloc).geturl()


# ---------------------------------------------------------------- the declaration

Reader = Callable[["_Reader", str, str], Any]


@dataclass(frozen=True, slots=True)
class Setting:
    """What a config field declares besides its type (see the module docstring)."""

    env: str | None = None
    ge: int = 0
    le: int | None = None
    required: bool | Literal["production"] = True
    choices: tuple[str, ...] = ()
    pattern: tuple[re.Pattern[str], str] | None = None  # (regex, message; {value} is the value)
    schemes: tuple[str, ...] = ()
    read: Reader | None = None


def setting(
    *,
    env: str | None = None,
    ge: int = 0,
    le: int | None = None,
    required: bool | Literal["production"] = True,
    choices: tuple[str, ...] = (),
    pattern: tuple[str, str] | None = None,
    schemes: tuple[str, ...] = (),
    read: Reader | None = None,
    repr: bool = True,
) -> Any:
    """Declare one setting: a dataclass field carrying its env name, bounds and reader."""
    compiled = (re.compile(pattern[0]), pattern[1]) if pattern else None
    meta = Setting(env, ge, le, required, choices, compiled, schemes, read)
    return field(repr=repr, metadata={"setting": meta})


_HTTP = ("http", "https")


def _where(section: str, key: str) -> str:
    declared = _BY_KEY.get((section, key))
    env = declared.setting.env if declared else None
    return f"{env} ({section}.{key})" if env else f"{section}.{key}"


def _one_of(choices: tuple[str, ...]) -> str:
    if len(choices) == 2:
        return f"{choices[0]} or {choices[1]}"
    return "one of " + ", ".join(sorted(choices))


def _url_problem(value: str, schemes: tuple[str, ...]) -> str | None:
    """Why `value` is not a URL of one of `schemes`, or None when it is."""
    parts = urlsplit(value)
    host_optional = parts.scheme == "unix"
    if parts.scheme not in schemes or not (parts.hostname or host_optional):
        allowed = ", ".join(sorted(f"{s}://" for s in schemes))
        return f"not a valid URL (expected {allowed}...)"
    try:
        _ = parts.port
    except ValueError:
        return "not a valid URL (bad port)"
    return None


class _Reader:
    """Reads typed values out of the merged raw settings, naming the key in every error."""

    def __init__(self, raw: dict[str, dict[str, Any]]) -> None:
        self.raw = raw
        self.production = False  # known once [app] is read

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.raw.get(section, {}).get(key, default)

    def required(self, section: str, key: str) -> bool:
        wanted = _BY_KEY[(section, key)].setting.required
        return self.production if wanted == PRODUCTION else bool(wanted)

    def declared(self, item: Declared) -> Any:
        """One declared setting, read by its reader or by its type."""
        section, key, meta = item.section, item.key, item.setting
        if meta.read is not None:
            return meta.read(self, section, key)
        if item.kind is bool:
            return self.bool_(section, key)
        if item.kind is int:
            return self.int_(section, key, minimum=meta.ge, maximum=meta.le)
        if item.kind is float:
            return self.float_(section, key)
        if item.kind is str:
            return self.text(section, key, meta)
        raise TypeError(f"{item.name}: declare how it is read (read=...)")

    def text(self, section: str, key: str, meta: Setting) -> str:
        value = self.str_(section, key, required=self.required(section, key))
        if not value:
            return value
        if meta.choices and value not in meta.choices:
            raise ConfigError(
                f"{_where(section, key)}: must be {_one_of(meta.choices)}, got {value!r}"
            )
        if meta.pattern and not meta.pattern[0].match(value):
            raise ConfigError(f"{_where(section, key)}: {meta.pattern[1].format(value=value)}")
        problem = _url_problem(value, meta.schemes) if meta.schemes else None
        if problem:
            raise ConfigError(f"{_where(section, key)}: {problem}")
        return value

    def str_(self, section: str, key: str, *, required: bool = True) -> str:
        value = self.get(section, key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{_where(section, key)}: expected a string")
        value = value.strip()
        if required and not value:
            raise ConfigError(f"{_where(section, key)}: required but empty")
        return value

    def int_(self, section: str, key: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.get(section, key)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{_where(section, key)}: expected an integer, got {value!r}"
            ) from None
        if number < minimum or (maximum is not None and number > maximum):
            bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise ConfigError(f"{_where(section, key)}: must be {bounds}, got {number}")
        return number

    def float_(self, section: str, key: str) -> float:
        value = self.get(section, key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{_where(section, key)}: expected a number, got {value!r}") from None
        if number <= 0:
            raise ConfigError(f"{_where(section, key)}: must be > 0")
        return number

    def bool_(self, section: str, key: str) -> bool:
        value = self.get(section, key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{_where(section, key)}: expected true or false, got {value!r}")

    def url(self, section: str, key: str) -> str:
        """A required http(s) URL."""
        value = self.str_(section, key)
        problem = _url_problem(value, _HTTP)
        if problem:
            raise ConfigError(f"{_where(section, key)}: {problem}")
        return value

    def items(self, section: str, key: str, *, array: bool = False) -> tuple[str, ...]:
        """A comma-separated string (or, with `array`, a TOML array), empty items dropped."""
        value = self.get(section, key, "")
        if array:
            parts = value if isinstance(value, list) else str(value).split(",")
        else:
            parts = self.str_(section, key, required=self.required(section, key)).split(",")
        return tuple(item for item in (str(p).strip() for p in parts) if item)

    def secret(self, section: str, key: str) -> Secret | None:
        """A secret string; an optional one that is empty is None."""
        value = self.str_(section, key, required=False)
        if value:
            return Secret(value)
        if self.required(section, key):
            raise ConfigError(f"{_where(section, key)}: required in production mode")
        return None

    def fernet_keys(self, section: str, key: str) -> tuple[Secret, ...]:
        keys = self.items(section, key, array=True)
        if self.required(section, key) and not keys:
            raise ConfigError(f"{_where(section, key)}: required in production mode")
        for index, item in enumerate(keys, start=1):
            try:
                Fernet(item.encode())
            except (ValueError, TypeError):
                raise ConfigError(
                    f"{_where(section, key)}: item {index} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        return tuple(Secret(k) for k in keys)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_SCOPE_RE = re.compile(r"^[a-z_]+$")


def _base_url(r: _Reader, section: str, key: str) -> str:
    return r.url(section, key).rstrip("/")


def _under_root(r: _Reader, section: str, key: str) -> Path:
    path = Path(r.str_(section, key))
    return path if path.is_absolute() else ROOT / path


def _scopes(r: _Reader, section: str, key: str) -> tuple[str, ...]:
    scopes = r.items(section, key)
    bad = [s for s in scopes if not _SCOPE_RE.match(s)]
    if bad:
        raise ConfigError(f"{_where(section, key)}: not a valid scope: {bad[0]!r}")
    return scopes


def _admin_origin(r: _Reader, section: str, key: str) -> str:
    origin = r.str_(section, key)
    if "{shop}" not in origin:
        raise ConfigError(f"{_where(section, key)}: must contain {{shop}}")
    problem = _url_problem(origin.replace("{shop}", "x.myshopify.com"), _HTTP)
    if problem:
        raise ConfigError(f"{_where(section, key)}: {problem}")
    return origin


def _session_secret(r: _Reader, section: str, key: str) -> Secret:
    keys = r.fernet_keys(section, key)
    if len(keys) > 1:
        raise ConfigError(f"{_where(section, key)}: expected one Fernet key")
    return keys[0] if keys else Secret("")


def _log_level(r: _Reader, section: str, key: str) -> str:
    level = r.str_(section, key).upper()
    if level not in _LEVELS:
        raise ConfigError(f"{_where(section, key)}: must be {_one_of(_LEVELS)}")
    return level


def _origins(r: _Reader, section: str, key: str) -> tuple[str, ...]:
    origins = tuple(item.rstrip("/") for item in r.items(section, key, array=True))
    for item in origins:
        parts = urlsplit(item)
        if parts.scheme not in _HTTP or not parts.hostname or parts.path:
            raise ConfigError(
                f"{_where(section, key)}: {item!r} is not an origin (https://host[:port])"
            )
    return origins


def _billing_plans(r: _Reader, section: str, key: str) -> tuple[BillingPlan, ...]:
    return _plans(r.get(section, key, []))


@dataclass(frozen=True, slots=True)
class AppConfig:
    env: str = setting(env="APP_ENV", choices=("development", PRODUCTION))
    host: str = setting(env="HOST")
    port: int = setting(env="PORT", le=65535)
    url: str = setting(env="SHOPIFY_APP_URL", read=_base_url)
    var_dir: Path = setting(env="VAR_DIR", read=_under_root)
    shutdown_timeout_s: float = setting()
    # 0: one per core in production, one in development
    web_processes: int = setting(env="WEB_PROCESSES", le=256)

    @property
    def production(self) -> bool:
        return self.env == PRODUCTION


@dataclass(frozen=True, slots=True)
class ShopifyConfig:
    api_key: str = setting(env="SHOPIFY_API_KEY")
    api_secret: Secret = setting(env="SHOPIFY_API_SECRET", read=_Reader.secret)
    # Accepted on signatures during a secret rotation.
    previous_api_secret: Secret | None = setting(
        env="SHOPIFY_PREVIOUS_API_SECRET", required=False, read=_Reader.secret
    )
    scopes: tuple[str, ...] = setting(env="SCOPES", read=_scopes)
    api_version: str = setting(
        env="SHOPIFY_API_VERSION",
        pattern=(r"^(\d{4}-(01|04|07|10)|unstable)$", "expected YYYY-MM, got {value!r}"),
    )
    admin_origin: str = setting(env="SHOPIFY_ADMIN_ORIGIN", read=_admin_origin)
    request_timeout_s: float = setting()
    # Token exchange gets staff members' online tokens by default, and the GraphQL proxy
    # gets one for a staff member who has none (it then always acts as that staff member).
    online_tokens: bool = setting(env="SHOPIFY_ONLINE_TOKENS")
    # What signatures from Shopify may be made with, made once: checked on every request.
    _signing_secrets: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = [self.api_secret.reveal()]
        if self.previous_api_secret:
            values.append(self.previous_api_secret.reveal())
        object.__setattr__(self, "_signing_secrets", tuple(values))

    def shop_origin(self, shop: str) -> str:
        """The origin of one shop's admin, e.g. https://x.myshopify.com."""
        return self.admin_origin.replace("{shop}", shop).rstrip("/")

    def api_secrets(self) -> tuple[str, ...]:
        """What signatures from Shopify may be made with: the secret, then the previous one
        (accepted during a secret rotation)."""
        return self._signing_secrets


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = setting(
        env="DATABASE_URL", required=False, schemes=("postgres", "postgresql"), repr=False
    )
    pool_min: int = setting(ge=1)
    pool_max: int = setting(ge=1)
    # PostgreSQL ends a session whose client host stopped answering (power lost, network
    # cut) after about this long, rolling back its transaction: what it had claimed
    # (FOR UPDATE) is free again. Without it, TCP keeps such a session for 15 min to 2 h.
    # 0: the app sets nothing (the server's or a pooler's own settings apply).
    dead_peer_timeout_s: int = setting(ge=0)

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = setting(
        env="REDIS_URL", required=False, schemes=("redis", "rediss", "unix"), repr=False
    )

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    url: str = setting(
        env="BROKER_URL",
        required=False,
        schemes=("redis", "rediss", "amqp", "amqps"),
        repr=False,
    )
    processes: int = setting(env="WORKER_PROCESSES", ge=1)
    threads: int = setting(env="WORKER_THREADS", ge=1)
    queues: tuple[str, ...] = setting(env="WORKER_QUEUES", required=False, read=_Reader.items)
    # Redis broker key prefix: several deployments (or test runs) can share one Redis.
    namespace: str = setting(
        env="BROKER_NAMESPACE",
        pattern=(r"^[A-Za-z0-9_.:-]{1,64}$", "letters, digits, _ . : - only"),
    )

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    token_encryption_keys: tuple[Secret, ...] = setting(
        env="TOKEN_ENCRYPTION_KEYS", required=PRODUCTION, read=_Reader.fernet_keys
    )
    session_secret: Secret = setting(
        env="SESSION_SECRET", required=PRODUCTION, read=_session_secret
    )
    oauth_timestamp_window_s: int = setting(ge=1)
    # app proxy requests older (or newer) than this are refused
    proxy_timestamp_window_s: int = setting(ge=1)


@dataclass(frozen=True, slots=True)
class PixelConfig:
    max_event_bytes: int = setting(ge=1)
    max_request_bytes: int = setting(ge=1)
    max_events_per_request: int = setting(ge=1)
    max_string_chars: int = setting(ge=16)
    max_future_skew_s: int = setting()
    key_cache_ttl_s: float = setting()
    flush_interval_ms: int = setting(le=1000)
    flush_max_events: int = setting(ge=1)
    flush_max_bytes: int = setting(ge=1024)
    # a database that takes longer to commit a flush counts as down (503)
    commit_timeout_s: float = setting()
    retry_after_s: int = setting(ge=1)
    shop_events_per_s: int = setting(ge=1)
    shop_burst_events: int = setting(ge=1)
    ip_requests_per_s: int = setting(ge=1)
    ip_burst_requests: int = setting(ge=1)
    rate_lease_s: float = setting()
    # Behind a load balancer every request comes from it: trust the client address it
    # appends to X-Forwarded-For (the right-most entry) for the per-IP limit.
    trust_forwarded_for: bool = setting(env="PIXEL_TRUST_FORWARDED_FOR")


_LEVELS = ("CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING")


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = setting(env="LOG_LEVEL", read=_log_level)
    file: str = setting(env="LOG_FILE", required=False)
    file_max_bytes: int = setting(env="LOG_FILE_MAX_BYTES", ge=1024)
    file_backup_count: int = setting(env="LOG_FILE_BACKUP_COUNT", ge=1)
    access_log: bool = setting()
    background: bool = setting()  # the web process logs through a listener thread (see config.toml)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_body_bytes: int = setting(ge=1024)
    webhook_max_body_bytes: int = setting(ge=1024)
    graphql_max_body_bytes: int = setting(ge=1024)  # POST /api/graphql (the app home's queries)
    header_timeout_s: float = setting()  # a started request must finish its headers within this
    body_timeout_s: float = setting()  # ...and its body within this after the headers
    keepalive_timeout_s: float = setting()  # an idle connection is closed after this
    max_line_bytes: int = setting(ge=1024)  # request line
    max_field_bytes: int = setting(ge=1024)  # one header
    max_headers: int = setting(ge=16)


@dataclass(frozen=True, slots=True)
class RateLimitsConfig:
    """Per-route token buckets (see server/ratelimit.py); the pixel's are in PixelConfig."""

    auth_ip_per_s: int = setting(ge=1)
    auth_ip_burst: int = setting(ge=1)
    api_shop_per_s: int = setting(ge=1)
    api_shop_burst: int = setting(ge=1)
    webhook_shop_per_s: int = setting(ge=1)
    webhook_shop_burst: int = setting(ge=1)
    proxy_shop_per_s: int = setting(ge=1)  # /proxy/*: per shop, after the signature verified
    proxy_shop_burst: int = setting(ge=1)
    ext_shop_per_s: int = setting(ge=1)  # /ext/*: per shop, after the session token verified
    ext_shop_burst: int = setting(ge=1)
    flow_shop_per_s: int = setting(ge=1)  # /flow/actions/*: per shop, after the HMAC verified
    flow_shop_burst: int = setting(ge=1)
    # every other route (health, metrics, OpenAPI, unknown paths), per client IP
    ip_per_s: int = setting(ge=1)
    ip_burst: int = setting(ge=1)
    lease_s: float = setting()


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """Origins /api/* answers cross-origin (besides Shopify's extension CDN and the app's own)."""

    api_origins: tuple[str, ...] = setting(env="CORS_API_ORIGINS", read=_origins)


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Per-shop data sync: schedule, watermark overlap, bulk threshold, page sizes, leases."""

    # periodic incremental sync of every installed shop
    interval_s: int = setting(env="SYNC_INTERVAL_S", ge=1)
    # incremental syncs start this long before the last watermark
    overlap_s: int = setting(env="SYNC_OVERLAP_S", le=86_400)
    # a full sync of more objects than this uses a bulk operation
    bulk_threshold: int = setting(env="SYNC_BULK_THRESHOLD")
    products_page_size: int = setting(ge=1, le=250)
    orders_page_size: int = setting(ge=1, le=250)
    customers_page_size: int = setting(ge=1, le=250)
    write_batch: int = setting(ge=1, le=10_000)  # rows per upsert statement on the bulk path
    lease_s: int = setting(env="SYNC_LEASE_S", ge=1)  # renewed at every checkpoint
    bulk_timeout_s: int = setting(ge=1)
    bulk_poll_interval_s: float = setting()
    # API list pages in Redis (versioned per shop; the TTL only frees memory)
    cache_ttl_s: int = setting(ge=1)


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    """Durable intake: how committed work that no worker finished is found and retried."""

    # work not done this long after commit (or its last dispatch) is re-sent
    stale_after_s: float = setting(env="OUTBOX_STALE_AFTER_S")
    # how often each worker process looks for such work
    sweep_interval_s: float = setting(env="OUTBOX_SWEEP_INTERVAL_S")
    # a delivery or pixel day failing this often is marked failed
    max_attempts: int = setting(env="OUTBOX_MAX_ATTEMPTS", ge=1)
    retry_backoff_s: float = setting()  # first retry after this long, doubling...
    retry_backoff_max_s: float = setting()  # ...up to this
    # webhook payloads are purged this long after receipt
    payload_retention_s: int = setting(env="WEBHOOK_PAYLOAD_RETENTION_S", ge=60)
    # delivery rows (the dedup key) are deleted this long after receipt; at least the above
    dedup_retention_s: int = setting(env="WEBHOOK_DEDUP_RETENTION_S", ge=60)


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long what we store is kept (webhook payloads and delivery rows: OutboxConfig)."""

    # raw pixel events; whole daily partitions are dropped
    pixel_events_days: int = setting(env="PIXEL_EVENTS_RETENTION_DAYS", ge=31)
    # a customer's export stays downloadable this long
    privacy_exports_days: int = setting(env="PRIVACY_EXPORTS_RETENTION_DAYS", ge=1)
    # deletes guard against late, older updates this long
    sync_tombstones_days: int = setting(env="SYNC_TOMBSTONES_RETENTION_DAYS", ge=1)


BILLING_INTERVALS = ("EVERY_30_DAYS", "ANNUAL")
BILLING_KINDS = ("recurring", "one_time")
BILLING_MODES = ("api", "managed")


@dataclass(frozen=True, slots=True)
class BillingPlan:
    """One `[[billing.plans]]` entry: a recurring plan (with an optional usage line) or a
    one-time purchase. Amounts are Decimals in `currency`."""

    handle: str
    name: str
    kind: str  # "recurring" | "one_time"
    amount: Decimal
    currency: str
    interval: str | None = None  # recurring only: EVERY_30_DAYS | ANNUAL
    trial_days: int = 0
    usage_capped_amount: Decimal | None = None
    usage_terms: str | None = None
    price_per_1000_events: Decimal | None = None
    included_events: int = 0

    @property
    def metered(self) -> bool:
        """Pixel events beyond `included_events` are charged as usage."""
        return self.price_per_1000_events is not None


_HANDLE = (r"^[a-z0-9][a-z0-9_-]{0,63}$", "not an app handle ({value!r})")


@dataclass(frozen=True, slots=True)
class BillingConfig:
    """Charging merchants through Shopify's Billing API (server/billing/)."""

    # /api/* answers 402 for a shop without an active plan
    required: bool = setting(env="BILLING_REQUIRED")
    # charges are created as test charges, and test charges count as active (default: true
    # unless in production mode)
    test: bool = setting(env="BILLING_TEST")
    # "api": the app creates charges; "managed": Shopify's managed pricing page
    mode: str = setting(env="BILLING_MODE", choices=BILLING_MODES)
    # the app's handle in Shopify's admin URLs (required in managed mode)
    app_handle: str = setting(env="BILLING_APP_HANDLE", required=False, pattern=_HANDLE)
    plans: tuple[BillingPlan, ...] = setting(read=_billing_plans)

    def plan(self, handle: str) -> BillingPlan | None:
        """The plan with this handle, if configured."""
        return next((p for p in self.plans if p.handle == handle), None)

    def plan_named(self, name: str) -> BillingPlan | None:
        """The plan whose `name` Shopify shows on a charge (charges carry the name)."""
        return next((p for p in self.plans if p.name == name), None)


@dataclass(frozen=True, slots=True)
class Config:
    """Every section, each a `[section]` of config.toml."""

    app: AppConfig
    shopify: ShopifyConfig
    database: DatabaseConfig
    redis: RedisConfig
    broker: BrokerConfig
    security: SecurityConfig
    pixel: PixelConfig
    logging: LoggingConfig
    limits: LimitsConfig
    sync: SyncConfig
    outbox: OutboxConfig
    retention: RetentionConfig
    rate_limits: RateLimitsConfig
    cors: CorsConfig
    billing: BillingConfig

    @property
    def broker_url(self) -> str:
        """The broker URL in force: BROKER_URL, else REDIS_URL."""
        return self.broker.url or self.redis.url

    def with_stores(self, *, database_url: str, redis_url: str) -> Config:
        """A copy pointing at the given stores (used once embedded stores are up)."""
        return replace(
            self,
            database=replace(self.database, url=database_url),
            redis=replace(self.redis, url=redis_url),
        )

    def secret_values(self) -> list[str]:
        """Every secret string in the config, for the log masking filter."""
        values = [*self.shopify.api_secrets(), self.security.session_secret.reveal()]
        values.extend(k.reveal() for k in self.security.token_encryption_keys)
        for url in (self.database.url, self.redis.url, self.broker.url):
            password = urlsplit(url).password if url else None
            if password:
                values.append(password)
        return [v for v in values if v]


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared setting: where it lives, its type and its declaration."""

    section: str
    key: str
    kind: Any
    setting: Setting

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


# section name -> its dataclass, in Config's order
_SECTIONS: Final[dict[str, Any]] = {
    name: kind
    for name, kind in get_type_hints(Config).items()
    if name in Config.__dataclass_fields__
}


def _declared() -> tuple[Declared, ...]:
    found: list[Declared] = []
    for part in fields(Config):
        cls = _SECTIONS[part.name]
        kinds = get_type_hints(cls)
        found.extend(
            Declared(part.name, item.name, kinds[item.name], item.metadata["setting"])
            for item in fields(cls)
            if item.init
        )
    return tuple(found)


# Every setting, in section order: what load_config reads and the docs are checked against.
SETTINGS: Final[tuple[Declared, ...]] = _declared()
# env name -> (section, key). DESIGN.md's names are a contract; the others are ours.
ENV_OVERRIDES: Final[dict[str, tuple[str, str]]] = {
    d.setting.env: (d.section, d.key) for d in SETTINGS if d.setting.env
}
_BY_KEY = {(d.section, d.key): d for d in SETTINGS}


# ---------------------------------------------------------------- loading


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"CONFIG_FILE: {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"CONFIG_FILE: {path} is not valid TOML ({e})") from None


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    """Secrets for development mode, made once and kept in var/ so restarts can decrypt."""
    path = var_dir / "dev-secrets.toml"
    if path.exists():
        with path.open("rb") as fh:
            return {k: str(v) for k, v in tomllib.load(fh).items()}
    values = {
        "api_secret": secrets.token_hex(32),
        "token_encryption_keys": Fernet.generate_key().decode(),
        "session_secret": Fernet.generate_key().decode(),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# generated for development mode; never use in production\n")
        fh.writelines(f'{k} = "{v}"\n' for k, v in values.items())
    return values


_DEV_SECRETS = (
    ("shopify", "api_secret"),
    ("security", "token_encryption_keys"),
    ("security", "session_secret"),
)


def _fill_dev_secrets(raw: dict[str, dict[str, Any]], var_dir: Path) -> None:
    """Development only: generate the missing secrets once into var/ (a developer can still
    set any of them)."""
    needs = [(s, k) for s, k in _DEV_SECRETS if not str(raw.get(s, {}).get(k, "")).strip()]
    if needs:
        dev = _dev_secrets(var_dir)
        for section, key in needs:
            raw.setdefault(section, {})[key] = dev[key]


def _section(r: _Reader, name: str) -> Any:
    return _SECTIONS[name](**{d.key: r.declared(d) for d in SETTINGS if d.section == name})


def load_config(environ: Mapping[str, str] | None = None, *, path: Path | None = None) -> Config:
    """Build the config from config.toml and the environment; raise ConfigError on bad input."""
    env = os.environ if environ is None else environ
    path = path or Path(env.get("CONFIG_FILE") or DEFAULT_CONFIG_FILE)
    raw = _read_toml(path)
    for name, (section, key) in ENV_OVERRIDES.items():
        if name in env:
            raw.setdefault(section, {})[key] = env[name]
    r = _Reader(raw)
    app: AppConfig = _section(r, "app")
    r.production = app.production
    if not app.production:
        _fill_dev_secrets(raw, app.var_dir)
    raw.setdefault("billing", {}).setdefault("test", not app.production)
    sections = {"app": app, **{f.name: _section(r, f.name) for f in fields(Config)[1:]}}
    config = Config(**sections)
    _check(config)
    return config


def _check(config: Config) -> None:
    """The rules between settings."""
    outbox, billing = config.outbox, config.billing
    if outbox.dedup_retention_s < outbox.payload_retention_s:
        raise ConfigError(
            f"{_where('outbox', 'dedup_retention_s')}: must be at least "
            "outbox.payload_retention_s (the dedup key outlives the payload)"
        )
    if billing.mode == "managed" and not billing.app_handle:
        raise ConfigError(f"{_where('billing', 'app_handle')}: required with BILLING_MODE=managed")
    recurring = any(p.kind == "recurring" for p in billing.plans)
    if billing.required and billing.mode == "api" and not recurring:
        raise ConfigError(
            f"{_where('billing', 'required')}: needs at least one recurring [[billing.plans]]"
        )


# ---------------------------------------------------------------- [[billing.plans]]

_HANDLE_RE = re.compile(_HANDLE[0])
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_PLAN_KEYS = frozenset(f.name for f in fields(BillingPlan))
MAX_TRIAL_DAYS = 1000  # Shopify's own bound on trialDays


def _plans(raw_plans: Any) -> tuple[BillingPlan, ...]:
    if not isinstance(raw_plans, list) or not all(isinstance(p, dict) for p in raw_plans):
        raise ConfigError("billing.plans: expected [[billing.plans]] tables")
    plans = tuple(_plan(raw, f"billing.plans[{i}]") for i, raw in enumerate(raw_plans))
    seen: set[str] = set()
    for index, plan in enumerate(plans):
        for value in (plan.handle, plan.name):
            if value in seen:
                raise ConfigError(f"billing.plans[{index}]: {value!r} is used by another plan")
            seen.add(value)
    return plans


def _money(raw: dict[str, Any], where: str, key: str, *, positive: bool = True) -> Decimal:
    value = raw.get(key)
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}.{key}: expected an amount, got {value!r}") from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ConfigError(f"{where}.{key}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    if amount != amount.quantize(Decimal("0.0001")):
        raise ConfigError(f"{where}.{key}: at most 4 decimal places, got {value!r}")
    return amount


def _plan_int(raw: dict[str, Any], where: str, key: str, maximum: int | None) -> int:
    value = raw.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}.{key}: expected a whole number >= 0, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{where}.{key}: at most {maximum}, got {value}")
    return value


def _plan_str(raw: dict[str, Any], where: str, key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key}: required (a non-empty string)")
    return value.strip()


def _plan(raw: dict[str, Any], where: str) -> BillingPlan:
    unknown = sorted(set(raw) - _PLAN_KEYS)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: not a plan setting")
    handle = _plan_str(raw, where, "handle")
    if not _HANDLE_RE.match(handle):
        raise ConfigError(f"{where}.handle: lowercase letters, digits, - and _ only ({handle!r})")
    kind = _plan_str(raw, where, "kind")
    if kind not in BILLING_KINDS:
        raise ConfigError(f"{where}.kind: must be recurring or one_time, got {kind!r}")
    currency = _plan_str(raw, where, "currency")
    if not _CURRENCY_RE.match(currency):
        raise ConfigError(f"{where}.currency: a 3-letter ISO code like USD, got {currency!r}")
    usage_keys = ("usage_capped_amount", "usage_terms", "price_per_1000_events", "included_events")
    if kind == "one_time":
        extra = next((k for k in ("interval", "trial_days", *usage_keys) if k in raw), None)
        if extra:
            raise ConfigError(f"{where}.{extra}: only for recurring plans")
        return BillingPlan(
            handle=handle,
            name=_plan_str(raw, where, "name"),
            kind=kind,
            amount=_money(raw, where, "amount"),
            currency=currency,
        )
    interval = raw.get("interval", "EVERY_30_DAYS")
    if interval not in BILLING_INTERVALS:
        raise ConfigError(f"{where}.interval: must be EVERY_30_DAYS or ANNUAL, got {interval!r}")
    capped = _money(raw, where, "usage_capped_amount") if "usage_capped_amount" in raw else None
    terms = _plan_str(raw, where, "usage_terms") if "usage_terms" in raw else None
    if (capped is None) != (terms is None):
        missing = "usage_terms" if terms is None else "usage_capped_amount"
        raise ConfigError(f"{where}.{missing}: a usage line needs both a cap and its terms")
    if capped is not None and interval != "EVERY_30_DAYS":
        raise ConfigError(f"{where}.interval: Shopify bills usage every 30 days only")
    price = _money(raw, where, "price_per_1000_events") if "price_per_1000_events" in raw else None
    if price is not None and capped is None:
        raise ConfigError(f"{where}.price_per_1000_events: needs usage_capped_amount and terms")
    if "included_events" in raw and price is None:
        raise ConfigError(f"{where}.included_events: only with price_per_1000_events")
    amount = _money(raw, where, "amount", positive=False)
    if amount == 0 and capped is None:
        raise ConfigError(f"{where}.amount: must be > 0 (or the plan needs a usage line)")
    return BillingPlan(
        handle=handle,
        name=_plan_str(raw, where, "name"),
        kind=kind,
        amount=amount,
        currency=currency,
        interval=interval,
        trial_days=_plan_int(raw, where, "trial_days", MAX_TRIAL_DAYS),
        usage_capped_amount=capped,
        usage_terms=terms,
        price_per_1000_events=price,
        included_events=_plan_int(raw, where, "included_events", None),
    )
