from __future__ import annotations

from kcdata.cli import main

if __name__ == "__main__":
    main()
