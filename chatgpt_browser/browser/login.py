"""The e-mail/password login (NextAuth + auth0 pages), driven in a live page.

Each step waits for *any* of the outcomes it can have (next page, error text, captcha,
one-time-code page) with one locator, so a wrong password is reported the moment the
error shows, never after a timeout. Every wait is bounded by the harvest's deadline, and
runs in short slices so that a login the origin guard stopped (`guard.py`) ends at once;
nothing is typed into a page off the site's allowed hosts.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config import SiteProfile
from ..errors import (
    ChatGPTBrowserError,
    HumanNeededError,
    InvalidCredentialsError,
)
from .challenge import wait_until_cleared
from .guard import OriginGuard
from .inputs import totp_now
from .landing import capacity_policy, open_login_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

log = logging.getLogger(__name__)

#: What the login pages say when the e-mail or password is wrong (auth0 wordings).
WRONG_CREDENTIALS_TEXTS = (
    "Wrong email or password",
    "Wrong username or password",
    "couldn't find an account with that email",
    "user does not exist",
)
_OTP_REJECTED = "text=/code you entered is invalid|invalid code|wrong code/i"
_CAPTCHA_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class Captcha:
    """What a captcha solver gets: the challenge image (PNG/JPEG bytes) and where it was shown."""

    image: bytes
    url: str
    kind: str = "image"


CaptchaSolver = Callable[[Captcha], str]


@dataclasses.dataclass(frozen=True)
class LoginOptions:
    email: str
    password: str = dataclasses.field(repr=False)
    totp_secret: str | None = dataclasses.field(default=None, repr=False)
    captcha_solver: CaptchaSolver | None = None
    #: A person is watching (headed): wait for them instead of raising HumanNeededError.
    interactive: bool = False
    #: Where the credentials may be typed and sent (None: anywhere; harvest() always sets it).
    guard: OriginGuard | None = dataclasses.field(default=None, compare=False)

    def check(self, page: Page | None = None) -> None:
        """SecurityError if the login left the allowed origins (or `page` is off them)."""
        if self.guard is None:
            return
        if page is None:
            self.guard.check()
        else:
            self.guard.check_page(page)


def _remaining_ms(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001) * 1000


_SLICE_MS = 250.0


def _wait_for_one(
    page: Page, outcomes: dict[str, str], deadline: float, opts: LoginOptions | None = None
) -> str:
    """Name of the first outcome whose selector becomes visible (one combined wait, in
    short slices so that a blocked foreign navigation ends it at once)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    locators = {name: page.locator(selector).first for name, selector in outcomes.items()}
    combined = None
    for locator in locators.values():
        combined = locator if combined is None else combined.or_(locator)
    assert combined is not None
    while True:
        if opts is not None:
            opts.check()
        remaining = _remaining_ms(deadline)
        try:
            combined.first.wait_for(state="visible", timeout=min(remaining, _SLICE_MS))
            break
        except PlaywrightTimeoutError:
            if remaining <= _SLICE_MS:
                raise
    if len(locators) == 1:
        return next(iter(locators))
    for name, locator in locators.items():
        if locator.is_visible():
            return name
    return next(iter(outcomes))  # pragma: no cover - the wait above guarantees one


def _fill(page: Page, selector: str, value: str, opts: LoginOptions, deadline: float) -> None:
    """Type `value` only into a page on an allowed origin."""
    opts.check(page)
    page.locator(selector).first.fill(value, timeout=_remaining_ms(deadline))


def _wrong_credentials_selector() -> str:
    return "text=/" + "|".join(re.escape(text) for text in WRONG_CREDENTIALS_TEXTS) + "/i"


#: What an unattended user can do, per reason (CLI first; library users get the same hint).
HEADED_ONCE = (
    "run `chatgpt-browser login --headed` once (harvest(interactive=True)) and finish it in the "
    "window; the saved profile then lets later runs go unattended"
)
CAPTCHA_REMEDY = f"{HEADED_ONCE}, or configure a captcha solver (harvest(captcha_solver=...))"
TOTP_REMEDY = (
    "set CHATGPT_BROWSER_TOTP_SECRET (or totp_secret= in the config) to the account's base32 "
    f"authenticator key, or {HEADED_ONCE}"
)


