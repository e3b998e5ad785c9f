"""The live browser a harvest drives: a Playwright context plus what to release."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from .executable import CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, CDPSession, Page


class UaMetadata(TypedDict):
    """Cleaned UA-CH metadata for CDP `Emulation.setUserAgentOverride`."""

    platform: str
    metadata: dict[str, object]


@dataclasses.dataclass
class BrowserSession:
    """A live browser context and what we must release when done."""

    context: BrowserContext
    user_agent: str
    headless: bool
    profile_dir: Path | None
    remote: bool
    #: "chromium" or "headless-shell" (what was launched; remote browsers count as chromium).
    flavour: str = CHROMIUM
    #: Cleaned UA-CH metadata to apply per page (headless shell only; see stealth).
    ua_metadata: UaMetadata | None = None
    _cdp_sessions: list[CDPSession] = dataclasses.field(default_factory=list, repr=False)

    def new_page(self) -> Page:
        pages = self.context.pages
        page = pages[0] if pages and pages[0].url in ("about:blank", "") else self.context.new_page()
        if self.ua_metadata is not None:
            # Before the page's first request: its client hints must not name HeadlessChrome.
            cdp = self.context.new_cdp_session(page)
            cdp.send(
                "Emulation.setUserAgentOverride",
                {
                    "userAgent": self.user_agent,
                    "platform": self.ua_metadata["platform"],
                    "userAgentMetadata": self.ua_metadata["metadata"],
                },
            )
            self._cdp_sessions.append(cdp)  # the override lasts as long as the session
        return page


def close_quietly(context: BrowserContext) -> None:
    """Close a context at teardown; a browser already gone is not an error then."""
    with contextlib.suppress(Exception):
        context.close()


__all__ = ["BrowserSession", "UaMetadata", "close_quietly"]
