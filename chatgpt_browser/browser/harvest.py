"""`harvest()`: pass the challenge, log in, and return a verified, matching `Credentials`.

How this works:
1. Launch (or connect to) a stealthy Chromium (`launch.open_browser`), headless first.
2. If the profile already holds a session cookie, open `/api/auth/session` directly:
   once the challenge clears, a user there means the session is alive and we only had
   to re-clear (`source="reclear"`); otherwise, or without a cookie, log in.
3. Verify: navigate the same context to `/api/auth/session`, require a user, and read
   the request headers the browser really sent (UA, client hints, Accept-Language) and
   the cookies it then holds (the session cookie rolls on every call).
4. If the challenge did not clear headless, start over once, headed (on a private Xvfb
   display when the machine has none).
Any failure inside the page saves a screenshot and the HTML, named in the error. The
browser and every helper process are gone when `harvest()` returns or raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from ..config import SiteProfile, Timeouts, default_state_dir
from ..credentials import Credentials, fingerprint, redact_proxy
from ..errors import (
    AuthError,
    BlockedError,
    BrowserError,
    ChallengeError,
    ChatGPTBrowserError,
    ChatGPTError,
    ConfigError,
    HumanNeededError,
    NetworkError,
    ServerError,
)
from ..pages import PageKind, classify_page
from . import bundle
from .challenge import navigate_past_challenge
from .executable import resolve_flavour
from .inputs import checked_proxy, redact_urls, usable_totp_secret
from .launch import BrowserSession, open_browser, translate_error
from .login import Captcha, CaptchaSolver, LoginOptions, log_in, open_login_page

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Request:
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


def harvest(
    url: str | None = None,
    *,
    email: str | None = None,
    password: str | None = None,
    totp_secret: str | None = None,
    headless: bool = True,
    profile_dir: str | Path | None = None,
    proxy: str | None = None,
    cdp_url: str | None = None,
    executable: str | None = None,
    timeout: float | None = None,
    captcha_solver: CaptchaSolver | None = None,
    interactive: bool = False,
    site: SiteProfile | None = None,
    ca_file: str | None = None,
    artifacts_dir: str | Path | None = None,
    headed_fallback: bool = True,
    challenge_timeout: float | None = None,
    flavour: str | None = None,
    timeouts: Timeouts | None = None,
) -> Credentials:
    """Harvest a verified credential bundle for one account on `url` (or `site`).

    `profile_dir` keeps the browser profile between runs: a later harvest whose
    profile still holds a live session skips the login and only re-clears the
    challenge. `interactive=True` opens a visible window and waits for a person to
    finish whatever the automation cannot (captcha, unknown 2FA). `ca_file` marks a
    TLS site with a private CA (the browser then accepts its certificate).
    `flavour` picks the headless binary: "chromium" (the default, or
    `CHATGPT_BROWSER_FLAVOUR`) or "headless-shell" (less memory, easier to fingerprint;
    falls back to the full browser when not installed). Headed retries always use the
    full browser.

    `timeouts` bounds each stage (`launch`, `challenge`, `login`) and, unless `timeout`
    is given, the whole harvest (`harvest`). `email` without `password` re-clears a
    profile's live session and raises HumanNeededError when a login would be needed.
    Inputs (TOTP secret, proxy) are checked before any browser starts.
    """
    timeouts = timeouts if timeouts is not None else Timeouts()
    timeout = timeout if timeout is not None else timeouts.harvest
    if site is None:
        site = SiteProfile(base_url=url or SiteProfile().base_url)
    elif url:
        site = dataclasses.replace(site, base_url=url)
    if timeout <= 0:
        raise ConfigError("timeout must be positive")
    if password is not None and email is None:
        raise ConfigError("a password needs an e-mail address to go with it")
    totp_secret = usable_totp_secret(totp_secret)
    checked_proxy(proxy)
    budget = challenge_timeout if challenge_timeout is not None else timeouts.challenge
    request = _Request(
        site=site,
        email=email,
        password=password,
        totp_secret=totp_secret,
        captcha_solver=captcha_solver,
        interactive=interactive,
        profile_dir=profile_dir,
        proxy=proxy,
        cdp_url=cdp_url,
        executable=executable,
        flavour=resolve_flavour(flavour),
        ignore_https_errors=bool(ca_file),
        artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        challenge_budget=budget,
        launch_timeout=min(timeouts.launch, timeout),
        login_timeout=timeouts.login,
    )
    modes = [False] if interactive or not headless else [True]
    if headless and headed_fallback and not cdp_url and not interactive:
        modes.append(False)
    started = time.monotonic()
    deadline = started + timeout
    log.info(
        "harvest %s account=%s profile=%s proxy=%s", site.base_url, email, profile_dir, redact_proxy(proxy)
    )
    with _terminate_as_exit():
        for index, mode_headless in enumerate(modes):
            try:
                # The last attempt may use all the time left for the challenge.
                last = index == len(modes) - 1
                budget = deadline - time.monotonic() if last else request.challenge_budget
                return _attempt(
                    request,
                    headless=mode_headless,
                    started=started,
                    deadline=deadline,
                    challenge_budget=budget,
                )
            except BlockedError:
                raise
            except ChallengeError as exc:
                if index == len(modes) - 1 or time.monotonic() >= deadline:
                    raise
                log.warning("challenge not cleared headless (%s); retrying headed", exc)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while we run, so `finally` blocks close the browser."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _attempt(
    request: _Request, *, headless: bool, started: float, deadline: float, challenge_budget: float
) -> Credentials:
    from playwright.sync_api import Error as PlaywrightError

    timings: dict[str, float] = {}
    mark = time.monotonic()
    with open_browser(
        executable=request.executable,
        flavour=request.flavour,
        headless=headless,
        profile_dir=request.profile_dir,
        proxy=request.proxy,
        cdp_url=request.cdp_url,
        ignore_https_errors=request.ignore_https_errors,
        launch_timeout=min(request.launch_timeout, max(deadline - mark, 0.001)),
    ) as session:
        page = session.new_page()
        page.set_default_timeout(max(deadline - time.monotonic(), 0.001) * 1000)
        timings["launch"] = time.monotonic() - mark
        try:
            return _run(
                request, session, page, timings, started=started, deadline=deadline, budget=challenge_budget
            )
        except ChatGPTBrowserError as exc:
            if not isinstance(exc, ConfigError):
                _attach_artifacts(exc, page, request.artifacts_dir)
            raise
        except PlaywrightError as exc:
            error = _translate(exc, timings)
            _attach_artifacts(error, page, request.artifacts_dir)
            raise error from exc


def _translate(exc: Exception, timings: dict[str, float]) -> ChatGPTBrowserError:
    """A Playwright failure as one of ours, by the stage it happened in."""
    text = redact_urls(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
    if "net::ERR_" in text:
        return NetworkError(f"the browser could not reach the site ({text})", original_error=exc)
    if "Timeout" in type(exc).__name__ or "Timeout" in text:
        if "challenge" not in timings:
            return ChallengeError(f"the challenge did not clear in time ({text})")
        return AuthError(f"the login did not complete in time ({text})")
    return translate_error(exc, "driving the browser")


class _SiteNavigations:
    """Remembers the last main-frame document response from the site's origin.

    Its request carries exactly the headers the browser sent (UA, client hints,
    Accept-Language), which the bundle must copy. The handler only stores objects:
    no calls back into Playwright from inside an event.
    """

    def __init__(self, page: Any, site: SiteProfile) -> None:
        self._origin = site.base_url + "/"
        self.last: Any = None
        page.on("response", self._on_response)

    def _on_response(self, response: Any) -> None:
        request = response.request
        if request.resource_type == "document" and response.url.startswith(self._origin):
            self.last = response


def _run(
    request: _Request,
    session: BrowserSession,
    page: Any,
    timings: dict[str, float],
    *,
    started: float,
    deadline: float,
    budget: float,
) -> Credentials:
    site = request.site
    navigations = _SiteNavigations(page, site)
    challenge_deadline = min(deadline, time.monotonic() + budget)
    mark = time.monotonic()
    source = "harvest"
    session_data: dict[str, Any] = {}
    has_session = bundle.cookie_value(session.context.cookies(site.base_url), site.session_cookie)
    # A clearance of unknown age could lapse any minute: always earn a fresh one.
    session.context.clear_cookies(name=site.clearance_cookie)
    if has_session:
        # Warm profile: one navigation clears the challenge and tells if the session lives.
        # Read from the network: the session JSON needs no rendering, nor the /chat page.
        response = navigate_past_challenge(page, site.url(site.session_path), deadline=challenge_deadline)
        timings["challenge"] = time.monotonic() - mark
        body = _response_text(response)
        session_data = bundle.parse_session(body if body is not None else page.inner_text("body"))
        if bundle.session_has_user(session_data):
            source = "reclear"
            timings["login"] = 0.0
    if source == "harvest":
        if request.password is None and not request.interactive:
            raise HumanNeededError(_no_password_message(request.email))
        open_login_page(page, site, deadline=challenge_deadline)
        timings.setdefault("challenge", time.monotonic() - mark)
        mark = time.monotonic()
        if request.email is None or request.password is None:
            # Interactive with nothing to type: the person at the window logs in.
            page.locator(site.chat_ready).first.wait_for(state="visible")
        else:
            options = LoginOptions(
                email=request.email,
                password=request.password,
                totp_secret=request.totp_secret,
                captcha_solver=request.captcha_solver,
                interactive=request.interactive,
            )
            log_in(page, site, options, deadline=min(deadline, time.monotonic() + request.login_timeout))
        timings["login"] = time.monotonic() - mark
        session_data = {}

    mark = time.monotonic()
    if not session_data:
        session_data = _fetch_session(page, site, deadline)
    if not bundle.session_has_user(session_data):
        raise AuthError(f"{site.session_path} returned no user after the login: the login did not take")
    if navigations.last is None:
        raise BrowserError("saw no page of the site; cannot tell which headers the browser sent")
    sent = navigations.last.request.all_headers()
    if sent.get("user-agent") != session.user_agent:
        raise BrowserError("the browser sent another User-Agent than the one we configured")
    credentials = bundle.build_credentials(
        site=site,
        session_data=session_data,
        cookies=session.context.cookies(site.base_url),
        sent_headers=sent,
        account=request.email,
        proxy=request.proxy,
        now=time.time(),
        timings=timings,
        source=source,
    )
    timings["verify"] = time.monotonic() - mark
    timings["total"] = time.monotonic() - started
    credentials = credentials.replace(timings=dict(timings))
    log.info(
        "harvested %s (%s): session=%s clearance=%s in %.2fs",
        credentials.account,
        source,
        fingerprint(credentials.session_token),
        fingerprint(credentials.clearance_token),
        timings["total"],
    )
    return credentials


def _response_text(response: Any) -> str | None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        return str(response.text())
    except PlaywrightError:
        return None


_FETCH_SESSION_JS = """async (path) => {
  const response = await fetch(path, {credentials: 'same-origin', headers: {accept: 'application/json'}});
  return {status: response.status, headers: Object.fromEntries(response.headers.entries()),
          body: await response.text()};
}"""


def _no_password_message(email: str | None) -> str:
    what = f"no password is configured for {email}" if email else "no e-mail and password are configured"
    return (
        f"the profile holds no live session and {what}: set CHATGPT_BROWSER_PASSWORD "
        "(or use --password-env / --password-stdin), or run `chatgpt-browser login --headed` once"
    )


#: Tries of the verification call when the site answers 5xx (transient by nature).
_VERIFY_ATTEMPTS = 3


def _fetch_session(page: Any, site: SiteProfile, deadline: float) -> dict[str, Any]:
    """`/api/auth/session` fetched by the page itself: same cookies, UA, IP and TLS.

    Only a clean JSON object counts as an answer; anything else is reported as what it
    is (challenge, server failure, not JSON), never as a failed login.
    """
    for attempt in range(1, _VERIFY_ATTEMPTS + 1):
        answer = page.evaluate(_FETCH_SESSION_JS, site.session_path)
        status, headers, body = answer["status"], answer["headers"], answer["body"]
        try:
            return _session_answer(site.session_path, status, headers, body)
        except ServerError as exc:
            pause = 0.25 * 2 ** (attempt - 1)
            if attempt == _VERIFY_ATTEMPTS or time.monotonic() + pause >= deadline:
                raise
            log.info("verification got %s; retry %d of %d", exc.status_code, attempt, _VERIFY_ATTEMPTS - 1)
            page.wait_for_timeout(pause * 1000)
    raise AssertionError("unreachable")  # pragma: no cover


def _session_answer(path: str, status: int, headers: dict[str, str], body: str) -> dict[str, Any]:
    """The session JSON of a verification answer, or the typed error that answer means."""
    kind = classify_page(status, headers, body)
    if kind is PageKind.BLOCKED:
        raise BlockedError(f"verifying the login: {path} answered with a hard block (HTTP {status})")
    if kind.is_challenge:
        raise ChallengeError(f"verifying the login: {path} answered with a challenge (HTTP {status})")
    if status >= 500 or kind is PageKind.AT_CAPACITY:
        raise ServerError(f"verifying the login: {path} answered HTTP {status}", status_code=status)
    if status != 200:
        raise ChatGPTError(f"verifying the login: {path} answered HTTP {status}", status_code=status)
    data = bundle.parse_json_object(body)
    if data is None:
        excerpt = " ".join(body[:80].split())
        raise ChatGPTError(
            f"verifying the login: {path} answered with something that is not JSON ({excerpt!r})",
            status_code=status,
            detail=excerpt,
        )
    return data


def _attach_artifacts(exc: BaseException, page: Any, folder: Path | None) -> None:
    """Save a screenshot and the HTML of `page`, and name the folder in `exc`'s message."""
    if getattr(exc, "artifacts_dir", None):
        return
    target: Path | None = None
    try:
        root = folder if folder is not None else default_state_dir() / "artifacts"
        target = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{type(exc).__name__}"
        suffix = 1
        while target.exists():
            target = target.with_name(f"{target.name}-{suffix}")
            suffix += 1
        target.mkdir(parents=True, mode=0o700)
        (target / "url.txt").write_text(page.url + "\n")
        (target / "page.html").write_text(page.content(), encoding="utf-8")
        page.screenshot(path=str(target / "screenshot.png"), timeout=5000)
    except Exception as error:  # a dead page must not hide the original failure
        log.debug("could not save failure artifacts: %s", error)
    if target is None or not target.is_dir() or not any(target.iterdir()):
        return
    exc.args = (f"{exc.args[0] if exc.args else exc} (screenshot and HTML in {target})", *exc.args[1:])
    exc.artifacts_dir = str(target)  # type: ignore[attr-defined]


__all__ = ["Captcha", "CaptchaSolver", "harvest"]
