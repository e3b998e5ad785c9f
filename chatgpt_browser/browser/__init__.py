"""The browser harvest: drive a real Chromium through the challenge and the login.

Modules: `executable` (find a browser), `launch` (start or connect, own the lifetime),
`stealth` (look like desktop Chrome), `xvfb` (a private display for headed runs),
`challenge` (wait for the challenge to clear, click its checkbox), `login` (the
NextAuth/auth0 flow), `bundle` (what the browser saw -> `Credentials`) and `harvest`
(the public `harvest()` that ties them together).

Playwright is imported inside functions only, so importing this package stays cheap.
"""
