"""The browser harvest: drive a real Chromium through the challenge and the login.

Modules: `executable` (find a browser, its version cached), `processes` (find and reap a
profile's Chromium), `environment` (what child processes may see), `launch` (start the
browser, own its lifetime), `remote` (attach over CDP), `stealth` (look like desktop
Chrome), `xvfb` (a private display for headed runs), `challenge` (wait for the challenge
to clear), `landing` (the landing page: capacity, not-the-site), `guard` (credentials
only to the site's hosts), `login` (the NextAuth/auth0 form), `verify` (ask the session
endpoint), `bundle` (what the browser saw -> `Credentials`), `steps` (re-clear, login,
verify), `interrupts` (signals and the deadline backstop), `artifacts` and `failures`
(what a failure leaves), `profile_state` (a saved profile's session, read without a
browser) and `harvest` (the public `harvest()` that ties them together).

Playwright is imported inside functions only, so importing this package stays cheap.
"""
