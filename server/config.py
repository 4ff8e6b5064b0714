"""Typed, frozen configuration: defaults from config.toml, overridden by environment variables."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, get_type_hints
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = ROOT / "config.toml"
MASK = "**********"

# env name -> (section, key). DESIGN.md's names are a contract; the others are ours.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "APP_ENV": ("app", "env"),
    "HOST": ("app", "host"),
    "PORT": ("app", "port"),
    "SHOPIFY_APP_URL": ("app", "url"),
    "VAR_DIR": ("app", "var_dir"),
    "WEB_PROCESSES": ("app", "web_processes"),
    "SHOPIFY_API_KEY": ("shopify", "api_key"),
    "SHOPIFY_API_SECRET": ("shopify", "api_secret"),
    "SHOPIFY_PREVIOUS_API_SECRET": ("shopify", "previous_api_secret"),
    "SCOPES": ("shopify", "scopes"),
    "SHOPIFY_API_VERSION": ("shopify", "api_version"),
    "SHOPIFY_ADMIN_ORIGIN": ("shopify", "admin_origin"),
    "SHOPIFY_ONLINE_TOKENS": ("shopify", "online_tokens"),
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("redis", "url"),
    "BROKER_URL": ("broker", "url"),
    "WORKER_PROCESSES": ("broker", "processes"),
    "WORKER_THREADS": ("broker", "threads"),
    "WORKER_QUEUES": ("broker", "queues"),
    "BROKER_NAMESPACE": ("broker", "namespace"),
    "TOKEN_ENCRYPTION_KEYS": ("security", "token_encryption_keys"),
    "SESSION_SECRET": ("security", "session_secret"),
    "SYNC_INTERVAL_S": ("sync", "interval_s"),
    "SYNC_OVERLAP_S": ("sync", "overlap_s"),
    "SYNC_BULK_THRESHOLD": ("sync", "bulk_threshold"),
    "SYNC_LEASE_S": ("sync", "lease_s"),
    "OUTBOX_STALE_AFTER_S": ("outbox", "stale_after_s"),
    "OUTBOX_SWEEP_INTERVAL_S": ("outbox", "sweep_interval_s"),
    "OUTBOX_MAX_ATTEMPTS": ("outbox", "max_attempts"),
    "WEBHOOK_PAYLOAD_RETENTION_S": ("outbox", "payload_retention_s"),
    "WEBHOOK_DEDUP_RETENTION_S": ("outbox", "dedup_retention_s"),
    "PIXEL_EVENTS_RETENTION_DAYS": ("retention", "pixel_events_days"),
    "PRIVACY_EXPORTS_RETENTION_DAYS": ("retention", "privacy_exports_days"),
    "SYNC_TOMBSTONES_RETENTION_DAYS": ("retention", "sync_tombstones_days"),
    "PIXEL_TRUST_FORWARDED_FOR": ("pixel", "trust_forwarded_for"),
    "CORS_API_ORIGINS": ("cors", "api_origins"),
    "LOG_LEVEL": ("logging", "level"),
    "LOG_FILE": ("logging", "file"),
    "LOG_FILE_MAX_BYTES": ("logging", "file_max_bytes"),
    "LOG_FILE_BACKUP_COUNT": ("logging", "file_backup_count"),
    "BILLING_REQUIRED": ("billing", "required"),
    "BILLING_TEST": ("billing", "test"),
    "BILLING_MODE": ("billing", "mode"),
    "BILLING_APP_HANDLE": ("billing", "app_handle"),
}
_ENV_BY_KEY = {v: k for k, v in ENV_OVERRIDES.items()}
_S = TypeVar("_S")


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


@dataclass(frozen=True, slots=True)
class AppConfig:
    env: str
    host: str
    port: int
    url: str
    var_dir: Path
    shutdown_timeout_s: float
    web_processes: int  # 0: one per core in production, one in development

    @property
    def production(self) -> bool:
        return self.env == "production"


@dataclass(frozen=True, slots=True)
class ShopifyConfig:
    api_key: str
    api_secret: Secret
    previous_api_secret: Secret | None
    scopes: tuple[str, ...]
    api_version: str
    admin_origin: str
    request_timeout_s: float
    # Token exchange gets staff members' online tokens by default, and the GraphQL proxy
    # gets one for a staff member who has none (it then always acts as that staff member).
    online_tokens: bool

    def shop_origin(self, shop: str) -> str:
        """The origin of one shop's admin, e.g. https://x.myshopify.com."""
        return self.admin_origin.replace("{shop}", shop).rstrip("/")

    def api_secrets(self) -> list[str]:
        """What signatures from Shopify may be made with: the secret, then the previous one
        (accepted during a secret rotation)."""
        values = [self.api_secret.reveal()]
        if self.previous_api_secret:
            values.append(self.previous_api_secret.reveal())
        return values


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = field(repr=False)
    pool_min: int
    pool_max: int
    # PostgreSQL ends a session whose client host stopped answering (power lost, network
    # cut) after about this long, rolling back its transaction: what it had claimed
    # (FOR UPDATE) is free again. Without it, TCP keeps such a session for 15 min to 2 h.
    # 0: the app sets nothing (the server's or a pooler's own settings apply).
    dead_peer_timeout_s: int

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = field(repr=False)

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    url: str = field(repr=False)
    processes: int
    threads: int
    queues: tuple[str, ...]
    # Redis broker key prefix: several deployments (or test runs) can share one Redis.
    namespace: str

    @property
    def display_url(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    token_encryption_keys: tuple[Secret, ...]
    session_secret: Secret
    oauth_timestamp_window_s: int
    proxy_timestamp_window_s: int  # app proxy requests older (or newer) than this are refused


@dataclass(frozen=True, slots=True)
class PixelConfig:
    max_event_bytes: int
    max_request_bytes: int
    max_events_per_request: int
    max_string_chars: int
    max_future_skew_s: int
    key_cache_ttl_s: float
    flush_interval_ms: int
    flush_max_events: int
    flush_max_bytes: int
    commit_timeout_s: float  # a database that takes longer to commit a flush counts as down (503)
    retry_after_s: int
    shop_events_per_s: int
    shop_burst_events: int
    ip_requests_per_s: int
    ip_burst_requests: int
    rate_lease_s: float
    # Behind a load balancer every request comes from it: trust the client address it
    # appends to X-Forwarded-For (the right-most entry) for the per-IP limit.
    trust_forwarded_for: bool


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str
    file: str
    file_max_bytes: int
    file_backup_count: int
    access_log: bool
    background: bool  # the web process logs through a listener thread (see config.toml)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_body_bytes: int
    webhook_max_body_bytes: int
    graphql_max_body_bytes: int  # POST /api/graphql (the app home's queries)
    header_timeout_s: float  # a started request must finish its headers within this
    body_timeout_s: float  # ...and its body within this after the headers
    keepalive_timeout_s: float  # an idle connection is closed after this
    max_line_bytes: int  # request line
    max_field_bytes: int  # one header
    max_headers: int


@dataclass(frozen=True, slots=True)
class RateLimitsConfig:
    """Per-route token buckets (see server/ratelimit.py); the pixel's are in PixelConfig."""

    auth_ip_per_s: int
    auth_ip_burst: int
    api_shop_per_s: int
    api_shop_burst: int
    webhook_shop_per_s: int
    webhook_shop_burst: int
    proxy_shop_per_s: int  # /proxy/*: per shop, after the signature verified
    proxy_shop_burst: int
    ext_shop_per_s: int  # /ext/*: per shop, after the session token verified
    ext_shop_burst: int
    flow_shop_per_s: int  # /flow/actions/*: per shop, after the HMAC verified
    flow_shop_burst: int
    ip_per_s: int  # every other route (health, metrics, OpenAPI, unknown paths), per client IP
    ip_burst: int
    lease_s: float


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """Origins /api/* answers cross-origin (besides Shopify's extension CDN and the app's own)."""

    api_origins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Per-shop data sync: schedule, watermark overlap, bulk threshold, page sizes, leases."""

    interval_s: int  # periodic incremental sync of every installed shop
    overlap_s: int  # incremental syncs start this long before the last watermark
    bulk_threshold: int  # a full sync of more objects than this uses a bulk operation
    products_page_size: int
    orders_page_size: int
    customers_page_size: int
    write_batch: int  # rows per upsert statement on the bulk path
    lease_s: int  # a sync's lock lease, renewed at every checkpoint
    bulk_timeout_s: int
    bulk_poll_interval_s: float
    cache_ttl_s: int  # API list pages in Redis (versioned per shop; the TTL only frees memory)


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    """Durable intake: how committed work that no worker finished is found and retried."""

    stale_after_s: float  # work not done this long after commit (or its last dispatch) is re-sent
    sweep_interval_s: float  # how often each worker process looks for such work
    max_attempts: int  # a delivery or pixel day failing this often is marked failed
    retry_backoff_s: float  # first retry after this long, doubling...
    retry_backoff_max_s: float  # ...up to this
    payload_retention_s: int  # webhook payloads are purged this long after receipt
    dedup_retention_s: int  # delivery rows (the dedup key) are deleted this long after receipt


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long what we store is kept (webhook payloads and delivery rows: OutboxConfig)."""

    pixel_events_days: int  # raw pixel events; whole daily partitions are dropped
    privacy_exports_days: int  # a customer's export stays downloadable this long
    sync_tombstones_days: int  # deletes guard against late, older updates this long


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


@dataclass(frozen=True, slots=True)
class BillingConfig:
    """Charging merchants through Shopify's Billing API (server/billing/)."""

    required: bool  # /api/* answers 402 for a shop without an active plan
    test: bool  # charges are created as test charges, and test charges count as active
    mode: str  # "api": the app creates charges; "managed": Shopify's managed pricing page
    app_handle: str  # the app's handle in Shopify's admin URLs (managed pricing)
    plans: tuple[BillingPlan, ...]

    def plan(self, handle: str) -> BillingPlan | None:
        """The plan with this handle, if configured."""
        return next((p for p in self.plans if p.handle == handle), None)

    def plan_named(self, name: str) -> BillingPlan | None:
        """The plan whose `name` Shopify shows on a charge (charges carry the name)."""
        return next((p for p in self.plans if p.name == name), None)


@dataclass(frozen=True, slots=True)
class Config:
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


# ---------------------------------------------------------------- loading


def _where(section: str, key: str) -> str:
    env = _ENV_BY_KEY.get((section, key))
    return f"{env} ({section}.{key})" if env else f"{section}.{key}"


class _Reader:
    """Reads typed values out of the merged raw settings, naming the key in every error."""

    def __init__(self, raw: dict[str, dict[str, Any]]) -> None:
        self.raw = raw

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.raw.get(section, {}).get(key, default)

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
        if isinstance(value, str) and value.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{_where(section, key)}: expected true or false, got {value!r}")

    def url(self, section: str, key: str, *, schemes: set[str], required: bool = True) -> str:
        value = self.str_(section, key, required=required)
        if not value:
            return value
        parts = urlsplit(value)
        host_optional = parts.scheme == "unix"
        if parts.scheme not in schemes or not (parts.hostname or host_optional):
            allowed = ", ".join(sorted(f"{s}://" for s in schemes))
            raise ConfigError(f"{_where(section, key)}: not a valid URL (expected {allowed}...)")
        try:
            _ = parts.port
        except ValueError:
            raise ConfigError(f"{_where(section, key)}: not a valid URL (bad port)") from None
        return value

    def secret(self, section: str, key: str, *, required: bool) -> Secret:
        value = self.str_(section, key, required=False)
        if required and not value:
            raise ConfigError(f"{_where(section, key)}: required in production mode")
        return Secret(value)

    def fernet_keys(self, section: str, key: str, *, required: bool) -> tuple[Secret, ...]:
        value = self.get(section, key, "")
        items = value if isinstance(value, list) else str(value).split(",")
        keys = tuple(k.strip() for k in items if str(k).strip())
        if required and not keys:
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


_VERSION_RE = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
_SCOPE_RE = re.compile(r"^[a-z_]+$")
_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def load_config(environ: Mapping[str, str] | None = None, *, path: Path | None = None) -> Config:
    """Build the config from config.toml and the environment; raise ConfigError on bad input."""
    env = os.environ if environ is None else environ
    path = path or Path(env.get("CONFIG_FILE") or DEFAULT_CONFIG_FILE)
    raw = _read_toml(path)
    for name, (section, key) in ENV_OVERRIDES.items():
        if name in env:
            raw.setdefault(section, {})[key] = env[name]
    r = _Reader(raw)
    app = _app(r)
    if not app.production:
        _fill_dev_secrets(r, app.var_dir)
    return Config(
        app=app,
        shopify=_shopify(r),
        database=DatabaseConfig(
            url=r.url("database", "url", schemes={"postgres", "postgresql"}, required=False),
            pool_min=r.int_("database", "pool_min", minimum=1),
            pool_max=r.int_("database", "pool_max", minimum=1),
            dead_peer_timeout_s=r.int_("database", "dead_peer_timeout_s", minimum=0),
        ),
        redis=RedisConfig(
            url=r.url("redis", "url", schemes={"redis", "rediss", "unix"}, required=False)
        ),
        broker=_broker(r),
        security=SecurityConfig(
            token_encryption_keys=r.fernet_keys(
                "security", "token_encryption_keys", required=app.production
            ),
            session_secret=_session_secret(r, required=app.production),
            oauth_timestamp_window_s=r.int_("security", "oauth_timestamp_window_s", minimum=1),
            proxy_timestamp_window_s=r.int_("security", "proxy_timestamp_window_s", minimum=1),
        ),
        pixel=_section(
            r,
            PixelConfig,
            "pixel",
            minimum=1,
            bounds={
                "max_string_chars": (16, None),
                "max_future_skew_s": (0, None),
                "flush_interval_ms": (0, 1000),
                "flush_max_bytes": (1024, None),
            },
        ),
        logging=_section(
            r,
            LoggingConfig,
            "logging",
            minimum=1024,
            bounds={"file_backup_count": (1, None)},
            level=_log_level(r),
            file=r.str_("logging", "file", required=False),
        ),
        limits=_section(
            r, LimitsConfig, "limits", minimum=1024, bounds={"max_headers": (16, None)}
        ),
        rate_limits=_section(r, RateLimitsConfig, "rate_limits", minimum=1),
        cors=CorsConfig(api_origins=_origins(r)),
        sync=_section(
            r,
            SyncConfig,
            "sync",
            minimum=1,
            bounds={
                "overlap_s": (0, 86_400),
                "bulk_threshold": (0, None),
                "products_page_size": (1, 250),
                "orders_page_size": (1, 250),
                "customers_page_size": (1, 250),
                "write_batch": (1, 10_000),
            },
        ),
        outbox=_outbox(r),
        retention=_section(
            r, RetentionConfig, "retention", minimum=1, bounds={"pixel_events_days": (31, None)}
        ),
        billing=_billing(r, production=app.production),
    )


def _section(
    r: _Reader,
    cls: type[_S],
    section: str,
    *,
    minimum: int = 0,
    bounds: dict[str, tuple[int, int | None]] | None = None,
    **given: Any,
) -> _S:
    """A section read field by field from its dataclass: each field is the key of the same
    name, read by its type (int, float, bool, str); an int is at least `minimum` unless
    `bounds` gives its (minimum, maximum). `given` supplies fields read some other way."""
    types = get_type_hints(cls)
    values = dict(given)
    for item in fields(cls):  # type: ignore[arg-type]
        if item.name in values:
            continue
        kind = types[item.name]
        if kind is bool:
            values[item.name] = r.bool_(section, item.name)
        elif kind is int:
            low, high = (bounds or {}).get(item.name, (minimum, None))
            values[item.name] = r.int_(section, item.name, minimum=low, maximum=high)
        elif kind is float:
            values[item.name] = r.float_(section, item.name)
        elif kind is str:
            values[item.name] = r.str_(section, item.name)
        else:
            raise TypeError(f"{cls.__name__}.{item.name}: read it yourself and pass it in")
    return cls(**values)


def _app(r: _Reader) -> AppConfig:
    app_env = r.str_("app", "env")
    if app_env not in {"development", "production"}:
        raise ConfigError(f"{_where('app', 'env')}: must be development or production")
    var_dir = Path(r.str_("app", "var_dir"))
    return AppConfig(
        env=app_env,
        host=r.str_("app", "host"),
        port=r.int_("app", "port", maximum=65535),
        url=r.url("app", "url", schemes={"http", "https"}).rstrip("/"),
        var_dir=var_dir if var_dir.is_absolute() else ROOT / var_dir,
        shutdown_timeout_s=r.float_("app", "shutdown_timeout_s"),
        web_processes=r.int_("app", "web_processes", maximum=256),
    )


def _fill_dev_secrets(r: _Reader, var_dir: Path) -> None:
    """Development only: generate the missing secrets once into var/ (a developer can still
    set any of them)."""
    needs = [
        (section, key)
        for section, key in (
            ("shopify", "api_secret"),
            ("security", "token_encryption_keys"),
            ("security", "session_secret"),
        )
        if not str(r.get(section, key, "")).strip()
    ]
    if needs:
        dev = _dev_secrets(var_dir)
        for section, key in needs:
            r.raw.setdefault(section, {})[key] = dev[key]


def _shopify(r: _Reader) -> ShopifyConfig:
    scopes = tuple(s.strip() for s in r.str_("shopify", "scopes").split(",") if s.strip())
    bad = [s for s in scopes if not _SCOPE_RE.match(s)]
    if bad:
        raise ConfigError(f"{_where('shopify', 'scopes')}: not a valid scope: {bad[0]!r}")
    api_version = r.str_("shopify", "api_version")
    if not _VERSION_RE.match(api_version):
        raise ConfigError(
            f"{_where('shopify', 'api_version')}: expected YYYY-MM, got {api_version!r}"
        )
    admin_origin = r.str_("shopify", "admin_origin")
    if "{shop}" not in admin_origin:
        raise ConfigError(f"{_where('shopify', 'admin_origin')}: must contain {{shop}}")
    r.raw["shopify"]["_origin_check"] = admin_origin.replace("{shop}", "x.myshopify.com")
    r.url("shopify", "_origin_check", schemes={"http", "https"})
    previous = r.str_("shopify", "previous_api_secret", required=False)
    return ShopifyConfig(
        api_key=r.str_("shopify", "api_key"),
        api_secret=r.secret("shopify", "api_secret", required=True),
        previous_api_secret=Secret(previous) if previous else None,
        scopes=scopes,
        api_version=api_version,
        admin_origin=admin_origin,
        request_timeout_s=r.float_("shopify", "request_timeout_s"),
        online_tokens=r.bool_("shopify", "online_tokens"),
    )


def _broker(r: _Reader) -> BrokerConfig:
    queues = r.str_("broker", "queues", required=False).split(",")
    return BrokerConfig(
        url=r.url("broker", "url", schemes={"redis", "rediss", "amqp", "amqps"}, required=False),
        processes=r.int_("broker", "processes", minimum=1),
        threads=r.int_("broker", "threads", minimum=1),
        queues=tuple(q.strip() for q in queues if q.strip()),
        namespace=_namespace(r),
    )


def _log_level(r: _Reader) -> str:
    level = r.str_("logging", "level").upper()
    if level not in _LEVELS:
        raise ConfigError(
            f"{_where('logging', 'level')}: must be one of {', '.join(sorted(_LEVELS))}"
        )
    return level


def _origins(r: _Reader) -> tuple[str, ...]:
    value = r.get("cors", "api_origins", "")
    items = value if isinstance(value, list) else str(value).split(",")
    origins = []
    for item in (str(i).strip().rstrip("/") for i in items):
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path:
            raise ConfigError(
                f"{_where('cors', 'api_origins')}: {item!r} is not an origin (https://host[:port])"
            )
        origins.append(item)
    return tuple(origins)


def _outbox(r: _Reader) -> OutboxConfig:
    outbox = _section(
        r,
        OutboxConfig,
        "outbox",
        bounds={
            "max_attempts": (1, None),
            "payload_retention_s": (60, None),
            "dedup_retention_s": (60, None),
        },
    )
    if outbox.dedup_retention_s < outbox.payload_retention_s:
        raise ConfigError(
            f"{_where('outbox', 'dedup_retention_s')}: must be at least "
            "outbox.payload_retention_s (the dedup key outlives the payload)"
        )
    if outbox.stale_after_s <= 0 or outbox.sweep_interval_s <= 0:
        raise ConfigError(
            f"{_where('outbox', 'stale_after_s')} and sweep_interval_s: must be positive"
        )
    return outbox


def _namespace(r: _Reader) -> str:
    value = r.str_("broker", "namespace")
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value):
        raise ConfigError(f"{_where('broker', 'namespace')}: letters, digits, _ . : - only")
    return value


