"""Sessions: the manager, durable stores (file, Redis), single-flight locks, account pools.

Depends only on the core (errors, credentials, config); the browser harvest and the
HTTP refresh are callables handed in by `chatgpt_browser.app`.
"""
