"""Make the argon2 hash of a dashboard password: ``python -m app.dashboard.hash_password [user]``.

Asks for the password twice (or reads one line from a pipe) and prints the
hash, or ``user:<hash>`` given a user name: one entry of DASHBOARD_USERS.
The password is never an argument, so it stays out of the shell's history.
"""

from __future__ import annotations

import getpass
import sys

from app.adapters.passwords import hash_password


def main(argv: list[str]) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("The two passwords differ.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("An empty password is refused.", file=sys.stderr)
        return 1
    hashed = hash_password(password)
    print(f"{argv[0]}:{hashed}" if argv else hashed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
