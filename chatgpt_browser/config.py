"""Settings, timeouts and the site profile; only this module and `environ.py` read the environment.

Precedence, highest first: explicit arguments (CLI flags) > environment variables
(`CHATGPT_BROWSER_*`) > the TOML file (`--config`, `$CHATGPT_BROWSER_CONFIG`, or
`<config dir>/config.toml`) > built-in defaults.

`SiteProfile` and `Timeouts` live in `site_profile.py` and stay importable from here.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from .environ import (  # re-exported
    ENV_PREFIX,
    display_available,
    env,
    environment_network,
    optional_env_var,
    secret_from_env,
)
from .errors import ConfigError
from .settings_checks import check_settings, checked_hosts
from .site_profile import DEFAULT_USER_AGENT, SiteProfile, Timeouts  # re-exported

APP_NAME = "chatgpt-browser"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Resolved configuration of one CLI run or library user."""

    url: str = "https://chat.openai.com"
    email: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    #: The environment variable holding the password (TOML `password_env`), read only
    #: when a login needs it, so commands that never log in work without it.
    password_env: str | None = None
    totp_secret: str | None = dataclasses.field(default=None, repr=False)
    state_dir: Path | None = None
    store: str = "file"  # "file" or "redis"
    redis_url: str | None = None
    store_key: str | None = dataclasses.field(default=None, repr=False)
    executable: str | None = None
    headless: bool = True
    proxy: str | None = dataclasses.field(default=None, repr=False)
    cdp_url: str | None = None
    #: A private CA (PEM) to trust for the site: TLS-inspecting proxies, `emulator --tls`.
    ca_file: str | None = None
    min_ttl: float = 300.0
    renew_margin: float = 300.0
    timeouts: Timeouts = dataclasses.field(default_factory=Timeouts)
    #: The browser profile folder (default: <state_dir>/profiles/<account key>).
    profile_dir: Path | None = None
    #: Let the HTTP client use HTTPS_PROXY / REQUESTS_CA_BUNDLE / .netrc from the
    #: environment. Off by default: the clearance is bound to the egress IP the browser
    #: used, so a proxy picked up silently from the environment would break it.
    trust_env: bool = False
    #: Hosts of the site's login service that may show the login form and receive the
    #: password (`SiteProfile.auth_hosts`); the site's own host always may.
    auth_hosts: tuple[str, ...] = SiteProfile.auth_hosts
    #: Where `url` came from: "flag", "env", "file", "store" or "default" (the real site).
    url_source: str = "default"

    def __post_init__(self) -> None:
        if "@" in urlsplit(self.url).netloc:  # before it names a profile folder
            raise ConfigError("site URL must not contain a user name or password (user:password@host)")

    def site(self) -> SiteProfile:
        return SiteProfile(base_url=self.url, auth_hosts=self.auth_hosts)

    def resolved_password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The configured password: `password`, else the `password_env` variable (which
        must then be set), else None."""
        if self.password:
            return self.password
        if self.password_env:
            return secret_from_env(self.password_env, environ)
        return None

    def resolved_state_dir(self) -> Path:
        return self.state_dir if self.state_dir is not None else default_state_dir()


def default_state_dir() -> Path:
    """Per-user state folder (stores, browser profiles), e.g. ~/.local/state/chatgpt-browser."""
    override = os.environ.get(ENV_PREFIX + "STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs  # lazy: only needed when no folder was given

    return Path(platformdirs.user_state_dir(APP_NAME))


def default_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}
_TIMEOUT_FIELDS = {f.name for f in dataclasses.fields(Timeouts)}
_SETTING_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
# Environment variables for settings; secrets only ever come from here or a prompt.
_ENV_SETTINGS = (
    "url",
    "email",
    "password",
    "totp_secret",
    "state_dir",
    "store",
    "redis_url",
    "store_key",
    "executable",
    "headless",
    "proxy",
    "cdp_url",
    "ca_file",
    "min_ttl",
    "renew_margin",
    "profile_dir",
    "trust_env",
    "auth_hosts",
)
# Not settings a user gives: bookkeeping of load_settings().
_INTERNAL_FIELDS = ("url_source",)


#: TOML tables read by one command itself (`serve`: [[accounts]] and [serve]).
OTHER_TABLES = ("accounts", "serve")


def _coerce(name: str, value: object) -> object:
    if value is None:
        return None
    if name in ("state_dir", "profile_dir"):
        return Path(str(value)).expanduser()
    if name in ("headless", "trust_env"):
        if isinstance(value, bool):
            return value
        if str(value).lower() not in _BOOL:
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return _BOOL[str(value).lower()]
    if name == "auth_hosts":  # TOML list, env "a, b", flags repeated
        return checked_hosts(name, value)
    if name in ("min_ttl", "renew_margin"):
        try:
            return float(value)  # type: ignore[arg-type]  # a bad type is a ConfigError too
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from exc
    if (
        name == "store"
        and value not in ("file", "redis")
        and not str(value).startswith(("http://", "https://"))
    ):
        raise ConfigError(f"store must be 'file', 'redis' or a serve URL http(s)://host:port, got {value!r}")
    return str(value)


def _seconds(name: str, value: object) -> float:
    """A timeout from the TOML file or a flag: a finite number >= 0, else ConfigError."""
    try:
        number = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        seconds = float(value) if number else float("nan")  # type: ignore[arg-type]
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):  # also rejects NaN
        raise ConfigError(f"timeout {name} must be a number of seconds >= 0, got {value!r}")
    return seconds


def read_toml(path: str | Path) -> dict[str, object]:
    """The TOML document at `path` ({} when there is no file); ConfigError when it cannot
    be read or parsed. The parser is imported only when there is a file to parse."""
    path = Path(path).expanduser()
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the parser's import
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    with handle:
        try:
            return tomllib.load(handle)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid UTF-8 (byte {exc.start})") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def read_config_file(path: Path) -> dict[str, object]:
    """Parse the TOML file: top-level settings plus an optional [timeouts] table."""
    data = read_toml(path)
    unknown = (set(data) - set(_SETTING_FIELDS) - set(OTHER_TABLES)) | (set(data) & set(_INTERNAL_FIELDS))
    if unknown:
        raise ConfigError(f"unknown keys in {path}: {', '.join(sorted(unknown))}")
    if "password" in data:
        raise ConfigError(f"{path}: put no password in the config file; use password_env")
    return data


def load_settings(
    overrides: Mapping[str, object] | None = None,
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: `overrides` (flags; None values ignored) > env > TOML > defaults."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    explicit_file = config_file or env("CONFIG", environ)
    path = Path(explicit_file).expanduser() if explicit_file else default_config_file()
    if explicit_file and not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    file_values = read_config_file(path)

    values: dict[str, object] = {}
    timeouts: dict[str, float] = {}
    if "url" in file_values:
        values["url_source"] = "file"
    if env("URL", environ) is not None:
        values["url_source"] = "env"
    if overrides.get("url") is not None:
        values["url_source"] = "flag"
    _apply_file(path, file_values, values, timeouts)
    for key in _ENV_SETTINGS:
        value = env(key.upper(), environ)
        if value is not None:
            values[key] = _coerce(key, value)
    _apply_overrides(overrides, values, timeouts)
    values["timeouts"] = dataclasses.replace(Timeouts(), **timeouts)
    # Each value was checked for its field by `_coerce` / `_seconds`, not statically.
    settings = _settings(**values)
    settings.site()  # validate the URL early, with a clear error
    parts = urlsplit(settings.url)
    if parts.path.strip("/") or parts.query or parts.fragment:
        # e.g. ".../chat" pasted from the browser: every API path would land under it and 404.
        raise ConfigError(f"site URL must be the site's root, http(s)://host[:port], got {settings.url!r}")
    check_settings(settings)
    return settings


_settings: Callable[..., Settings] = Settings


def _apply_file(
    path: Path, file_values: Mapping[str, object], values: dict[str, object], timeouts: dict[str, float]
) -> None:
    """The TOML file's settings and [timeouts] table, checked."""
    for key, value in file_values.items():
        if key in OTHER_TABLES:
            continue
        if key == "timeouts":
            if not isinstance(value, dict) or set(value) - _TIMEOUT_FIELDS:
                raise ConfigError(f"{path}: [timeouts] takes {', '.join(sorted(_TIMEOUT_FIELDS))}")
            timeouts.update({k: _seconds(k, v) for k, v in value.items()})
        elif key == "password_env":
            values["password_env"] = str(value)
        else:
            values[key] = _coerce(key, value)


def _apply_overrides(
    overrides: Mapping[str, object], values: dict[str, object], timeouts: dict[str, float]
) -> None:
    """Flags (None: not given); a name that is no setting is a ConfigError."""
    for key, value in overrides.items():
        if value is None:
            continue
        if key in _TIMEOUT_FIELDS:
            timeouts[key] = _seconds(key, value)
        elif key in _SETTING_FIELDS and key not in _INTERNAL_FIELDS:
            values[key] = _coerce(key, value)
        else:
            raise ConfigError(f"unknown setting {key!r}")


__all__ = [
    "DEFAULT_USER_AGENT",
    "ENV_PREFIX",
    "Settings",
    "SiteProfile",
    "Timeouts",
    "default_state_dir",
    "display_available",
    "env",
    "environment_network",
    "load_settings",
    "optional_env_var",
    "secret_from_env",
]
