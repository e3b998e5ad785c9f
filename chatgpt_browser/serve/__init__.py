"""`chatgpt-browser serve`: a credential service for fleets, speaking FlareSolverr's /v1 too.

Modules: options (settings and accounts), security (API key, rate limit, URL allow-list),
pool (bounded browsers), accounts (renewals), native and flaresolverr (the two APIs),
app (middlewares, probes), server (run and drain), cli (the subcommand), remote (the
client side: a worker's credential source backed by the service).
"""
