"""Shared pytest set-up: the markers the suite uses."""


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives the app in headless Chromium (deselect with -m 'not browser')",
    )
    config.addinivalue_line(
        "markers",
        "slow: among the suite's longest tests (statistical agreement with the reference "
        "model, killed sweeps); deselect with -m 'not slow'",
    )
