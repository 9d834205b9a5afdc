class AgentCheck(object):
    """A minimal stand-in for the Agent's check base class."""

    OK, WARNING, CRITICAL, UNKNOWN = (0, 1, 2, 3)
    __NAMESPACE__ = ''

    def __init__(self, name=None, init_config=None, instances=None):
        self.name = name or ''
        self.init_config = init_config or {}
        self.instances = instances or [{}]
        self.instance = self.instances[0]
        self.submitted = []

    def _metric_name(self, name):
        return '{}.{}'.format(self.__NAMESPACE__, name) if self.__NAMESPACE__ else name

    def gauge(self, name, value, tags=None):
        self.submitted.append(('gauge', self._metric_name(name), value, tuple(tags or ())))

    def count(self, name, value, tags=None):
        self.submitted.append(('count', self._metric_name(name), value, tuple(tags or ())))

    def service_check(self, name, status, tags=None, message=None):
        self.submitted.append(('service_check', self._metric_name(name), status, tuple(tags or ())))

    def check(self, instance):
        raise NotImplementedError

    def run(self):
        self.check(self.instance)
        return self.submitted
