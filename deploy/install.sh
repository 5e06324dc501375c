#!/usr/bin/env bash
# Installs bustle from this checkout as services, the way admins run everything else:
# the build in /opt/bustle, the `bustle` system user, the four commands on every user's PATH,
# a commented /etc/bustle/{node,control}.yaml (only when absent), systemd units, logrotate and
# the inotify sysctl. Run it again to upgrade in place; --uninstall removes what it added.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/install.sh [--prefix DIR] [--root DIR] [--no-apply] [--uninstall]

Run as root from a bustle checkout (after `npm ci`, or it runs it). It installs:
  PREFIX (default /opt/bustle)      the built programs and their production dependencies
  /usr/local/bin/bustle, bustled, bustle-control, bustle-cluster   links into PREFIX
  /etc/bustle/node.yaml, control.yaml   commented configs, written only when absent
  /var/lib/bustle                   the node's data (log, audit log, state), owned by `bustle`
  /etc/systemd/system/{bustled,bustle-nats,bustle-control}.service
  /etc/logrotate.d/bustle           weekly rotation; bustled reopens its logs on SIGHUP
  /etc/sysctl.d/60-bustle.conf      fs.inotify.max_user_watches for watching every home
  /etc/profile.d/bustle.sh          `bustle digest` at login, for users who asked (digest --on)
A second run upgrades in place and keeps config, state and logs (running services are
restarted). Nothing is enabled: `systemctl enable --now bustled` when the config is right.

Options:
  --prefix DIR   install the build in DIR instead of /opt/bustle
  --root DIR     install into DIR as if it were / (images, tests): no user, no ownership,
                 nothing applied to the running system
  --no-apply     write the files but leave the running system alone (no systemctl, no sysctl)
  --uninstall    remove what the installer added (programs, links, units, logrotate, sysctl
                 and profile.d files); keep /etc/bustle, /var/lib/bustle and the bustle user
  -h, --help     this text
EOF
}

