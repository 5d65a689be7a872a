"""``python -m sotay_devstack run [--data .data] [--gateway-port 8080] [--demo small]
[--scale 2] [--workers 2]``"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sotay_kit.topology import GATEWAY_DEFAULT_PORT

from .demo import Size
from .stack import run

DEMO_SIZES: dict[str, Size | None] = {"small": "small", "full": "full", "none": None}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sotay_devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole platform; Ctrl-C stops it")
    run_p.add_argument("--data", type=Path, default=Path(".data"))
    run_p.add_argument("--gateway-port", type=int, default=GATEWAY_DEFAULT_PORT)
    run_p.add_argument(
        "--demo",
        choices=list(DEMO_SIZES),
        default="small",
        help="demo province loaded into an empty database (full: 2,910 cells, ~60,000 members)",
    )
    run_p.add_argument(
        "--scale",
        type=int,
        choices=(1, 2),
        default=1,
        help="replicas of every service; 2 also runs NATS as a 3-node cluster (docs/scaling.md)",
    )
    run_p.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes per service replica"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.command == "run":
        run(
            args.data,
            args.gateway_port,
            demo=DEMO_SIZES[args.demo],
            scale=args.scale,
            workers=args.workers,
        )


if __name__ == "__main__":
    main()
