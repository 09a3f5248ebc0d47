"""Transport: channels between named parties (in-memory for tests, mutual-TLS TCP for nodes)."""

from yinji.net.channel import (
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelStats,
    ChannelTimeout,
    MalformedFrame,
    Party,
    PeerUnavailable,
)

__all__ = [
    "Channel",
    "ChannelClosed",
    "ChannelError",
    "ChannelStats",
    "ChannelTimeout",
    "MalformedFrame",
    "Party",
    "PeerUnavailable",
]
