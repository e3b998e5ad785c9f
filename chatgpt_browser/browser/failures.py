"""A failed attempt as one of our errors, with what the page showed saved for a person.

`translate()` maps a Playwright failure by its type and the stage it happened in (a
timeout before any page arrived is the network's fault, during the challenge the
challenge's, later the login's). `save_artifacts()` collects the failure folder within a
small budget and names it in the error's one-line message.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..config import default_state_dir
from ..errors import ChallengeNotClearedError, ChatGPTBrowserError, LoginFailedError, NetworkError
from . import artifacts
from .launch import BrowserSession, translate_error
from .pw_errors import error_line, net_error
from .steps import HarvestRequest

if TYPE_CHECKING:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Page

log = logging.getLogger(__name__)


def translate(exc: PlaywrightError, stage: str, page: Page) -> ChatGPTBrowserError:
    """A Playwright failure as one of ours, by its type and the stage it happened in."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    text = error_line(exc)
    if net_error(exc) is not None:
        return NetworkError(f"the browser could not reach the site ({text})", original_error=exc)
    if isinstance(exc, PlaywrightTimeoutError):
        if page.url in ("about:blank", ""):
            return NetworkError(f"the site accepted the connection but sent no page in time ({text})")
        if stage in ("launch", "challenge"):
            return ChallengeNotClearedError(f"the challenge did not clear in time ({text})")
        return LoginFailedError(f"the login did not complete in time ({text})")
    return translate_error(exc, "driving the browser")


def save_artifacts(
    exc: BaseException,
    request: HarvestRequest,
    session: BrowserSession,
    page: Page,
    console: artifacts.ConsoleLog,
    tracing: bool,
    deadline: float,
) -> None:
    """Save what the failing page showed and name the folder in `exc`'s message."""
    if getattr(exc, "artifacts_dir", None):
        return
    try:
        root = (
            request.artifacts_dir if request.artifacts_dir is not None else default_state_dir() / "artifacts"
        )
        target = artifacts.new_folder(root, exc)
    except OSError as error:
        log.debug("could not create the artifacts folder: %s", error)
        return
    # Best effort within a small budget of its own: a failure at the deadline still gets it.
    budget = min(artifacts.BUDGET, max(deadline - time.monotonic(), 0.0) + artifacts.BUDGET / 2)
    artifacts.collect(
        target,
        page=page,
        context=session.context,
        console=console,
        tracing=tracing,
        secrets=request.secrets,
        budget=budget,
        profile_dir=session.profile_dir,
    )
    if not any(target.iterdir()):
        return
    exc.args = (f"{exc.args[0] if exc.args else exc} (failure artefacts in {target})", *exc.args[1:])
    exc.artifacts_dir = str(target)  # type: ignore[attr-defined]


__all__ = ["save_artifacts", "translate"]
