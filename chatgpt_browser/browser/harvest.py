"""`harvest()`: pass the challenge, log in, and return a verified, matching `Credentials`.

How this works:
1. Check every input before any browser starts; when a login will be needed and no
   password is available, fail at once (the saved profile's cookie file tells).
2. Launch (or connect to) a stealthy Chromium (`launch.open_browser`), headless first.
3. Re-clear: if the profile holds a session cookie (and no `force_login`), open
   `/api/auth/session` directly; a user there means the session lives (`source="reclear"`).
4. Otherwise log in (`steps.login`): landing page through the challenge, then the form,
   with the origin guard allowing credentials only to the site and its auth hosts.
5. Verify (`steps.verify`): the page asks the session endpoint for a user, and the bundle
   copies the headers the browser really sent and the site's cookies only.
6. If the challenge did not clear headless, start over once, headed (on a private Xvfb
   display when the machine has none).
One deadline bounds the whole call: every Playwright wait gets the time left. A failure
inside the page leaves a trace, the HTML, the console log and a screenshot (see
`artifacts`), named in the error. SIGTERM/SIGINT end the call within a second
(`interrupts`). The browser and every helper process are gone when `harvest()` returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import SiteProfile, Timeouts
from ..credentials import Credentials, fingerprint, redact_proxy
from ..errors import (
    BlockedError,
    ChallengeNotClearedError,
    ChatGPTBrowserError,
    ChatGPTTimeoutError,
    ConfigError,
)
from . import artifacts, bundle, failures, steps
from .executable import CHROMIUM, find_browser, resolve_flavour
from .guard import OriginGuard
from .inputs import checked_proxy, checked_timeout, resolved_site, usable_totp_secret
from .interrupts import Interrupts, handling_signals
from .launch import BrowserSession, open_browser
from .login import Captcha, CaptchaSolver
from .steps import HarvestRequest, Stages

if TYPE_CHECKING:
    from playwright.sync_api import Page

log = logging.getLogger(__name__)

#: Seconds past the deadline before the backstop stops a browser stuck in a wait.
BACKSTOP_GRACE = artifacts.BUDGET + 2.0


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
    on_stage: Callable[[str], None] | None = None,
    force_login: bool = False,
    login_hosts: Iterable[str] = (),
    trace: bool = True,
) -> Credentials:
    """Harvest a verified credential bundle for one account on `url` (or `site`).

    `profile_dir` keeps the browser profile between runs: a later harvest whose
    profile still holds a live session skips the login and only re-clears the
    challenge, unless `force_login` (a full login that fails on a wrong password).
    `interactive=True` opens a visible window and waits for a person to finish what
    the automation cannot (captcha, unknown 2FA). `ca_file` marks a TLS site with a
    private CA. `flavour` picks the headless binary ("chromium" or "headless-shell").

    `timeout` (default `timeouts.harvest`) bounds the whole call; `timeouts` bounds each
    stage (`launch`, `challenge`, `login`). `on_stage(stage)` is called as each of
    "launch", "challenge", "login", "verify", "done" starts. Credentials are typed and
    sent only to the site's host, `site.auth_hosts` and `login_hosts`; anything else
    raises SecurityError. `email` without `password` re-clears a profile's live session
    and raises HumanNeededError (before any launch) when a login would be needed.
    `trace=False` skips the Playwright trace kept for the failure artefacts.
    """
    timeouts = timeouts if timeouts is not None else Timeouts()
    site = resolved_site(url, site)
    timeout = checked_timeout(timeout, timeouts, email, password)
    request = HarvestRequest(
        site=site,
        email=email,
        password=password,
        totp_secret=usable_totp_secret(totp_secret),
        captcha_solver=captcha_solver,
        interactive=interactive,
        profile_dir=profile_dir,
        proxy=checked_proxy(proxy),
        cdp_url=cdp_url,
        executable=executable,
        flavour=resolve_flavour(flavour),
        ignore_https_errors=bool(ca_file),
        artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        challenge_budget=challenge_timeout if challenge_timeout is not None else timeouts.challenge,
        launch_timeout=min(timeouts.launch, timeout),
        login_timeout=timeouts.login,
        force_login=force_login,
        login_hosts=tuple(login_hosts),
        trace=trace,
    )
    return _harvest_within(request, headless, headed_fallback, timeout, Stages(on_stage))


def _harvest_within(
    request: HarvestRequest, headless: bool, fallback: bool, timeout: float, stages: Stages
) -> Credentials:
    """Check the installation, then run the attempts under one deadline."""
    if not request.cdp_url:  # an installation problem first: it needs fixing whatever else is wrong
        find_browser(request.executable, flavour=(request.flavour or CHROMIUM) if headless else CHROMIUM)
    steps.fail_fast_without_password(request)
    started = time.monotonic()
    log.info(
        "harvest %s account=%s profile=%s proxy=%s",
        request.site.base_url,
        request.email,
        request.profile_dir,
        redact_proxy(request.proxy),
    )
    with handling_signals() as interrupts:
        credentials = _attempts(request, headless, fallback, started, started + timeout, stages, interrupts)
    stages.start("done")
    return credentials


def _attempts(
    request: HarvestRequest,
    headless: bool,
    headed_fallback: bool,
    started: float,
    deadline: float,
    stages: Stages,
    interrupts: Interrupts,
) -> Credentials:
    """Headless first; once more headed if the challenge did not clear (time permitting)."""
    modes = [False] if request.interactive or not headless else [True]
    if headless and headed_fallback and not request.cdp_url and not request.interactive:
        modes.append(False)
    for index, mode_headless in enumerate(modes):
        last = index == len(modes) - 1
        # The last attempt may use all the time left for the challenge.
        budget = deadline - time.monotonic() if last else request.challenge_budget
        try:
            # Past the deadline (and the artefacts' budget) something unboundable hung.
            with interrupts.backstop(deadline - time.monotonic() + BACKSTOP_GRACE):
                return _attempt(request, mode_headless, started, deadline, budget, stages, interrupts)
        except Exception as exc:
            # A signal killed the driver: whatever failed, the exit it asked for, quietly.
            interrupts.check()
            if interrupts.expired:
                raise ChatGPTTimeoutError(
                    f"the harvest did not finish within its {deadline - started:.0f}s deadline "
                    f"(stuck in the {stages.current} stage); the browser was stopped"
                ) from None
            retry = isinstance(exc, ChallengeNotClearedError) and not isinstance(exc, BlockedError)
            if not retry or last or time.monotonic() >= deadline:
                raise
            log.warning("challenge not cleared headless (%s); retrying headed", exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(
    request: HarvestRequest,
    headless: bool,
    started: float,
    deadline: float,
    challenge_budget: float,
    stages: Stages,
    interrupts: Interrupts,
) -> Credentials:
    from playwright.sync_api import Error as PlaywrightError

    stages.start("launch")
    mark = time.monotonic()
    with (
        interrupts.browser_phase(),
        open_browser(
            executable=request.executable,
            flavour=request.flavour,
            headless=headless,
            profile_dir=request.profile_dir,
            proxy=request.proxy,
            cdp_url=request.cdp_url,
            ignore_https_errors=request.ignore_https_errors,
            launch_timeout=min(request.launch_timeout, max(deadline - mark, 0.001)),
            secrets=request.secrets,
            visible=request.interactive,
            on_profile=lambda path: setattr(interrupts, "profile_dir", path),
        ) as session,
    ):
        interrupts.check()
        page = session.new_page()
        page.set_default_timeout(max(deadline - time.monotonic(), 0.001) * 1000)
        console = artifacts.ConsoleLog(page)
        tracing = request.trace and steps.start_tracing(session)
        launch = time.monotonic() - mark
        try:
            with steps.fresh_cookies(session, request.force_login):
                return _run(request, session, page, stages, launch, started=started, deadline=deadline,
                            budget=challenge_budget)  # fmt: skip
        except ChatGPTBrowserError as exc:
            interrupts.check()
            if not isinstance(exc, ConfigError):
                failures.save_artifacts(exc, request, session, page, console, tracing, deadline)
            raise
        except PlaywrightError as exc:
            interrupts.check()
            error = failures.translate(exc, stages.current, page)
            failures.save_artifacts(error, request, session, page, console, tracing, deadline)
            raise error from exc


def _run(
    request: HarvestRequest,
    session: BrowserSession,
    page: Page,
    stages: Stages,
    launch: float,
    *,
    started: float,
    deadline: float,
    budget: float,
) -> Credentials:
    site = request.site
    navigations = steps.SiteNavigations(page, site)
    challenge_deadline = min(deadline, time.monotonic() + budget)
    has_session = bundle.cookie_value(session.context.cookies(site.base_url), site.session_cookie)
    if not request.force_login:  # (a forced login starts with no cookies: steps.fresh_cookies)
        # A clearance of unknown age could lapse any minute: always earn a fresh one.
        session.context.clear_cookies(name=site.clearance_cookie)
    stages.start("challenge")
    mark = time.monotonic()
    session_data = None
    if has_session and not request.force_login:
        session_data = steps.reclear(page, site, deadline=challenge_deadline)
    challenge = time.monotonic() - mark
    login = 0.0
    if session_data is None:
        steps.require_password(request)
        guard = OriginGuard(site, request.login_hosts)
        mark = time.monotonic()
        landing = steps.login(
            page,
            request,
            guard,
            challenge_deadline=challenge_deadline,
            deadline=deadline,
            on_login=lambda: stages.start("login"),
        )
        login = time.monotonic() - mark - landing
        challenge += landing
    stages.start("verify")
    mark = time.monotonic()
    source = "reclear" if session_data is not None else "harvest"
    timings = {"launch": launch, "challenge": challenge, "login": login}
    credentials = steps.verify(
        page, session, request, navigations, session_data, deadline=deadline, timings=timings, source=source
    )
    timings = {**timings, "verify": time.monotonic() - mark, "total": time.monotonic() - started}
    credentials = credentials.replace(timings=timings)
    log.info(
        "harvested %s (%s): session=%s clearance=%s in %.2fs",
        credentials.account,
        source,
        fingerprint(credentials.session_token),
        fingerprint(credentials.clearance_token),
        timings["total"],
    )
    return credentials


__all__ = ["Captcha", "CaptchaSolver", "harvest"]
