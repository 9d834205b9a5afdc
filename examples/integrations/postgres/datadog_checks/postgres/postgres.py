from datadog_checks.base import AgentCheck, ConfigurationError


class PostgreSql(AgentCheck):
    __NAMESPACE__ = 'postgresql'

    def __init__(self, name=None, init_config=None, instances=None):
        super(PostgreSql, self).__init__(name, init_config, instances)
        self.host = self.instance.get('host', 'localhost')
        self.port = int(self.instance.get('port', 5432))
        if not self.instance.get('username', 'datadog'):
            raise ConfigurationError('`username` must not be empty')

    def check(self, instance):
        tags = ['host:{}'.format(self.host), 'port:{}'.format(self.port)]
        self.gauge('connections', 0, tags=tags)
        self.service_check('can_connect', self.OK, tags=tags)
