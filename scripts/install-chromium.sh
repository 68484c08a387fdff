#!/usr/bin/env bash
# The browser tests drive the system Chromium (Debian's `chromium` package). Install it
# where it is missing; never download a browser build at test time.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
if command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing at $CHROMIUM: install it with your package manager" >&2
  echo "(or set CHROMIUM=/path/to/chromium)." >&2
  exit 1
fi
