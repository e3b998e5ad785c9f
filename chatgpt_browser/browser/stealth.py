"""Make the automated browser present itself as an ordinary desktop Chrome.

What a challenge looks at, and what we do about it:
- `navigator.webdriver`: Playwright passes `--enable-automation`; we drop that switch and
  add `--disable-blink-features=AutomationControlled`, so it reads `false` natively
  (no JavaScript patching, which is itself detectable).
- "HeadlessChrome" in the User-Agent: we give the context the UA a headed Chrome of the
  same version on the same OS would send. Playwright applies it with CDP
  `Emulation.setUserAgentOverride` *including* `userAgentMetadata`, so `sec-ch-ua*`
  headers and `navigator.userAgentData` stay consistent (platform from the real OS,
  brands from the real browser, which never name HeadlessChrome).
- Languages: we leave the browser's own `navigator.languages` / `Accept-Language` pair
  alone rather than override one half of it.
- The headless shell flavour adds a "HeadlessChrome" brand to its client hints, which
  Playwright's UA override keeps. For it we read the shell's own UA-CH metadata once
  (`UA_METADATA_JS`, on a local file page: UA-CH needs a secure context), drop that brand
  (`clean_ua_metadata`) and apply the result per page with CDP
  `Emulation.setUserAgentOverride`, so headers and `navigator.userAgentData` agree.
  What we cannot hide there without JavaScript patches (which are detectable in turn):
  the shell has no plugins, no `window.chrome` and a single language. That is why it is
  an opt-in flavour and the full browser the default.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Mapping

#: Switches that keep the automation flag off (see module docstring).
STEALTH_ARGS = ("--disable-blink-features=AutomationControlled",)
STEALTH_IGNORED_DEFAULT_ARGS = ("--enable-automation",)

#: For browsers we did not start (CDP): their flags may leave `navigator.webdriver` true
#: (e.g. `--headless` or `--enable-automation`), so the context hides it in script.
#: Starting the remote browser with STEALTH_ARGS makes this a no-op.
HIDE_WEBDRIVER_JS = """(() => {
  if (navigator.webdriver === false) return;
  Object.defineProperty(Object.getPrototypeOf(navigator), 'webdriver', {
    get: () => false, configurable: true, enumerable: true,
  });
})();"""

#: Fingerprint a page exposes, for tests and diagnostics.
FINGERPRINT_JS = """() => ({
  userAgent: navigator.userAgent,
  webdriver: navigator.webdriver,
  platform: navigator.platform,
  languages: Array.from(navigator.languages || []),
  brands: navigator.userAgentData ? navigator.userAgentData.brands.map(b => b.brand) : null,
  uaPlatform: navigator.userAgentData ? navigator.userAgentData.platform : null,
})"""


#: The browser's own UA-CH metadata, in the shape `Emulation.setUserAgentOverride` takes.
UA_METADATA_JS = """async () => {
  const data = navigator.userAgentData;
  const high = await data.getHighEntropyValues(
    ['architecture', 'bitness', 'fullVersionList', 'model', 'platformVersion', 'wow64', 'formFactors']);
  return {metadata: high, platform: navigator.platform};
}"""

_METADATA_FIELDS = (
    "brands",
    "fullVersionList",
    "platform",
    "platformVersion",
    "architecture",
    "model",
    "mobile",
    "bitness",
    "wow64",
    "formFactors",
)


def clean_ua_metadata(metadata: Mapping[str, object]) -> dict[str, object]:
    """UA-CH metadata (from `UA_METADATA_JS`) without any headless brand, ready for CDP."""
    cleaned = {key: metadata[key] for key in _METADATA_FIELDS if key in metadata}
    for key in ("brands", "fullVersionList"):
        entries = metadata.get(key)
        listed = entries if isinstance(entries, list) else []
        cleaned[key] = [
            e for e in listed if isinstance(e, dict) and "headless" not in str(e.get("brand", "")).lower()
        ]
    return cleaned


def _os_token(system: str | None = None, machine: str | None = None) -> str:
    """The platform part of a desktop Chrome UA for this machine's OS."""
    system = system or sys.platform
    machine = (machine or platform.machine()).lower()
    if system == "darwin":
        return "Macintosh; Intel Mac OS X 10_15_7"  # Chrome freezes this string on every Mac
    if system == "win32":
        return "Windows NT 10.0; Win64; x64"  # frozen likewise
    arch = "aarch64" if machine in ("aarch64", "arm64") else "x86_64"
    return f"X11; Linux {arch}"


def desktop_user_agent(version: str, *, system: str | None = None, machine: str | None = None) -> str:
    """The UA a headed Chrome `version` sends on this OS (reduced form: `Chrome/<major>.0.0.0`)."""
    major = version.split(".", 1)[0]
    if not major.isdigit():
        raise ValueError(f"not a browser version: {version!r}")
    return (
        f"Mozilla/5.0 ({_os_token(system, machine)}) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
    )


def unheadless(user_agent: str) -> str:
    """A browser's own UA with the headless give-away removed (for remote browsers)."""
    return re.sub(r"HeadlessChrome/", "Chrome/", user_agent)


def looks_automated(fingerprint: dict[str, object]) -> list[str]:
    """Human-readable reasons why a `FINGERPRINT_JS` result would give us away (empty: fine)."""
    reasons = []
    if fingerprint.get("webdriver"):
        reasons.append("navigator.webdriver is true")
    if "headless" in str(fingerprint.get("userAgent", "")).lower():
        reasons.append("User-Agent says HeadlessChrome")
    if any("headless" in str(b).lower() for b in fingerprint.get("brands") or []):  # type: ignore[attr-defined]
        reasons.append("navigator.userAgentData names HeadlessChrome")
    return reasons


__all__ = [
    "FINGERPRINT_JS",
    "HIDE_WEBDRIVER_JS",
    "STEALTH_ARGS",
    "STEALTH_IGNORED_DEFAULT_ARGS",
    "UA_METADATA_JS",
    "clean_ua_metadata",
    "desktop_user_agent",
    "looks_automated",
    "unheadless",
]
