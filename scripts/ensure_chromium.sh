#!/bin/sh
# Install Debian's chromium for the browser tests when /usr/bin/chromium is missing.
# Idempotent and quiet: does nothing when it is already there. Needs root (or sudo) to install.
set -eu
[ -x /usr/bin/chromium ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "ensure_chromium: /usr/bin/chromium still missing" >&2; exit 1; }
