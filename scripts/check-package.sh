#!/usr/bin/env bash
# Proves install-glance installs as a command the ways an operator installs it, and that the installed
# command behaves exactly as this checkout's bin/install-glance:
#   1. `npm pack`, then `npm install -g --prefix TMP install-glance-*.tgz`;
#   2. `npm install -g --prefix TMP2 .` from this clone (needs `npm ci` done here: it links the clone);
#   3. `npx .` from this clone.
# Each installed `install-glance` is run from a directory outside the clone, found on PATH: --version,
# --help, plan --help, a usage error (exit 64) and lab list must print what the checkout prints; then the
# packed one brings up a lab, plans against it and takes it down (templates and the lab's recipe scripts
# found inside the installed package). Any difference fails the script, with the difference shown.
#
#   bash scripts/check-package.sh [--no-lab]      (the lab part needs root and the lab's Debian packages)
set -euo pipefail
clone=$(cd "$(dirname "$0")/.." && pwd)
lab=pk-check
with_lab=1
[ "${1:-}" = --no-lab ] && with_lab=0

work=$(mktemp -d /tmp/ig-check-package.XXXXXX)
outside="$work/elsewhere"
mkdir -p "$outside" "$work/pack"
export INSTALL_GLANCE_SECRETS="$work/secrets"
checkout="$clone/bin/install-glance"
lab_is_up=0

