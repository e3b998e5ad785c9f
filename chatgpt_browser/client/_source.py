"""A plain callable as a `CredentialSource` (the `provider=` option of `ChatGPTAPI`)."""

from __future__ import annotations

from collections.abc import Callable

from ..credentials import Credentials, CredentialSource


class CallableSource:
    """Adapts a plain callable returning `Credentials` to the `CredentialSource` protocol."""

    def __init__(self, factory: Callable[[], Credentials]) -> None:
        self._factory = factory

    def get(self, min_ttl: float = 0.0) -> Credentials:
        return self._factory()

    def renew(self, reason: str, stale: Credentials | None = None) -> Credentials:
        return self._factory()

    def update(self, credentials: Credentials) -> None:
        """A callable has nowhere to keep a rotated bundle; the client keeps it."""


def as_source(provider: CredentialSource | Callable[[], Credentials] | None) -> CredentialSource | None:
    """A `CredentialSource` from a source, a plain callable, or None."""
    if provider is None or isinstance(provider, CredentialSource):
        return provider
    if callable(provider):
        return CallableSource(provider)
    raise TypeError("provider must be a CredentialSource or a callable returning Credentials")


__all__ = ["CallableSource", "as_source"]
