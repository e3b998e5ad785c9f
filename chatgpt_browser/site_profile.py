"""The site profile and the timeouts: plain values every part of the package shares.

A `SiteProfile` describes one deployment of the chat web stack (the real site of
December 2022, or the embedded emulator): URLs, cookie names, selectors, lifetimes.
Everything that talks to the site takes a profile, so the same code targets either.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from .errors import ConfigError

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


__all__ = ["DEFAULT_USER_AGENT", "SiteProfile", "Timeouts"]
