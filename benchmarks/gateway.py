"""Gateway benchmark: detector precision/recall per category and proxy latency overhead.

    python benchmarks/gateway.py [--requests 300] [--chars 2000]

1. Precision / recall on tests/data/gateway_corpus.jsonl (span overlap, same category).
2. End-to-end latency of ~2,000-character chat requests sent directly to a fake upstream on
   127.0.0.1 and through the gateway to the same upstream; overhead = gateway - direct.
3. If benchmarks/.peers/presidio exists (benchmarks/setup_peers.sh), Presidio on the English
   snippets, with mobile/landline merged into "phone" for both tools.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from gateway_eval import load, score, table, yinji_predict  # noqa: E402
from yinji.gateway.config import GatewayConfig  # noqa: E402
from yinji.gateway.detectors.engine import DetectorEngine  # noqa: E402
from yinji.gateway.proxy import create_app  # noqa: E402
from yinji.testing.fake_llm import FakeUpstream  # noqa: E402
from yinji.testing.servers import free_port  # noqa: E402

PEER_PY = Path(__file__).parent / ".peers" / "presidio" / "bin" / "python"


def print_table(title: str, rows: list[tuple[str, int, float, float]]) -> None:
    print(f"\n{title}\n{'category':<14}{'gold':>6}{'precision':>11}{'recall':>9}")
    for c, n, p, r in rows:
        print(f"{c:<14}{n:>6}{p:>11.3f}{r:>9.3f}")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def requests_of(rows: list[dict], chars: int, n: int) -> list[str]:
    texts, buf, i = [], "", 0
    while len(texts) < n:
        buf += rows[i % len(rows)]["text"] + "\n"
        i += 1
        if len(buf) >= chars:
            texts.append(buf[:chars])
            buf = ""
    return texts


def latency(rows: list[dict], n: int, chars: int) -> None:
    texts = requests_of(rows, chars, n)
    engine = DetectorEngine()
    engine.warm_up()
    det = []
    for t in texts:
        t0 = time.perf_counter()
        engine.detect(t)
        det.append((time.perf_counter() - t0) * 1000)
    with _process(_run_upstream) as up, _process(_run_gateway, up) as gw, \
            httpx.Client(timeout=30) as client:
        direct, via = [], []
        for k, t in enumerate(texts + texts[:20]):
            body = {"model": "fake-model", "messages": [{"role": "user", "content": t}]}
            for url, out in ((up, direct), (gw, via)):
                t0 = time.perf_counter()
                r = client.post(url + "/v1/chat/completions", json=body)
                ms = (time.perf_counter() - t0) * 1000
                r.raise_for_status()
                if k >= 20:  # first 20 are warm-up
                    out.append(ms)
    print(f"\nLatency, {n} chat requests of {chars} characters (mixed zh/en corpus text), "
          "fake upstream and gateway each in its own process on 127.0.0.1, 2 cores")
    print(f"{'':<28}{'p50 ms':>8}{'p99 ms':>8}")
    print(f"{'detection only (in-process)':<28}{pct(det, .5):>8.2f}{pct(det, .99):>8.2f}")
    print(f"{'direct to upstream':<28}{pct(direct, .5):>8.2f}{pct(direct, .99):>8.2f}")
    print(f"{'through gateway':<28}{pct(via, .5):>8.2f}{pct(via, .99):>8.2f}")
    diffs = [v - d for v, d in zip(via, direct, strict=True)]
    print(f"{'overhead (paired diff)':<28}{pct(diffs, .5):>8.2f}{pct(diffs, .99):>8.2f}")
    print(f"mean overhead {statistics.mean(diffs):.2f} ms")


def _run_upstream(port: int, _: str) -> None:
    uvicorn.run(FakeUpstream(chunk_size=50).app(), host="127.0.0.1", port=port, log_level="error",
                access_log=False)


def _run_gateway(port: int, upstream: str) -> None:
    cfg = GatewayConfig(upstream_url=upstream + "/v1", timeout=30)
    uvicorn.run(create_app(cfg), host="127.0.0.1", port=port, log_level="error", access_log=False)


@contextmanager
def _process(target, upstream: str = "") -> Iterator[str]:  # noqa: ANN001
    """Run a server in its own process (own GIL, as in deployment); yield its URL."""
    port = free_port()
    proc = mp.get_context("spawn").Process(target=target, args=(port, upstream), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/v1/models", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.join(10)


def merge_phone(spans: list) -> list:
    return [(s, e, "phone" if c in ("mobile", "landline") else c) for s, e, c in spans]


def presidio(rows: list[dict]) -> None:
    en = [r for r in rows if r["lang"] == "en"]
    if not PEER_PY.exists():
        print("\nPresidio: side venv missing (run benchmarks/setup_peers.sh); skipped")
        return
    proc = subprocess.run([str(PEER_PY), str(Path(__file__).parent / "presidio_peer.py")],
                          input=json.dumps([r["text"] for r in en]), capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode:
        print("\nPresidio failed:\n" + proc.stderr[-2000:])
        return
    res = json.loads(proc.stdout)
    by_text = {r["text"]: [tuple(s) for s in sp] for r, sp in zip(en, res["spans"], strict=True)}
    gold = [{**r, "spans": merge_phone(r["spans"])} for r in en]
    comparable = {"person", "email", "phone", "bank_card", "address", "passport", "account"}
    ours = yinji_predict()
    for name, pred in (("Yinji", lambda t: merge_phone(ours(t))),
                       (f"Presidio ({res['model']})", lambda t: by_text[t])):
        g = [{**r, "spans": [s for s in r["spans"] if s[2] in comparable]} for r in gold]
        tp, fp, fn, _ = score(g, lambda t, pred=pred: [s for s in pred(t) if s[2] in comparable])
        print_table(f"English snippets ({len(en)}), {name}", table(tp, fp, fn))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--skip-latency", action="store_true")
    a = ap.parse_args()
    rows = load()
    tp, fp, fn, errors = score(rows, yinji_predict())
    print(f"Corpus: {len(rows)} snippets "
          f"({Counter(r['lang'] for r in rows)['zh']} zh, {Counter(r['lang'] for r in rows)['en']} en), "
          f"{sum(len(r['spans']) for r in rows)} gold spans")
    print_table("Yinji detectors, all snippets (overlap match, same category)", table(tp, fp, fn))
    if not a.skip_latency:
        latency(rows, a.requests, a.chars)
    presidio(rows)


if __name__ == "__main__":
    main()
