"""The requests-based client of the chat site (`ChatGPTAPI`) and its parts.

api.py (ChatGPTAPI), keeper.py (the bundle's refresh / rotation / renewals),
conversation.py, models.py (ChatResponse, ModerationResult), sse.py (sans-IO parser),
stream.py (reading one answer), retry.py (policies), status.py (HTTP answer -> typed
error), wire.py (headers, cookies, session JSON), refresh.py (HTTP-only session
refresh), transport.py (requests / curl_cffi), text.py (markdown -> plain text).
Depends only on the core (errors, credentials, config, pages).
"""
