"""``python -m sotay_kit.devstack run [--data .data] [--gateway-port 8080]``"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..topology import GATEWAY_DEFAULT_PORT
from .stack import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sotay_kit.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole platform; Ctrl-C stops it")
    run_p.add_argument("--data", type=Path, default=Path(".data"))
    run_p.add_argument("--gateway-port", type=int, default=GATEWAY_DEFAULT_PORT)
    run_p.add_argument(
        "--demo",
        choices=["small", "full", "none"],
        default="small",
        help="demo province loaded into an empty database (full: 2,910 cells, ~60,000 members)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.command == "run":
        run(args.data, args.gateway_port, demo=None if args.demo == "none" else args.demo)


if __name__ == "__main__":
    main()
