"""The per-client day budget (`RateLimit.day`): a day's batch larger than the per-minute burst
is admitted as one request, charged once; the total a client can evaluate stays bounded by
`day * (1 + T / 24 h)` in any window T, however it splits its requests; the day bucket
persists across a restart like the rate bucket."""

import pytest

from yinji.crypto.aead import Aead
from yinji.pir import oprf
from yinji.pir.records import parse_rate

DAY = oprf.DAY


def limit(now, day=1500, rate="100/min"):
    r = parse_rate(rate)
    r.clock, r.day = (lambda: now[0]), day
    return r


def test_a_days_batch_is_one_request_and_a_second_is_refused():
    now = [10_000.0]
    r = limit(now)
    assert r.take("bank", 1000)             # 1000 > burst 100: admitted with a day budget
    assert r.remaining_today("bank") == 500
    assert not r.take("bank", 1000)          # over the day budget
    assert r.remaining_today("bank") == 500  # a refusal spends nothing
    now[0] += 60
    assert r.take("bank", 500) and not r.take("bank", 1)
    assert r.take("fund", 1000)              # per client
    assert not parse_rate("100/min").take("bank", 1000)   # without a day budget: refused


def test_the_rate_bucket_still_bounds_how_often():
    now = [0.0]
    r = limit(now, day=10_000, rate="10/min")
    assert r.take("bank", 5) and r.take("bank", 5)
    assert not r.take("bank", 1)            # the minute's burst is spent
    now[0] += 6
    assert r.take("bank", 1)
    assert not r.take("bank", 1000)         # a batch needs a full rate bucket...
    now[0] += 60
    assert r.take("bank", 1000)             # ...and empties it: charged once, as one burst
    assert not r.take("bank", 1)


@pytest.mark.parametrize("split", [1, 7, 100, 1500])
def test_total_in_any_day_is_bounded_however_requests_are_split(split):
    """A greedy client asking every minute for `split` keys gets at most day * (1 + T/24h)
    keys in a window of T seconds."""
    now, day = [0.0], 1500
    r = limit(now, day=day, rate="100/min")
    got, times = [], []
    for minute in range(3 * 24 * 60):
        now[0] = minute * 60.0
        for _ in range(3):
            if r.take("bank", split):
                got.append(split)
                times.append(now[0])
    for start in range(0, 2 * 24 * 3600, 3600):
        window = sum(n for n, t in zip(got, times, strict=True) if start <= t < start + DAY)
        assert window <= day * 2
    total = sum(got)
    assert total <= day * (1 + 3)           # 3 days: burst + 3 refills
    assert total >= day * 3 * 0.9           # and a day's worth is really usable


def test_day_budget_survives_a_restart(tmp_path):
    now, path = [1000.0], tmp_path / "daily.oprf"

    def opened():
        return oprf.OprfServer.open(oprf.SealedOprfState(path, Aead(bytes(32)), "m/daily"),
                                    limit(now, day=1500, rate="10/min"))

    def ask(server, n):
        state, blinded = oprf.blind([b"k%d" % i for i in range(n)])
        return oprf.finalize(state, server.evaluate("bank", blinded))

    assert len(ask(opened(), 1000)) == 1000
    now[0] += 3600                          # the minute bucket is full again; the day not
    with pytest.raises(oprf.RateLimited):
        ask(opened(), 1000)
    assert opened().rate_limit.remaining_today("bank") == 500 + int(1500 * 3600 / DAY)
    # a server restarted without a day budget ignores the day entries (its own bound applies)
    plain = oprf.OprfServer.open(oprf.SealedOprfState(path, Aead(bytes(32)), "m/daily"),
                                 parse_rate("10/min"))
    assert plain.rate_limit.remaining_today("bank") is None
