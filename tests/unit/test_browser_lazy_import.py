"""The browser package must not pull Playwright in until a browser is really needed."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_harvest_modules_leaves_playwright_unloaded() -> None:
    code = (
        "import sys\n"
        "import chatgpt_browser\n"
        "from chatgpt_browser import harvest\n"
        "import chatgpt_browser.browser.launch, chatgpt_browser.browser.challenge\n"
        "import chatgpt_browser.browser.login, chatgpt_browser.browser.xvfb\n"
        "assert callable(harvest)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('playwright', 'greenlet')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
