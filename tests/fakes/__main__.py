"""`PYTHONPATH=tests python -m fakes anthropic|openai [--port N] [--api-key KEY]`: run a fake
provider on 127.0.0.1 until Ctrl-C; prints its base URL on one line when ready."""

from __future__ import annotations

import argparse
import threading

from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes")
    parser.add_argument("provider", choices=["anthropic", "openai"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args()
    if args.provider == "anthropic":
        fake: FakeAnthropic | FakeOpenAI = FakeAnthropic(api_key=args.api_key)
        fake.start(args.port)
        print(fake.url, flush=True)
    else:
        fake = FakeOpenAI(api_key=args.api_key)
        fake.start(args.port)
        print(fake.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
