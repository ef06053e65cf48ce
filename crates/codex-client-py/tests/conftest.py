"""The suite runs on the package's own test kit: the fixtures of codex_client.testing
(``codex_harness``, ``mock_model``, ``codex``, ``async_codex``) against the real app-server."""

pytest_plugins = ["codex_client.testing.pytest_plugin"]
