from datadog_checks.base import AgentCheck


class Redis(AgentCheck):
    __NAMESPACE__ = 'redis'

    def check(self, instance):
        tags = ['redis_host:{}'.format(instance.get('host', 'localhost'))]
        self.gauge('net.clients', 0, tags=tags)
