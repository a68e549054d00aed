import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: a fault under load on the whole system (minutes; `-m 'not chaos'` leaves them out)"
    )
