#!/usr/bin/env bash
# Installs the Debian packages greenroom builds and tests with, when missing.
# Safe to run again: it asks apt only for what dpkg does not already have.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libuv1-dev libpq-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev libhttp-parser-dev libssl-dev
  postgresql            # the embedded cluster's server binaries (initdb, postgres, pg_ctl)
  util-linux            # setpriv, to run PostgreSQL as an unprivileged user
  curl                  # used by the integration tests to drive the host over loopback
  openssl               # the webhook test's reference HMAC (openssl dgst -hmac)
  jq                    # used by the integration tests to read JSON answers
)
if [ "${GR_DEPS_EXTRA:-}" != "" ]; then
  # shellcheck disable=SC2206
  packages+=(${GR_DEPS_EXTRA})
fi

# The web UI is built with npm (web/, at build time) and the browser and
# catalog-client tests run under node.  A node that did not come from
# Debian's package (NodeSource's, say) is as good: only ask for Debian's
# when the commands are missing.  A web build whose web/node_modules matches
# package-lock.json runs no `npm ci` and needs no network.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
