"""Test helpers shared by every test group: one of each (issue 8).

- `waiting.wait_until`: poll a condition until it holds, with a deadline;
- `bundles.UA`, `bundles.HINTS`, `bundles.make_bundle`: the one test User-Agent and
  credential bundle factory;
- `servers.BlackHole`: a TCP server that accepts and never answers;
- `proxy.ForwardProxy`: a recording HTTP forward proxy on loopback;
- `chromium.cdp_chromium`: a Chromium listening for CDP on a free loopback port.
"""
