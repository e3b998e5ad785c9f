"""The named steps of one harvest attempt in a live page: re-clear, log in, verify.

Each step takes what it needs and returns its result; the caller (`harvest._run`) times
them and reports the stages. Every wait is bounded by the deadline it is given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import SiteProfile
from ..credentials import Credentials
from ..errors import BrowserError, ChatGPTError, HumanNeededError
from ..site import SessionAnswer, parse_session_answer
from . import bundle
from .challenge import navigate_past_challenge
from .guard import OriginGuard
from .landing import open_login_page
from .launch import BrowserSession
from .login import CaptchaSolver, LoginOptions, log_in
from .profile_state import profile_may_hold_session
from .verify import fetch_session

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

log = logging.getLogger(__name__)

#: Stages reported to `harvest(on_stage=...)`, in order (a re-clear skips "login").
STAGES = ("launch", "challenge", "login", "verify", "done")


@dataclasses.dataclass(frozen=True)
class HarvestRequest:
    """Everything one harvest was asked to do (validated by `harvest()`)."""

    site: SiteProfile
    email: str | None
    password: str | None = dataclasses.field(repr=False)
    totp_secret: str | None = dataclasses.field(repr=False)
    captcha_solver: CaptchaSolver | None
    interactive: bool
    profile_dir: str | Path | None
    proxy: str | None = dataclasses.field(repr=False)
    cdp_url: str | None
    executable: str | None
    flavour: str | None
    ignore_https_errors: bool
    artifacts_dir: Path | None
    challenge_budget: float
    launch_timeout: float
    login_timeout: float
    force_login: bool = False
    login_hosts: tuple[str, ...] = ()
    trace: bool = True

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a child's environment, a log or an artefact."""
        return tuple(s for s in (self.password, self.totp_secret) if s)


class Stages:
    """Calls the user's `on_stage(stage)`; a failing callback is logged, never fatal."""

    def __init__(self, callback: Callable[[str], None] | None) -> None:
        self._callback = callback
        self.current = "launch"

    def start(self, stage: str) -> None:
        assert stage in STAGES
        self.current = stage
        if self._callback is None:
            return
        try:
            self._callback(stage)
        except Exception as exc:
            log.warning("the on_stage callback failed at %r: %s: %s", stage, type(exc).__name__, exc)


class SiteNavigations:
    """Remembers the last main-frame document response from the site's origin.

    Its request carries exactly the headers the browser sent (UA, client hints,
    Accept-Language), which the bundle must copy. The handler only stores objects:
    no calls back into Playwright from inside an event.
    """

    def __init__(self, page: Page, site: SiteProfile) -> None:
        self._origin = site.base_url + "/"
        self.last: Response | None = None
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.url.startswith(self._origin):
            self.last = response


def reclear(page: Page, site: SiteProfile, *, deadline: float) -> SessionAnswer | None:
    """Warm profile: one navigation to the session endpoint clears the challenge and tells
    if the session lives. Returns the live session, else None (a login follows)."""
    from playwright.sync_api import Error as PlaywrightError

    # Read from the network: the session JSON needs no rendering, nor the /chat page.
    response = navigate_past_challenge(page, site.url(site.session_path), deadline=deadline)
    try:
        body: str | None = str(response.text())
    except PlaywrightError:
        body = None
    text = body if body is not None else page.inner_text("body")
    try:
        return parse_session_answer(text, what=f"re-clearing: GET {site.session_path}")
    except ChatGPTError:  # no session (`{}`, a refresh error) or not JSON: log in instead
        return None


def login(
    page: Page,
    request: HarvestRequest,
    guard: OriginGuard,
    *,
    challenge_deadline: float,
    deadline: float,
    on_login: Callable[[], None] = lambda: None,
) -> float:
    """Landing page (through the challenge), then the login; credentials only to `guard`'s
    origins. Returns the seconds the challenge part took."""
    mark = time.monotonic()
    # The landing page must be the site's (a redirect elsewhere stops here, nothing typed);
    # from the login button on, nothing may leave the allowed origins. Arming the guard
    # only then spares the challenge's requests a detour through the driver.
    open_login_page(page, request.site, deadline=challenge_deadline)
    guard.check_page(page)
    guard.arm(page.context)
    try:
        challenge = time.monotonic() - mark
        on_login()
        if request.email is None or request.password is None:
            # Interactive with nothing to type: the person at the window logs in.
            page.locator(request.site.chat_ready).first.wait_for(state="visible", timeout=_ms(deadline))
        else:
            options = LoginOptions(
                email=request.email,
                password=request.password,
                totp_secret=request.totp_secret,
                captcha_solver=request.captcha_solver,
                interactive=request.interactive,
                guard=guard,
            )
            log_in(
                page, request.site, options, deadline=min(deadline, time.monotonic() + request.login_timeout)
            )
        guard.check()
        return challenge
    finally:
        guard.disarm()


