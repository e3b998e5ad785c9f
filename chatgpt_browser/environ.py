"""Reading the environment: the package's own variables and the ones a user names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

ENV_PREFIX = "CHATGPT_BROWSER_"


def env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """`CHATGPT_BROWSER_<name>` from the environment (None when unset or empty)."""
    value = (os.environ if environ is None else environ).get(ENV_PREFIX + name)
    return value or None


def optional_env_var(variable: str, environ: Mapping[str, str] | None = None) -> str | None:
    """An environment variable the user named (None when unset or empty)."""
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


__all__ = [
    "ENV_PREFIX",
    "display_available",
    "env",
    "environment_network",
    "optional_env_var",
    "secret_from_env",
]