def _human_needed(
    page: Page, opts: LoginOptions, site: SiteProfile, deadline: float, why: str, remedy: str
) -> None:
    """Let a person finish (interactive mode) or raise HumanNeededError (unattended)."""
    if not opts.interactive:
        raise HumanNeededError(f"{why}: {remedy}")
    log.warning("%s: waiting for a person to finish the login in the browser window", why)
    page.locator(site.chat_ready).first.wait_for(state="visible", timeout=_remaining_ms(deadline))


def _solve_captcha(page: Page, opts: LoginOptions, site: SiteProfile, deadline: float) -> bool:
    """Fill the captcha field; False if nobody can (the caller decides what that means)."""
    if opts.captcha_solver is None:
        return False
    image = page.locator(site.captcha_image).first
    data = image.screenshot(timeout=_remaining_ms(deadline))
    try:
        answer = opts.captcha_solver(Captcha(image=data, url=page.url))
    except ChatGPTBrowserError:
        raise
    except Exception as exc:
        raise HumanNeededError(
            f"the captcha solver failed ({type(exc).__name__}: {exc}): {HEADED_ONCE}"
        ) from exc
    _fill(page, site.captcha_input, str(answer), opts, deadline)
    return True


def log_in(page: Page, site: SiteProfile, opts: LoginOptions, *, deadline: float) -> None:
    """From the (cleared) landing page to the chat page. Raises a typed LoginFailedError on failure,
    SecurityError when the login leads off the allowed origins (nothing typed there)."""
    wrong = _wrong_credentials_selector()
    opts.check(page)
    page.locator(site.login_button).first.click(timeout=_remaining_ms(deadline))

    # Identifier page (auth0), possibly with a captcha.
    _wait_for_one(page, {"username": site.username_input}, deadline, opts)
    _fill(page, site.username_input, opts.email, opts, deadline)
    for _attempt in range(_CAPTCHA_ATTEMPTS):
        has_captcha = page.locator(site.captcha_input).first.is_visible()
        if has_captcha and not _solve_captcha(page, opts, site, deadline):
            _human_needed(page, opts, site, deadline, "the login page asks for a captcha", CAPTCHA_REMEDY)
            return
        page.locator(site.submit_button).first.click(timeout=_remaining_ms(deadline))
        outcome = _wait_for_one(
            page,
            {"password": site.password_input, "wrong": wrong, "captcha": site.captcha_input},
            deadline,
            opts,
        )
        if outcome == "password":
            break
        if outcome == "wrong":
            raise InvalidCredentialsError(f"the site rejected the e-mail address {opts.email!r}")
        # Captcha shown again: the answer was wrong (or it appeared only now). Retry.
        if page.locator(site.username_input).first.is_visible():
            _fill(page, site.username_input, opts.email, opts, deadline)
    else:
        raise HumanNeededError(
            f"the captcha was not accepted after {_CAPTCHA_ATTEMPTS} answers: {HEADED_ONCE}"
        )

    # Password page.
    _fill(page, site.password_input, opts.password, opts, deadline)
    page.locator(site.submit_button).first.click(timeout=_remaining_ms(deadline))
    outcome = _wait_for_one(
        page, {"chat": site.chat_ready, "wrong": wrong, "otp": site.otp_input}, deadline, opts
    )
    if outcome == "wrong":
        raise InvalidCredentialsError("wrong e-mail or password")
    if outcome == "otp":
        _one_time_code(page, site, opts, deadline)
    opts.check()
    wait_until_cleared(page, deadline=deadline)


def _one_time_code(page: Page, site: SiteProfile, opts: LoginOptions, deadline: float) -> None:
    if not opts.totp_secret:
        _human_needed(
            page,
            opts,
            site,
            deadline,
            "the account asks for a one-time code and no TOTP secret is set",
            TOTP_REMEDY,
        )
        return
    code = totp_now(opts.totp_secret)
    _fill(page, site.otp_input, code, opts, deadline)
    page.locator(site.submit_button).first.click(timeout=_remaining_ms(deadline))
    outcome = _wait_for_one(page, {"chat": site.chat_ready, "otp_error": _OTP_REJECTED}, deadline, opts)
    if outcome != "chat":
        raise InvalidCredentialsError("the site rejected the one-time code (is the TOTP secret right?)")


__all__ = ["Captcha", "CaptchaSolver", "LoginOptions", "capacity_policy", "log_in", "open_login_page"]
