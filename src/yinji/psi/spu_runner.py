"""One party of SecretFlow spu's RR22 PSI, run as a separate process by `yinji.psi.rr22`
under an interpreter that has `spu` (the `yinji[spu]` extra, or a side virtualenv: spu
0.9.5 pins numpy<2 and Python <= 3.11). Standard library + spu only: no yinji imports.

    python spu_runner.py --rank 0 --hosts 127.0.0.1:5001 127.0.0.1:5002 \
        --input keys.csv --output out.csv --receiver-rank 0 [--broadcast]

Prints one line "YINJI_SPU_RESULT {json}" with the intersection count.
"""

from __future__ import annotations

import argparse
import json
import os

MARK = "YINJI_SPU_RESULT "


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rank", type=int, required=True)
    ap.add_argument("--hosts", nargs=2, required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--receiver-rank", type=int, required=True)
    ap.add_argument("--broadcast", action="store_true")
    args = ap.parse_args()

    import spu.libspu.link as link
    import spu.psi as psi

    desc = link.Desc()
    for i, host in enumerate(args.hosts):
        desc.add_party(f"p{i}", host)
    desc.connect_retry_times = 600
    desc.connect_retry_interval_ms = 50
    desc.recv_timeout_ms = 3_600_000
    desc.http_timeout_ms = 3_600_000
    opts = desc.retry_opts  # no constructor: read, change, assign back
    opts.retry_interval_ms = 100
    opts.retry_interval_incr_ms = 0
    opts.max_retry = 100
    desc.retry_opts = opts
    lctx = link.create_brpc(desc, args.rank)
    conf = psi.PsiExecuteConfig(
        protocol_conf=psi.PsiProtocolConfig(
            protocol=psi.PsiProtocol.PROTOCOL_RR22, receiver_rank=args.receiver_rank,
            broadcast_result=args.broadcast),
        input_params=psi.InputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV, path=os.path.abspath(args.input),
            selected_keys=["k"], keys_unique=True),
        output_params=psi.OutputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV, path=os.path.abspath(args.output),
            disable_alignment=True),
    )
    report = psi.psi_execute(conf, lctx)
    lctx.stop_link()
    print(MARK + json.dumps({"intersection": report.intersection_count}), flush=True)


if __name__ == "__main__":
    main()
