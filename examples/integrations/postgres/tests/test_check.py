from datadog_checks.postgres import PostgreSql


def test_check():
    assert PostgreSql('postgres', {}, [{}]).run()