def _session_secret(r: _Reader, *, required: bool) -> Secret:
    keys = r.fernet_keys("security", "session_secret", required=required)
    if len(keys) > 1:
        raise ConfigError(f"{_where('security', 'session_secret')}: expected one Fernet key")
    return keys[0] if keys else Secret("")


_HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_PLAN_KEYS = frozenset(f.name for f in fields(BillingPlan))
MAX_TRIAL_DAYS = 1000  # Shopify's own bound on trialDays


def _billing(r: _Reader, *, production: bool) -> BillingConfig:
    if "test" not in r.raw.get("billing", {}):
        r.raw.setdefault("billing", {})["test"] = not production
    mode = r.str_("billing", "mode")
    if mode not in BILLING_MODES:
        raise ConfigError(f"{_where('billing', 'mode')}: must be api or managed, got {mode!r}")
    app_handle = r.str_("billing", "app_handle", required=mode == "managed")
    if app_handle and not _HANDLE_RE.match(app_handle):
        raise ConfigError(f"{_where('billing', 'app_handle')}: not an app handle ({app_handle!r})")
    raw_plans = r.get("billing", "plans", [])
    if not isinstance(raw_plans, list) or not all(isinstance(p, dict) for p in raw_plans):
        raise ConfigError("billing.plans: expected [[billing.plans]] tables")
    plans = tuple(_plan(raw, f"billing.plans[{i}]") for i, raw in enumerate(raw_plans))
    seen: set[str] = set()
    for index, plan in enumerate(plans):
        for value in (plan.handle, plan.name):
            if value in seen:
                raise ConfigError(f"billing.plans[{index}]: {value!r} is used by another plan")
            seen.add(value)
    required = r.bool_("billing", "required")
    if required and mode == "api" and not any(p.kind == "recurring" for p in plans):
        raise ConfigError(
            f"{_where('billing', 'required')}: needs at least one recurring [[billing.plans]]"
        )
    return BillingConfig(
        required=required,
        test=r.bool_("billing", "test"),
        mode=mode,
        app_handle=app_handle,
        plans=plans,
    )


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
