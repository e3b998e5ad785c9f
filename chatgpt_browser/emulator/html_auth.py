"""HTML of the auth0-like login origin: identifier, password and one-time-code pages."""

from __future__ import annotations

from html import escape

_STYLE = """body{font-family:system-ui,sans-serif;background:#fff;display:flex;justify-content:center}
main{width:22rem;margin-top:5rem} input{display:block;width:100%;padding:.6rem;margin:.4rem 0 1rem}
button{width:100%;padding:.7rem;margin:.3rem 0} .error{color:#d00;display:block;margin-bottom:1rem}
.captcha img{display:block;border:1px solid #ccc;margin:.4rem 0}"""


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>
<body><main class="login-id"><section class="c-content">{body}</section></main></body></html>
"""


def _error(message: str | None, field: str) -> str:
    if not message:
        return ""
    return f'<span id="error-element-{field}" class="error ulp-input-error-message">{escape(message)}</span>'


def identifier_page(
    state: str, *, username: str = "", error: str | None = None, captcha_src: str | None = None
) -> str:
    captcha = ""
    if captcha_src:
        captcha = (
            f'<div class="captcha ulp-captcha-container"><img alt="captcha" src="{escape(captcha_src)}">'
            '<label for="captcha">Enter the code shown above</label>'
            '<input id="captcha" name="captcha" type="text" autocomplete="off" autocapitalize="off"></div>'
        )
    body = f"""<h1>Welcome back</h1>
<form method="POST" action="/u/login/identifier?state={escape(state)}">
<input type="hidden" name="state" value="{escape(state)}">
<label for="username">Email address</label>
<input id="username" name="username" type="text" inputmode="email" autocomplete="username"
 value="{escape(username)}" autofocus>
{_error(error, "username")}{captcha}
<button type="submit" name="action" value="default" class="c-button">Continue</button>
</form>
<p>Don't have an account? <a href="/u/signup?state={escape(state)}">Sign up</a></p>
<div class="ulp-alternate-action"><span>OR</span>
<button type="button" data-provider="google" class="social">Continue with Google</button>
<button type="button" data-provider="windowslive" class="social">Continue with Microsoft Account</button>
</div>
"""
    return _page("Log in | OpenAI", body)


def password_page(state: str, email: str, *, error: str | None = None) -> str:
    body = f"""<h1>Enter your password</h1>
<form method="POST" action="/u/login/password?state={escape(state)}">
<input type="hidden" name="state" value="{escape(state)}">
<input type="text" name="username" value="{escape(email)}" readonly>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus>
{_error(error, "password")}
<button type="submit" name="action" value="default" class="c-button">Continue</button>
</form>
<a href="/u/reset-password/request/Username-Password-Authentication?state={escape(state)}">
Forgot password?</a>
"""
    return _page("Enter your password | OpenAI", body)


def otp_page(state: str, *, error: str | None = None) -> str:
    body = f"""<h1>Verify Your Identity</h1>
<p>Check your preferred one-time password application for a code.</p>
<form method="POST" action="/u/mfa-otp-challenge?state={escape(state)}">
<input type="hidden" name="state" value="{escape(state)}">
<label for="code">Enter your one-time code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" autofocus>
{_error(error, "code")}
<button type="submit" name="action" value="default" class="c-button">Continue</button>
</form>
"""
    return _page("Verify Your Identity | OpenAI", body)


def message_page(title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")
