"""Settings, timeouts and the site profile; the only module that reads the environment.

Precedence, highest first: explicit arguments (CLI flags) > environment variables
(`CHATGPT_BROWSER_*`) > the TOML file (`--config`, `$CHATGPT_BROWSER_CONFIG`, or
`<config dir>/config.toml`) > built-in defaults.

A `SiteProfile` describes one deployment of the chat web stack (the real site of
December 2022, or the embedded emulator): URLs, cookie names, selectors, lifetimes.
Everything that talks to the site takes a profile, so the same code targets either.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .settings_checks import check_settings, checked_hosts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_PREFIX = "CHATGPT_BROWSER_"
APP_NAME = "chatgpt-browser"

#: The default User-Agent of the original JS client, used only when none was harvested.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36"
)


@dataclasses.dataclass(frozen=True)
class SiteProfile:
    """Where the site lives and how it looks. Defaults describe chat.openai.com, Dec 2022."""

    base_url: str = "https://chat.openai.com"
    login_path: str = "/auth/login"
    chat_path: str = "/chat"
    session_path: str = "/api/auth/session"
    conversation_path: str = "/backend-api/conversation"
    moderations_path: str = "/backend-api/moderations"
    models_path: str = "/backend-api/models"
    clearance_cookie: str = "cf_clearance"
    session_cookie: str = "__Secure-next-auth.session-token"
    #: How long a clearance is assumed valid after it was earned (the cookie's own
    #: Expires is ~1 year and says nothing).
    clearance_ttl: float = 30 * 60
    #: Assumed lifetime of an access token when its JWT carries no `exp`.
    access_token_ttl: float = 60 * 60
    model: str = "text-davinci-002-render"
    # Selectors of the login flow (landing page, auth0 pages, chat page).
    login_button: str = "#__next .btn-primary"
    username_input: str = "#username"
    password_input: str = "#password"
    submit_button: str = "button[type=submit]"
    captcha_input: str = "input[name=captcha]"
    captcha_image: str = "img[alt=captcha]"
    otp_input: str = "#code"
    chat_ready: str = "textarea"
    #: Extra hosts (besides the base URL's) that may receive tokens.
    extra_hosts: tuple[str, ...] = ()
    #: Hosts of the login service (auth0) that may show the login form and receive the
    #: password and one-time code; the site's own host always may.
    auth_hosts: tuple[str, ...] = ("auth0.openai.com",)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"site URL must be http(s)://host[:port], got {self.base_url!r}")
        if "@" in parts.netloc:
            # `user:password@` would reach logs, `ps` and folder names: never take it.
            raise ConfigError("site URL must not contain a user name or password (user:password@host)")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
        except ValueError:
            raise ConfigError(f"site URL has a bad port: {self.base_url!r}") from None
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def api_base_url(self) -> str:
        return self.base_url + "/api"

    @property
    def backend_api_base_url(self) -> str:
        return self.base_url + "/backend-api"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Hosts that may receive cookies and bearer tokens; nothing else ever does."""
        return frozenset({self.host, *self.extra_hosts})

    def url(self, path: str) -> str:
        return self.base_url + path


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Every wait has a deadline (seconds)."""

    connect: float = 10.0
    read: float = 60.0
    #: A stream that sends nothing for this long is a stall.
    stream_stall: float = 30.0
    launch: float = 30.0
    challenge: float = 30.0
    login: float = 60.0
    harvest: float = 180.0
    lock: float = 300.0


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
    timeouts: Timeouts = Timeouts()
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


def env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """`CHATGPT_BROWSER_<name>` from the environment (None when unset or empty)."""
    value = (os.environ if environ is None else environ).get(ENV_PREFIX + name)
    return value or None


def optional_env_var(variable: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Any environment variable the user named (None when unset or empty)."""
    return (os.environ if environ is None else environ).get(variable) or None


