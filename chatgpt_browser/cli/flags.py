"""Flag groups shared by the CLI's commands, and the parser with the CLI's failure contract.

Every flag's help names its environment variable and default (docs/settings.md lists all).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .exit_codes import ExitStatus

S = argparse.SUPPRESS


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's failure contract: one line on stderr, exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(f"chatgpt-browser: ConfigError: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(ExitStatus.BAD_CONFIG)


class _RefusePassword(argparse.Action):
    """`--password` exists only to say why it does not: argv is visible to every user."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "passwords are never read from the command line; use --password-env NAME, "
            "--password-file FILE or --password-stdin"
        )


def h(text: str, env: str | None = None, default: str | None = None) -> str:
    """Help text with the environment variable and the default, as --help shows them."""
    extra = [f"env {env}"] if env else []
    extra += [f"default: {default}"] if default else []
    return f"{text} [{'; '.join(extra)}]" if extra else text


def output_flags(common: Parser) -> None:
    out = common.add_argument_group("output")
    out.add_argument(
        "-q", "--quiet", action="store_true", default=S, help="print only the result and fatal errors"
    )
    out.add_argument("--json", action="store_true", default=S, help="machine-readable output")
    out.add_argument(
        "-v", "--verbose", action="count", default=S, help="-v: log INFO, -vv: DEBUG (secrets redacted)"
    )
    out.add_argument("--debug", action="store_true", default=S, help="show tracebacks on errors")
    out.add_argument(
        "--log-file", metavar="FILE", default=S, help="also log to FILE (INFO and up, even with -q)"
    )
    out.add_argument(
        "--log-format", choices=("text", "json"), default=S, help="log lines as text or JSON (default text)"
    )


def store_flags(p: Parser) -> None:
    g = p.add_argument_group("configuration and store")
    g.add_argument(
        "--config",
        metavar="FILE",
        help=h(
            "TOML configuration file", "CHATGPT_BROWSER_CONFIG", "<config dir>/chatgpt-browser/config.toml"
        ),
    )
    g.add_argument(
        "--state-dir",
        metavar="DIR",
        help=h("file store and browser profiles", "CHATGPT_BROWSER_STATE_DIR", "<state dir>/chatgpt-browser"),
    )
    g.add_argument(
        "--store",
        metavar="file|redis|URL",
        help=h("credential store, or a serve URL http(s)://host:8191", "CHATGPT_BROWSER_STORE", "file"),
    )
    g.add_argument(
        "--redis-url", metavar="URL", help=h("Redis URL for --store redis", "CHATGPT_BROWSER_REDIS_URL")
    )


def account_flags(p: Parser) -> None:
    g = p.add_argument_group("site and account")
    g.add_argument(
        "--url",
        help=h(
            "site URL",
            "CHATGPT_BROWSER_URL",
            "the site stored with the account, else https://chat.openai.com",
        ),
    )
    g.add_argument("--email", help=h("account e-mail", "CHATGPT_BROWSER_EMAIL"))
    g.add_argument(
        "--lock-timeout",
        type=float,
        metavar="S",
        help=h("max seconds to wait for another job's renewal", default="300"),
    )


def filter_flags(p: Parser) -> None:
    g = p.add_argument_group("which records")
    g.add_argument("--url", help="only records of this site (default: all)")
    g.add_argument("--email", help="only records of this account (default: all)")


def browser_flags(p: Parser) -> None:
    g = p.add_argument_group("login and browser")
    g.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from environment variable NAME "
        "[else CHATGPT_BROWSER_PASSWORD or password_env in the config file]",
    )
    g.add_argument("--password-file", metavar="FILE", help="read the password from FILE (first line, UTF-8)")
    g.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    g.add_argument("--password", action=_RefusePassword, help=S)
    profile_dir_flag(g)
    g.add_argument(
        "--cdp-url",
        metavar="URL",
        help=h(
            "reuse a running Chrome (its DevTools endpoint, "
            "e.g. http://127.0.0.1:9222) instead of launching one",
            "CHATGPT_BROWSER_CDP_URL",
        ),
    )
    g.add_argument(
        "--executable",
        metavar="PATH",
        help=h("Chromium executable", "CHATGPT_BROWSER_EXECUTABLE", "found on PATH"),
    )
    g.add_argument("--headed", action="store_true", help="show the browser (a person solves a captcha once)")
    g.add_argument(
        "--auth-host",
        action="append",
        metavar="HOST",
        help=h(
            "a host of the site's login service that may receive the password (repeat for "
            "several; replaces the default)",
            "CHATGPT_BROWSER_AUTH_HOSTS",
            "auth0.openai.com",
        ),
    )


def network_flags(p: Parser) -> None:
    g = p.add_argument_group("network")
    g.add_argument(
        "--proxy",
        metavar="URL",
        help=h(
            "egress proxy for the browser and the client (with a password: use the env var)",
            "CHATGPT_BROWSER_PROXY",
        ),
    )
    g.add_argument(
        "--ca-file",
        metavar="PEM",
        help=h(
            "trust this CA for the site (TLS-inspecting proxy, emulator --tls)", "CHATGPT_BROWSER_CA_FILE"
        ),
    )
    g.add_argument(
        "--trust-env",
        action="store_true",
        default=None,
        help=h(
            "let the client use HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE",
            "CHATGPT_BROWSER_TRUST_ENV",
            "off",
        ),
    )


def parent(*parts: Callable[[Parser], None]) -> Parser:
    common = Parser(add_help=False, allow_abbrev=False)
    output_flags(common)
    for part in parts:
        part(common)
    return common


def profile_dir_flag(g: argparse._ActionsContainer) -> None:
    """`--profile-dir`: the renewing commands and `logout` take the same flag."""
    g.add_argument(
        "--profile-dir",
        metavar="DIR",
        help=h("browser profile folder", "CHATGPT_BROWSER_PROFILE_DIR", "<state dir>/profiles/<account>"),
    )


__all__ = ["Parser", "S", "h", "output_flags", "parent", "profile_dir_flag"]
