"""browser package."""
