"""The requests-based client of the chat site (`ChatGPTAPI`) and its parts.

api.py (ChatGPTAPI: options, payloads, answers), requester.py (a call's attempts
under the retry policy, each request sent), keeper.py (the bundle's refresh /
rotation / renewals), conversation.py, models.py (ChatResponse, ModerationResult),
sse.py (sans-IO parser), stream.py (reading one answer), retry.py (policies),
status.py (HTTP answer -> typed error), wire.py (headers, cookies, session JSON),
refresh.py (HTTP-only session refresh), transport.py (requests / curl_cffi),
trace.py (`debug=True`), text.py (markdown -> plain text).
Depends only on the core (errors, credentials, config, pages).
"""
