from datadog_checks.redisdb import Redis


def test_check():
    assert Redis('redisdb', {}, [{}]).run()
