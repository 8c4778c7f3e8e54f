# tests/integration/node.sh: what the Node-driven integration tests need,
# installed by the tests themselves so a fresh CI machine passes.  Sourced
# after lib.sh.  Everything goes under the build directory; nothing is cached
# outside the repository and the build tree.

# Installs tests/node's packages (the official @backstage/catalog-client,
# playwright-core) with `npm ci` into $GR_BUILD_DIR/node-tests, unless the
# same package-lock.json is installed there already, and copies the test
# scripts beside them so Node resolves the packages.  Sets node_dir.
node_tests_setup() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    { fail "node and npm are needed: run scripts/install-deps.sh"; finish; }
  node_dir="$GR_BUILD_DIR/node-tests"
  mkdir -p "$node_dir"
  local src="$GR_SOURCE_DIR/tests/node" want have=""
  want=$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)
  # Two tests may start at once under `ctest -j`: one installs, the other waits.
  exec {lock_fd}>"$node_dir/.lock"
  flock "$lock_fd"
  [ -f "$node_dir/node_modules/.greenroom-lock-sha256" ] && have=$(cat "$node_dir/node_modules/.greenroom-lock-sha256")
  if [ "$have" != "$want" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$node_dir/"
    if ! (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error --cache "$GR_BUILD_DIR/npm-cache"); then
      flock -u "$lock_fd"
      fail "npm ci for tests/node failed (the npm registry must be reachable once)"
      finish
    fi
    echo "$want" >"$node_dir/node_modules/.greenroom-lock-sha256"
  fi
  cp "$src"/*.mjs "$node_dir/"
  flock -u "$lock_fd"
}

# Makes sure Debian's chromium is installed (playwright-core drives it; no
# browser is ever downloaded by a test tool).  Skips the test, saying why,
# only when it cannot be installed.
chromium_setup() {
  chromium_bin=${GR_CHROMIUM:-/usr/bin/chromium}
  [ -x "$chromium_bin" ] && return 0
  echo "installing Debian's chromium for the browser test"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  # apt-get takes its own lock; two tests installing at once wait for it.
  if ! { DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 chromium; } >"$work/apt.log" 2>&1; then
    tail -n 5 "$work/apt.log"
    skip "chromium is not installed and could not be installed with apt-get (see above)"
  fi
  [ -x "$chromium_bin" ] || skip "apt-get installed chromium, but $chromium_bin is missing"
}

# What a browser test needs: the web build ($1, one of its files, must be
# there), Debian's chromium and tests/node's packages.
browser_test_setup() {
  [ -f "$GR_BUILD_DIR/web/$1" ] || { fail "no web build in $GR_BUILD_DIR/web (configure with GR_BUILD_WEB=ON)"; finish; }
  chromium_setup
  node_tests_setup
}

# browser_test FILE DIR WHAT [VAR=value...]: runs tests/node's FILE in
# chromium against the host, keeping its screenshots in
# $GR_BUILD_DIR/artifacts/DIR; the VAR=value pairs go to its environment.
# One check, named by WHAT.
browser_test() {
  local file=$1 what=$3 artifacts="$GR_BUILD_DIR/artifacts/$2"
  shift 3
  mkdir -p "$artifacts"
  if env GR_BASE_URL="http://127.0.0.1:$port" GR_ARTIFACT_DIR="$artifacts" \
    GR_CHROMIUM="$chromium_bin" GR_BROWSER_PROFILE="$work/chromium-profile" "$@" \
    node --test --test-reporter=spec "$node_dir/$file"; then
    pass "$what works in chromium (screenshots in $artifacts)"
  else
    fail "$what in chromium: see the failed steps above (screenshots in $artifacts)"
  fi
}
