from datadog_checks.base.utils.common import round_value


def test_round_value():
    assert round_value(2.5) == 3
