# Sourced by the lab scripts (not executable on its own).
# Every path is derived from AST_PREFIX (where Asterisk is installed), LAB_PREFIX (where the lab
# keeps its config, astdb, logs and sockets; default $HOME/.pjctl-lab) or from this directory.
#   AST_PREFIX   the prefix Asterisk was installed under: its binary is $AST_PREFIX/sbin/asterisk.
#                Default: $LAB_PREFIX/asterisk when that holds an Asterisk, else /usr (a distribution's
#                package). Your own build: the --prefix you gave ./configure (often /usr/local).
#   AST_MODDIR   its modules (default: $AST_PREFIX/lib/asterisk/modules, or the multiarch
#                $AST_PREFIX/lib/<triplet>/asterisk/modules of Debian/Ubuntu packages)
#   AST_DATADIR  its data directory (default: $AST_PREFIX/var/lib/asterisk for a source install,
#                else $AST_PREFIX/share/asterisk)
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_PREFIX="${LAB_PREFIX:-$HOME/.pjctl-lab}"
if [ -z "${AST_PREFIX:-}" ]; then
  if [ -x "$LAB_PREFIX/asterisk/sbin/asterisk" ]; then AST_PREFIX="$LAB_PREFIX/asterisk"; else AST_PREFIX=/usr; fi
fi
ASTERISK_BIN="$AST_PREFIX/sbin/asterisk"
if [ -z "${AST_MODDIR:-}" ]; then
  AST_MODDIR="$AST_PREFIX/lib/asterisk/modules"
  if [ ! -d "$AST_MODDIR" ]; then
    for d in "$AST_PREFIX"/lib/*/asterisk/modules "$AST_PREFIX"/lib64/asterisk/modules; do
      [ -d "$d" ] && { AST_MODDIR="$d"; break; }
    done
  fi
fi
if [ -z "${AST_DATADIR:-}" ]; then
  AST_DATADIR="$AST_PREFIX/var/lib/asterisk"
  [ -d "$AST_DATADIR" ] || AST_DATADIR="$AST_PREFIX/share/asterisk"
fi
LAB_ETC="$LAB_PREFIX/etc"
LAB_CONF="$LAB_ETC/asterisk.conf"
LAB_VARLIB="$LAB_PREFIX/var/lib"
LAB_SPOOL="$LAB_PREFIX/var/spool"
LAB_RUN="$LAB_PREFIX/run"
LAB_LOG="$LAB_PREFIX/log"
LAB_PIDFILE="$LAB_RUN/lab.pid"
LAB_ASTDB="$LAB_VARLIB/astdb.sqlite3"
LAB_SIP_HOST="${LAB_SIP_HOST:-127.0.0.1}"
LAB_SIP_PORT="${LAB_SIP_PORT:-5060}"
LAB_AMI_HOST="${LAB_AMI_HOST:-127.0.0.1}"
LAB_AMI_PORT="${LAB_AMI_PORT:-5038}"
export LAB_DIR LAB_PREFIX AST_PREFIX AST_MODDIR AST_DATADIR LAB_SIP_HOST LAB_SIP_PORT LAB_AMI_HOST LAB_AMI_PORT

# Close every descriptor this script inherited beyond 0-2 (and bash's own 255), before it starts a
# daemon: run as `flock /tmp/pjctl-lab.lock lab/start.sh`, Asterisk (or baresip, or PostgreSQL)
# would otherwise inherit the lock's descriptor and keep the lab locked for as long as it runs.
# The lock stays held by flock itself until this script exits.
lab_close_inherited_fds() {
  local fd
  for fd in $(ls "/proc/$BASHPID/fd"); do
    case "$fd" in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
  done
}

lab_cli() { "$ASTERISK_BIN" -C "$LAB_CONF" -rx "$*"; }

# pid of the Asterisk this lab started, if it is still running
lab_pid() {
  local pid
  [ -f "$LAB_PIDFILE" ] || return 1
  pid="$(cat "$LAB_PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # make sure the pid was not recycled by something else
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$ASTERISK_BIN")" ] || return 1
  echo "$pid"
}
