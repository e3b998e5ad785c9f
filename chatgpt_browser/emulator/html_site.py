"""HTML of the site origin: the Cloudflare pages (managed and interactive challenge,
error 1020) with the markers of the real ones, the landing, capacity and chat pages."""

from __future__ import annotations

import functools
import json
from html import escape
from importlib import resources

from .jsontypes import JSONMapping


@functools.cache
def static_text(name: str) -> str:
    return resources.files(__package__).joinpath("static").joinpath(name).read_text(encoding="utf-8")


CHALLENGES_CSS = """body{margin:0;font-family:system-ui,-apple-system,sans-serif;color:#313131}
.main-wrapper{display:flex;flex-direction:column;align-items:center;margin-top:8rem}
.main-content{max-width:60rem;padding:0 1.5rem}
h1.zone-name-title{font-size:2.5rem;font-weight:500}
#cf-chl-widget-box{display:none;margin:2rem 0;padding:1rem;border:1px solid #ccc;width:18rem}
.footer{margin-top:4rem;font-size:.75rem;color:#595959}
"""


def challenge_page(
    *, host: str, action: str, opt: JSONMapping, interactive: bool, failed: bool, ray: str
) -> str:
    opt_js = json.dumps(opt, separators=(",", ":"))
    if failed:
        status = "Verification failed. Reload the page to try again."
    else:
        status = "Checking if the site connection is secure"
    widget = ""
    if interactive:
        widget = (
            '<div id="cf-chl-widget-box" class="cf-turnstile">'
            '<label><input type="checkbox" id="cf-chl-widget"> Verify you are human</label></div>'
        )
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta http-equiv="X-UA-Compatible" content="IE=Edge">
<meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link href="/cdn-cgi/styles/challenges.css" rel="stylesheet">
</head>
<body class="no-js">
<div class="main-wrapper" role="main">
<div class="main-content">
<h1 class="zone-name-title h1">{escape(host)}</h1>
<h2 id="challenge-running" class="h2">{escape(status)}</h2>
<noscript><div id="challenge-error-title"><div class="h2"><span class="icon-wrapper"></span>
<span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript>
{widget}
<div id="challenge-body-text" class="core-msg spacer">
{escape(host)} needs to review the security of your connection before proceeding.</div>
<form id="challenge-form" action="{escape(action)}" method="POST" enctype="application/x-www-form-urlencoded">
<input type="hidden" name="md" value="{escape(str(opt["cRay"]))}">
<input type="hidden" name="wd" value=""><input type="hidden" name="ua" value="">
<input type="hidden" name="br" value=""><input type="hidden" name="pw" value="">
<input type="hidden" name="ck" value="">
</form>
</div>
</div>
<script>
(function(){{window._cf_chl_opt={opt_js};}})();
</script>
<script>{static_text("challenge.js")}</script>
<div class="footer" role="contentinfo"><div class="footer-inner">
<div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>{escape(ray)}</code></div></div>
<div class="text-center">Performance &amp; security by
<a rel="noopener noreferrer" href="https://www.cloudflare.com" target="_blank">Cloudflare</a></div>
</div></div>
</body>
</html>
"""


def block_page(*, host: str, ip: str, ray: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head><title>Access denied | {escape(host)} used Cloudflare to restrict access</title>
<meta charset="UTF-8"><link rel="stylesheet" href="/cdn-cgi/styles/challenges.css"></head>
<body>
<div id="cf-wrapper"><div id="cf-error-details" class="cf-error-details-wrapper">
<div class="cf-wrapper cf-header cf-error-overview">
<h1><span class="cf-error-type" data-translate="error">Error</span>
<span class="cf-error-code">1020</span></h1>
<h2 class="cf-subheadline"><span data-translate="error">Access denied</span></h2>
</div>
<section><p>This website is using a security service to protect itself from online attacks.</p>
<p>Error code: 1020</p>
<p>The site owner may have set restrictions that prevent you from accessing the site.</p></section>
<div class="cf-error-footer"><p>Cloudflare Ray ID: <strong>{escape(ray)}</strong> &bull;
Your IP: <span>{escape(ip)}</span> &bull; Performance &amp; security by Cloudflare</p></div>
</div></div>
</body></html>
"""


def _app_page(title: str, body: str, script: str = "") -> str:
    js = f"<script>{static_text(script)}</script>" if script else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:0;background:#f7f7f8}}
#__next{{display:flex;flex-direction:column;align-items:center;padding:4rem 1rem}}
.btn{{padding:.6rem 1.4rem;margin:.3rem;border-radius:.3rem;border:0;cursor:pointer}}
.btn-primary{{background:#10a37f;color:#fff}} .btn-neutral{{background:#fff;border:1px solid #ccc}}
.message{{white-space:pre-wrap;margin:.5rem 0;padding:.6rem;background:#fff;
border-radius:.3rem;max-width:48rem}}
.assistant{{background:#eef}} textarea{{width:40rem;max-width:90vw;height:4rem}}</style>
</head><body><div id="__next">{body}</div>{js}</body></html>
"""


def landing_page() -> str:
    return _app_page(
        "ChatGPT",
        "<h1>Welcome to ChatGPT</h1><p>Log in with your OpenAI account to continue</p>"
        '<div class="flex"><button id="login-button" class="btn btn-primary">Log in</button>'
        '<button id="signup-button" class="btn btn-neutral">Sign up</button></div>',
        "landing.js",
    )


def capacity_page() -> str:
    return _app_page(
        "ChatGPT",
        "<h1>ChatGPT is at capacity right now</h1>"
        "<p>Get notified when we're back. Please try again later.</p>",
    )


def chat_page(email: str) -> str:
    return _app_page(
        "New chat",
        f'<p class="account">{escape(email)}</p><div id="thread"></div>'
        '<form id="chat-form"><textarea name="prompt" placeholder="Send a message..." rows="3"></textarea>'
        '<button type="submit" class="btn btn-primary">Send</button></form>',
        "chat.js",
    )


def html_error_page(status: int, text: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{status}</title></head>"
        f"<body><h1>{status}</h1><p>{escape(text)}</p></body></html>"
    )