def secret_from_env(variable: str, environ: Mapping[str, str] | None = None) -> str:
    """Read a secret from the environment variable the user named (e.g. --password-env)."""
    value = (os.environ if environ is None else environ).get(variable)
    if not value:
        raise ConfigError(f"environment variable {variable} is not set")
    return value


def display_available(environ: Mapping[str, str] | None = None) -> bool:
    """True when a headed browser has a screen to open on (X11 or Wayland)."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def environment_network(url: str, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """(proxy, CA bundle) the environment asks for (`--trust-env`): HTTPS_PROXY/HTTP_PROXY
    honouring NO_PROXY, and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE."""

    environ = os.environ if environ is None else environ
    lowered = {k.lower(): v for k, v in environ.items() if k.lower().endswith("_proxy") and v}
    host = urlsplit(url).hostname or ""
    no_proxy = [h.strip().lstrip(".") for h in lowered.get("no_proxy", "").split(",") if h.strip()]
    bypass = "*" in no_proxy or any(host == h or host.endswith("." + h) for h in no_proxy)
    scheme = urlsplit(url).scheme
    proxy = None if bypass else lowered.get(f"{scheme}_proxy") or lowered.get("all_proxy")
    ca = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or None
    return proxy, ca


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


def _coerce(name: str, value: Any) -> Any:
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
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from exc
    if name == "store" and value not in ("file", "redis") and not str(value).startswith(("http://", "https://")):
        raise ConfigError(f"store must be 'file', 'redis' or a serve URL http(s)://host:port, got {value!r}")
    return str(value)


def _seconds(name: str, value: Any) -> float:
    """A timeout from the TOML file or a flag: a finite number >= 0, else ConfigError."""
    try:
        seconds = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):  # also rejects NaN
        raise ConfigError(f"timeout {name} must be a number of seconds >= 0, got {value!r}")
    return seconds


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the TOML file: top-level settings plus an optional [timeouts] table."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid UTF-8 (byte {exc.start})") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    unknown = (set(data) - set(_SETTING_FIELDS) - set(OTHER_TABLES)) | (set(data) & set(_INTERNAL_FIELDS))
    if unknown:
        raise ConfigError(f"unknown keys in {path}: {', '.join(sorted(unknown))}")
    if "password" in data:
        raise ConfigError(f"{path}: put no password in the config file; use password_env")
    return data


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: `overrides` (flags; None values ignored) > env > TOML > defaults."""
    environ = os.environ if environ is None else environ
    explicit_file = config_file or env("CONFIG", environ)
    path = Path(explicit_file).expanduser() if explicit_file else default_config_file()
    if explicit_file and not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    file_values = read_config_file(path)

    values: dict[str, Any] = {}
    timeouts: dict[str, float] = {}
    if "url" in file_values:
        values["url_source"] = "file"
    if env("URL", environ) is not None:
        values["url_source"] = "env"
    if (overrides or {}).get("url") is not None:
        values["url_source"] = "flag"
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
    for key in _ENV_SETTINGS:
        value = env(key.upper(), environ)
        if value is not None:
            values[key] = _coerce(key, value)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in _TIMEOUT_FIELDS:
            timeouts[key] = _seconds(key, value)
        elif key in _SETTING_FIELDS and key not in _INTERNAL_FIELDS:
            values[key] = _coerce(key, value)
        else:
            raise ConfigError(f"unknown setting {key!r}")
    values["timeouts"] = dataclasses.replace(Timeouts(), **timeouts)
    settings = Settings(**values)
    settings.site()  # validate the URL early, with a clear error
    parts = urlsplit(settings.url)
    if parts.path.strip("/") or parts.query or parts.fragment:
        # e.g. ".../chat" pasted from the browser: every API path would land under it and 404.
        raise ConfigError(f"site URL must be the site's root, http(s)://host[:port], got {settings.url!r}")
    check_settings(settings)
    return settings


__all__ = [
    "DEFAULT_USER_AGENT",
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
