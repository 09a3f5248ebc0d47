import sys

import pytest

from yinji.net.alloc import keep_buffers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning")
def test_keep_buffers_applies_once_and_stays_applied():
    assert keep_buffers() is True
    assert keep_buffers() is True
