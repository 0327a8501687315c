"""A host's receiver, connected to every public signal of realms.signals, recording what it was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from realms import signals

PUBLIC_SIGNALS = {name: getattr(signals, name) for name in signals.__all__}


@dataclass
class Received:
    name: str
    sender: Any
    kwargs: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.kwargs[key]


@dataclass
class Recorder:
    """Every signal received, in order; `connect()`/`disconnect()` as a host's AppConfig.ready() would."""

    received: list[Received] = field(default_factory=list)

    def _receiver(self, signal, sender, **kwargs):
        name = next(n for n, s in PUBLIC_SIGNALS.items() if s is signal)
        self.received.append(Received(name, sender, kwargs))

    def connect(self) -> Recorder:
        for name, signal in PUBLIC_SIGNALS.items():
            signal.connect(self._receiver, weak=False, dispatch_uid=f"test-recorder-{name}")
        return self

    def disconnect(self) -> None:
        for name, signal in PUBLIC_SIGNALS.items():
            signal.disconnect(dispatch_uid=f"test-recorder-{name}")

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.received]

    def one(self, name: str) -> Received:
        """The one signal of that name (failing if it was sent twice or not at all)."""
        found = [r for r in self.received if r.name == name]
        assert len(found) == 1, f"{name} sent {len(found)} times: {self.names}"
        return found[0]

    def clear(self) -> None:
        self.received.clear()
