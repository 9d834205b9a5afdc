from datadog_checks.nginx import Nginx


def test_check():
    assert Nginx('nginx', {}, [{}]).run()
