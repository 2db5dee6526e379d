"""Loading client settings from a TOML file and ``PYFETCH_*`` environment variables."""

import os
from dataclasses import dataclass, fields

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

from .errors import ConfigError

ENV_PREFIX = "PYFETCH_"
DEFAULT_CONFIG_PATH = os.path.expanduser("~/.config/pyfetch/config.toml")


@dataclass
class Settings:
    base_url: str = ""
    timeout: float = 10.0
    max_attempts: int = 4
    backoff_base: float = 0.25
    cache_ttl: float = 60.0
    cache_max_entries: int = 256
    rate_limit: float = 0.0
    user_agent: str = "pyfetch/0.4"
    verify_tls: bool = True


def _coerce(value, target_type, name):
    if target_type is bool:
        lowered = str(value).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected a boolean, got {value!r}")
    try:
        return target_type(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot convert {value!r} to {target_type.__name__}") from exc


def load_toml(path):
    if tomllib is None:
        raise ConfigError("reading TOML requires Python 3.11 or newer")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return data.get("pyfetch", data)


def env_overrides(environ=None):
    """Collect settings from environment variables like ``PYFETCH_CACHE_TTL=30``."""
    environ = os.environ if environ is None else environ
    overrides = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            overrides[key[len(ENV_PREFIX):].lower()] = value
    return overrides


def load_settings(path=None, environ=None):
    """Build :class:`Settings`: defaults, then the TOML file, then environment variables.

    Later sources win. Unknown keys raise :class:`ConfigError` so typos do not
    go unnoticed.
    """
    merged = {}
    merged.update(load_toml(path or os.environ.get("PYFETCH_CONFIG", DEFAULT_CONFIG_PATH)))
    merged.update(env_overrides(environ))
    merged.pop("config", None)
    known = {f.name: f.type for f in fields(Settings)}
    values = {}
    for name, raw in merged.items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(raw, known[name], name)
    return Settings(**values)