PREFIX=/opt/bustle
ROOT=
APPLY=1
ACTION=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --no-apply) APPLY=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be an absolute path, got $PREFIX" >&2; exit 2 ;; esac
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  APPLY=0
fi
[ "$(id -u)" = 0 ] || { echo "install.sh: run it as root (it creates a system user and writes /etc, /opt, /usr/local)" >&2; exit 1; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ETC=/etc/bustle
DATA=/var/lib/bustle
BIN=/usr/local/bin
UNITS=/etc/systemd/system
LOGROTATE=/etc/logrotate.d/bustle
SYSCTL=/etc/sysctl.d/60-bustle.conf
PROFILE=/etc/profile.d/bustle.sh
PROGRAMS="bustle:relay/bin/bustle.js bustled:relay/bin/bustled.js bustle-control:control/bin/bustle-control.js bustle-cluster:federation/bin/bustle-cluster.js"
UNIT_NAMES="bustled bustle-nats bustle-control"

say() { echo "install.sh: $*"; }
r() { echo "$ROOT$1"; }   # a path inside the target root
systemd_running() { [ "$APPLY" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

uninstall() {
  if systemd_running; then
    for u in $UNIT_NAMES; do systemctl disable --now "$u.service" 2>/dev/null || true; done
  fi
  for entry in $PROGRAMS; do
    local name=${entry%%:*} link
    link=$(r "$BIN/$name")
    # Only our links: a command of the same name from elsewhere stays.
    if [ -L "$link" ] && [[ "$(readlink "$link")" == "$PREFIX"/* ]]; then rm -f "$link"; fi
  done
  for u in $UNIT_NAMES; do rm -f "$(r "$UNITS/$u.service")"; done
  rm -f "$(r "$LOGROTATE")" "$(r "$SYSCTL")" "$(r "$PROFILE")"
  rm -rf "$(r "$PREFIX")"
  systemd_running && systemctl daemon-reload || true
  say "removed $PREFIX, the commands in $BIN, the units, the logrotate, sysctl and profile.d files"
  say "kept $ETC (config), $DATA (log, audit log, state) and the bustle user; remove them by hand if you want them gone"
}

build() {
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$node_major" -ge 20 ] || { echo "install.sh: needs Node.js 20 or newer on PATH (found: $(node --version 2>/dev/null || echo none))" >&2; exit 1; }
  command -v nats-server >/dev/null || say "note: no nats-server on PATH; the embedded default needs it (apt-get install nats-server)"
  cd "$SRC"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  # Rebuilt only when a source is newer than the build (a fresh checkout, or after a pull).
  local stamp=dist/relay/bin/bustled.js
  if [ ! -e "$stamp" ] || [ -n "$(find cluster relay bots control federation types tsconfig.json package.json -newer "$stamp" -print -quit)" ]; then
    npm run --silent build
  fi
}

# The build, its production dependencies and the docs, into PREFIX: staged beside it, then
# swapped in, so running services keep their files until they restart.
install_tree() {
  local dest stage
  dest=$(r "$PREFIX")
  stage="$dest.new.$$"
  rm -rf "$stage"
  mkdir -p "$stage/dist"
  for part in cluster relay bots control federation types; do
    [ -d "$SRC/dist/$part" ] && cp -a "$SRC/dist/$part" "$stage/dist/"
  done
  cp -a "$SRC/package.json" "$SRC/package-lock.json" "$SRC/README.md" "$stage/"
  cp -a "$SRC/docs" "$stage/docs"
  mkdir -p "$stage/deploy" && cp -a "$SRC/deploy/systemd" "$SRC/deploy/examples" "$SRC/deploy/install.sh" "$stage/deploy/"
  cp -a "$SRC/node_modules" "$stage/node_modules"
  local out
  out=$(cd "$stage" && npm prune --omit=dev --no-audit --no-fund --offline 2>&1) || { echo "$out" >&2; exit 1; }
  for entry in $PROGRAMS; do chmod 0755 "$stage/dist/${entry#*:}"; done
  # The configs' JSON Schemas (editors: the first line of /etc/bustle/*.yaml), from this build.
  mkdir -p "$stage/schema"
  node "$stage/dist/relay/bin/bustled.js" schema > "$stage/schema/node.schema.json"
  node "$stage/dist/control/bin/bustle-control.js" schema > "$stage/schema/control.schema.json"
  chmod -R go-w "$stage"
  if [ -e "$dest" ]; then
    rm -rf "$dest.old"
    mv "$dest" "$dest.old"
  fi
  mkdir -p "$(dirname "$dest")"
  mv "$stage" "$dest"
  rm -rf "$dest.old"
  say "installed the build in $PREFIX"
}

link_programs() {
  mkdir -p "$(r "$BIN")"
  for entry in $PROGRAMS; do
    local name=${entry%%:*} target="$PREFIX/dist/${entry#*:}" link
    link=$(r "$BIN/$name")
    if [ -e "$link" ] && [ ! -L "$link" ]; then
      say "warning: $BIN/$name exists and is not a link; left alone (use $target)"
      continue
    fi
    ln -sfn "$target" "$link"
  done
  local node_bin
  node_bin=$(command -v node)
  case "$node_bin" in /usr/bin/node|/usr/local/bin/node|/bin/node) ;; *) say "note: node is $node_bin; users need it on their PATH for the commands in $BIN" ;; esac
}

ensure_user() {
  [ -z "$ROOT" ] || return 0
  if ! getent passwd bustle >/dev/null; then
    useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin --comment "bustle relay" bustle
    say "created the system user bustle"
  fi
}

# A config template with this install's schema location (and, for node.yaml, this host's id).
write_config() {
  local name=$1 mode=$2 dest
  dest=$(r "$ETC/$name")
  if [ -e "$dest" ]; then
    say "kept $ETC/$name"
    return
  fi
  local id
  id=$(hostname | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9-]+/-/g; s/^-+//' | cut -c1-32)
  [[ "$id" =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] || id=local
  sed -e "1s|^# yaml-language-server: \\\$schema=.*|# yaml-language-server: \$schema=file://$PREFIX/schema/${name%.yaml}.schema.json|" \
      -e "s|^  id: town  |  id: $id  |" "$SRC/deploy/examples/$name" > "$dest.tmp"
  chmod "$mode" "$dest.tmp"
  [ -z "$ROOT" ] && chown root:bustle "$dest.tmp"
  mv "$dest.tmp" "$dest"
  say "wrote $ETC/$name"
}

configs() {
  mkdir -p "$(r "$ETC")"
  chmod 0755 "$(r "$ETC")"
  write_config node.yaml 0644
  # control.yaml may come to name secrets: readable by the bustle group only.
  write_config control.yaml 0640
  local data
  data=$(r "$DATA")
  mkdir -p "$data"
  # The log is world-readable by design (users' feeds read it); the audit log and state are bustled's.
  chmod 0755 "$data"
  if [ -z "$ROOT" ] && [ "$(stat -c %U "$data")" != bustle ]; then chown -R bustle:bustle "$data"; fi
}

system_files() {
  local node_bin units
  node_bin=$(command -v node)
  units=$(r "$UNITS")
  mkdir -p "$units" "$(r /etc/logrotate.d)" "$(r /etc/sysctl.d)" "$(r /etc/profile.d)"
  install -m 0644 "$SRC/deploy/profile.d/bustle.sh" "$(r "$PROFILE")"
  for u in $UNIT_NAMES; do
    sed -e "s|/usr/bin/node |$node_bin |g" -e "s|/opt/bustle/|$PREFIX/|g" "$SRC/deploy/systemd/$u.service" > "$units/$u.service"
    chmod 0644 "$units/$u.service"
  done
  cat > "$(r "$LOGROTATE")" <<EOF
# bustle's logs (deploy/install.sh). bustled reopens both on SIGHUP (systemctl reload bustled).
$DATA/bustle.log {
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    create 0644 bustle bustle
    postrotate
        systemctl reload bustled.service >/dev/null 2>&1 || true
    endscript
}
$DATA/audit.log {
    weekly
    rotate 52
    compress
    delaycompress
    missingok
    notifempty
    create 0600 bustle bustle
    postrotate
        systemctl reload bustled.service >/dev/null 2>&1 || true
    endscript
}
EOF
  cat > "$(r "$SYSCTL")" <<'EOF'
# bustle (deploy/install.sh): bustled watches one directory per home directory with inotify.
fs.inotify.max_user_watches = 524288
EOF
  chmod 0644 "$(r "$LOGROTATE")" "$(r "$SYSCTL")"
  if [ "$APPLY" = 1 ] && [ -w /proc/sys/fs/inotify/max_user_watches ] && [ "$(cat /proc/sys/fs/inotify/max_user_watches)" -lt 524288 ]; then
    sysctl -q -p "$SYSCTL" || say "note: could not apply $SYSCTL now; it applies at the next boot"
  fi
  if systemd_running; then
    systemctl daemon-reload
    systemctl try-restart bustled.service bustle-control.service || true
  fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi
build
ensure_user
install_tree
link_programs
configs
system_files
say "done. Next: bustled check --config $ETC/node.yaml && systemctl enable --now bustled"
say "      (a federation member: put bustle-cluster init's files in $ETC first; bots: $ETC/control.yaml and systemctl enable --now bustle-control)"
