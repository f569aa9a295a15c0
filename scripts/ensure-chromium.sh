#!/usr/bin/env bash
# The dashboard's browser test drives Debian's Chromium with playwright-core (no browser download
# from a CDN). Installs it with apt-get when /usr/bin/chromium is missing; does nothing otherwise.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null | tail -1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: $CHROMIUM is missing; run as root or install sudo: apt-get install -y chromium" >&2
    exit 1
  fi
fi

echo "installing chromium with apt-get (the dashboard's browser test needs it)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
echo "chromium: $("$CHROMIUM" --version 2>/dev/null | tail -1)"
