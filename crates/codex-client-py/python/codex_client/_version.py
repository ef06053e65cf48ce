"""The package's version: the pinned Codex runtime's (``openai-codex-cli-bin``)."""

__version__ = "0.163.0"
