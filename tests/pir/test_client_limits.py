"""A member's oversized reply is refused by the client, naming the member, not read whole."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.net.channel import MalformedFrame
from yinji.pir import client as pir_client
from yinji.pir.wire import recv_msg, send_msg
from yinji.testing.parties import run_parties


def test_an_oversized_hint_is_refused_naming_the_member(monkeypatch):
    monkeypatch.setattr(pir_client, "MAX_REPLY_PART", 4096)

    def body(party):
        if party.name == "member":
            ch = party.channel("officer")
            header, _ = recv_msg(ch)
            send_msg(ch, {"id": header["id"], "status": "ok", "lwe": {}, "layout": {},
                          "version": "1"}, (np.zeros((64, 64), dtype=np.uint32),))
            return None
        with pytest.raises(MalformedFrame, match="'member'.*exceeds the limit of 4096 bytes"):
            pir_client.PirClient(party.channel("member")).refresh()
        return True

    assert run_parties(body, names=["officer", "member"])[0] is True
