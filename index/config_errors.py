"""The one error type for bad configuration, shared by every section's validation."""


class ConfigError(ValueError):
    """A config value is invalid; the message names the key, the bad value and what is allowed."""

    def __init__(self, key: str, value: object, allowed: str):
        super().__init__(f"config: {key} = {value!r} is not allowed; expected {allowed}")
        self.key = key


def require(ok: bool, key: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)