started=$SECONDS
say() { printf 'check-package: [%3d s] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
cleanup() {
  local rc=$?
  if [ "$lab_is_up" = 1 ]; then "$checkout" lab down "$lab" >/dev/null 2>&1 || say "could not take lab $lab down: run \"bin/install-glance lab down $lab\""; fi
  rm -rf "$work"
  [ "$rc" = 0 ] && say "ok" || say "failed (exit $rc)"
}
trap cleanup EXIT

# run LABEL CMD ARGS…: stdout, stderr and the exit code of one run, from outside the clone, into $work/LABEL.
run() {
  local label=$1; shift
  local rc=0
  (cd "$outside" && "$@") >"$work/$label.out" 2>"$work/$label.err" || rc=$?
  echo "$rc" >"$work/$label.rc"
}

# same NAME ARGS…: the installed command (install-glance on PATH) and the checkout's must agree exactly.
same() {
  local name=$1; shift
  local desc="install-glance $*"
  run "$name-installed" install-glance "$@"
  run "$name-checkout" "$checkout" "$@"
  for part in rc out err; do
    if ! diff -u --label "checkout: $desc ($part)" --label "installed: $desc ($part)" "$work/$name-checkout.$part" "$work/$name-installed.$part" >&2; then
      die "$desc differs between the installed command ($(command -v install-glance)) and the checkout"
    fi
  done
}

# expect_rc NAME CODE: the exit code a run must have had.
expect_rc() {
  local got
  got=$(cat "$work/$1.rc")
  [ "$got" = "$2" ] || { cat "$work/$1.out" "$work/$1.err" >&2; die "$1 exited $got, expected $2"; }
}

# The checks every installed command passes; $1 names the install.
check_command() {
  local how=$1
  [ "$(command -v install-glance)" = "$PATH_HEAD/install-glance" ] || die "$how: install-glance on PATH is $(command -v install-glance), not the one just installed"
  same "$how-version" --version
  grep -Eq '^install-glance [0-9][^ ]* \(commit [0-9a-f]{12}(\+changes)?\)$' "$work/$how-version-installed.out" \
    || die "$how: --version printed \"$(cat "$work/$how-version-installed.out")\", not the version and the commit"
  same "$how-help" --help
  expect_rc "$how-help-installed" 0
  same "$how-plan-help" plan --help
  expect_rc "$how-plan-help-installed" 0
  same "$how-usage" plan --no-such-option
  expect_rc "$how-usage-installed" 64
  run "$how-list" install-glance lab list
  expect_rc "$how-list" 0
  head -1 "$work/$how-list.out" | grep -q '^NAME' || die "$how: lab list printed no header"
  say "$how: --version, --help, plan --help, usage error (64), lab list: as the checkout"
}

say "the checkout's command (it builds dist/ when stale)"
"$checkout" --version >/dev/null

say "npm pack"
(cd "$clone" && npm pack --silent --pack-destination "$work/pack" >/dev/null)
tarball=$(echo "$work"/pack/install-glance-*.tgz)
[ -f "$tarball" ] || die "npm pack made no install-glance-*.tgz"
tar -tzf "$tarball" | sed 's#^package/##' | sort >"$work/contents"
# The variants' recipes too: lab up --tls, --release juno and --glance-deps build from them.
for want in bin/install-glance.cjs dist/install-glance.mjs src/lab/recipe/boot.sh src/lab/recipe/install.sh src/lab/recipe/configure.sh \
  src/lab/recipe/tls/configure.sh src/lab/recipe/glance-deps/configure.sh src/lab/recipe/trusty/configure.sh src/lab/recipe/trusty/files/initctl package.json; do
  grep -qx "$want" "$work/contents" || die "the package lacks $want"
done
grep -Eq '^(playbooks/glance/)?templates/[^/]+/glance-api.conf$' "$work/contents" || die "the package has no templates"
if grep -E '^(test|bench|scripts|node_modules)/|\.ts$' "$work/contents" >&2; then die "the package ships files only the checkout needs (above)"; fi

say "npm install -g --prefix … $(basename "$tarball")"
npm install -g --prefix "$work/from-tarball" --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
PATH_HEAD="$work/from-tarball/bin"
PATH="$PATH_HEAD:$PATH" check_command tarball

if [ "$with_lab" = 1 ]; then
  say "lab up $lab, lab ssh, plan --lab $lab, lab down $lab with the installed command"
  if "$checkout" lab list | cut -f1 | grep -qx "$lab"; then "$checkout" lab down "$lab" >/dev/null; fi
  lab_is_up=1
  run lab-up env PATH="$PATH_HEAD:$PATH" install-glance lab up "$lab"
  expect_rc lab-up 0
  grep -q "^$lab	" "$work/lab-up.out" || die "lab up printed no line for $lab"
  # A config file to merge into, so the plan reads the release's template: its masked diff must show the
  # template's database connection. A fresh controller: the plan has changes (exit 2).
  run lab-seed env PATH="$PATH_HEAD:$PATH" install-glance lab ssh "$lab" -- 'mkdir -p /etc/glance && printf "[DEFAULT]\n" >/etc/glance/glance-api.conf'
  expect_rc lab-seed 0
  # Each with secrets of its own: the first plan keeps the values it generates, and the second would then
  # find them (and say nothing of generating any).
  run plan-installed env PATH="$PATH_HEAD:$PATH" INSTALL_GLANCE_SECRETS="$work/secrets-installed" install-glance plan --lab "$lab"
  run plan-checkout env INSTALL_GLANCE_SECRETS="$work/secrets-checkout" "$checkout" plan --lab "$lab"
  expect_rc plan-installed 2
  grep -qF '+connection = mysql+pymysql://glance:***@controller/glance' "$work/plan-installed.out" \
    || { cat "$work/plan-installed.out" "$work/plan-installed.err" >&2; die "the plan shows no glance-api.conf merged from the template"; }
  # Timings differ from run to run; everything else is the same.
  for f in plan-installed plan-checkout; do sed -E 's/[0-9]+(\.[0-9]+)? m?s\b/T/g' "$work/$f.out" >"$work/$f.norm"; done
  diff -u --label "checkout: plan --lab $lab" --label "installed: plan --lab $lab" "$work/plan-checkout.norm" "$work/plan-installed.norm" >&2 \
    || die "plan --lab $lab differs between the installed command and the checkout"
  run lab-down env PATH="$PATH_HEAD:$PATH" install-glance lab down "$lab"
  expect_rc lab-down 0
  lab_is_up=0
  say "tarball: lab up, lab ssh, plan (the template merged, exit 2, as the checkout's), lab down"
fi

say "npm install -g --prefix … . (from the clone)"
(cd "$clone" && npm install -g --prefix "$work/from-clone" --no-audit --no-fund --loglevel=error . >/dev/null)
PATH_HEAD="$work/from-clone/bin"
PATH="$PATH_HEAD:$PATH" check_command clone

say "npx . (from the clone)"
run npx-installed sh -c "cd '$clone' && npx --yes . --version"
run npx-checkout "$checkout" --version
diff -u --label "checkout: --version" --label "npx . --version" "$work/npx-checkout.out" "$work/npx-installed.out" >&2 || die "npx . --version differs from the checkout's"
expect_rc npx-installed 0