def verify(
    page: Page,
    session: BrowserSession,
    request: HarvestRequest,
    navigations: SiteNavigations,
    session_data: SessionAnswer | None,
    *,
    deadline: float,
    timings: dict[str, float],
    source: str,
) -> Credentials:
    """Check the session has a user, read the headers the browser sent and build the bundle."""
    site = request.site
    # A clean answer without a session raises LoginFailedError ("the login did not take").
    answer = session_data if session_data is not None else fetch_session(page, site, deadline)
    if navigations.last is None:
        raise BrowserError("saw no page of the site; cannot tell which headers the browser sent")
    sent = navigations.last.request.all_headers()
    if sent.get("user-agent") != session.user_agent:
        raise BrowserError("the browser sent another User-Agent than the one we configured")
    return bundle.build_credentials(
        site=site,
        session=answer,
        # Only the site's cookies: nothing of another domain leaves the browser.
        cookies=session.context.cookies(site.base_url),
        sent_headers=sent,
        account=request.email,
        proxy=request.proxy,
        now=time.time(),
        timings=timings,
        source=source,
    )


@contextlib.contextmanager
def fresh_cookies(session: BrowserSession, force_login: bool) -> Iterator[None]:
    """A forced login starts without cookies (no session, no SSO: the password must be
    typed). If it fails - a wrong password, a timeout - the profile gets its cookies back:
    a failed `login` must not cost the session the profile held."""
    saved = session.context.cookies() if force_login else []
    if force_login:
        session.context.clear_cookies()
    try:
        yield
    except BaseException:
        if saved:
            try:
                session.context.clear_cookies()
                session.context.add_cookies(saved)  # type: ignore[arg-type]
            except Exception as exc:  # a browser already gone has nothing to put them in
                log.debug("could not give the profile its cookies back: %s", exc)
        raise


def no_password_message(email: str | None) -> str:
    what = f"no password is configured for {email}" if email else "no e-mail and password are configured"
    return (
        f"a login is needed and {what}: set CHATGPT_BROWSER_PASSWORD "
        "(or use --password-env / --password-stdin), or run `chatgpt-browser login --headed` once"
    )


def require_password(request: HarvestRequest) -> None:
    if request.password is None and not request.interactive:
        raise HumanNeededError(no_password_message(request.email))


def fail_fast_without_password(request: HarvestRequest) -> None:
    """No browser launch when a login is certain to be needed and nothing can be typed."""
    if request.password is not None or request.interactive:
        return
    profile = request.profile_dir
    if (
        request.force_login
        or request.cdp_url  # a fresh context on a remote browser holds no session
        or profile is None
        or not profile_may_hold_session(Path(profile).expanduser(), request.site)
    ):
        raise HumanNeededError(no_password_message(request.email))


def start_tracing(session: BrowserSession) -> bool:
    """Record a Playwright trace for the failure artefacts: every action with its timing,
    the network and the console. No DOM snapshots: they slowed each harvest by ~4% of a
    bare script's time, and the failing page's HTML and screenshot are saved anyway."""
    try:
        session.context.tracing.start(snapshots=False, screenshots=False, sources=False)
    except Exception as exc:  # e.g. a remote browser already tracing: a debugging aid only
        log.debug("could not start tracing: %s", exc)
        return False
    return True


def _ms(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001) * 1000


__all__ = [
    "STAGES",
    "HarvestRequest",
    "SiteNavigations",
    "Stages",
    "fail_fast_without_password",
    "login",
    "no_password_message",
    "reclear",
    "require_password",
    "start_tracing",
    "verify",
]
