"""codex_client: the Codex app-server client, over the codex-client Rust core."""

from ._native import __version__

__all__ = ["__version__"]
