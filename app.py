"""Start the web chat: `python app.py` is `labchat serve` (same options, e.g. --port 8000)."""

import sys

from labchat.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])
