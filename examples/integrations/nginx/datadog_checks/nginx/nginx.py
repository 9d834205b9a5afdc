from datadog_checks.base import AgentCheck


class Nginx(AgentCheck):
    __NAMESPACE__ = 'nginx'

    def check(self, instance):
        self.gauge('connections.active', 0, tags=['url:{}'.format(instance.get('nginx_status_url', ''))])
