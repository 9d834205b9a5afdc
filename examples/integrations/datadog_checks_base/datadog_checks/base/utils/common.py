def round_value(value, precision=0):
    """Round half away from zero, the way the Agent reports gauges."""
    factor = 10 ** precision
    return int(value * factor + (0.5 if value >= 0 else -0.5)) / float(factor)


def to_native_string(value):
    return value.decode('utf-8') if isinstance(value, bytes) else str(value)
