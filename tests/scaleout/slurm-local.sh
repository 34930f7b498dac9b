#!/usr/bin/env bash
# Private single-node Slurm (Debian 12: slurmctld + slurmd + munge, 22.05) on
# 127.0.0.1, everything under DIR, for automated tests.
#
#   eval "$(bash tests/scaleout/slurm-local.sh start DIR)"   # exit 77 = skip
#   bash tests/scaleout/slurm-local.sh stop DIR               # idempotent
# eval "$(...)" drops the exit code; to skip on 77 use
#   out=$(bash tests/scaleout/slurm-local.sh start DIR) || exit $?; eval "$out"
#
# stdout of `start` carries only `export` lines; diagnostics go to stderr and
# to DIR/log/. Packages: apt-get install --no-install-recommends slurmctld slurmd
# (pulls slurm-client, munge). Env knobs: SLURM_LOCAL_READY_TIMEOUT (30 s),
# SLURM_LOCAL_MIN_JOB_AGE (300 s, see MinJobAge below).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin  # daemons live in sbin, absent from some PATHs

SKIP=77
READY_TIMEOUT=${SLURM_LOCAL_READY_TIMEOUT:-30}
MIN_JOB_AGE=${SLURM_LOCAL_MIN_JOB_AGE:-300}
# The node name is fixed so that the test does not depend on the machine's
# hostname being resolvable; slurmd is told its name with -N.
NODE=localhost

die_skip() { echo "slurm-local: SKIP: $*" >&2; exit "$SKIP"; }
# Last meaningful error of a log; the pmix/state-file errors are normal noise
# on every start (no libpmix, fresh StateSaveLocation).
why() { grep -hiE 'fatal|error' "$@" 2>/dev/null |
          grep -viE 'pmix|MPI:|state file|backup state|xcpuinfo' | tail -n1; }

# A zombie counts as gone: daemons are reparented to PID 1, which may reap late.
alive() {
  local st
  [[ ${1:-} =~ ^[0-9]+$ ]] && st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ ${st:0:1} != Z ]]
}

# Kill one daemon by pid file, TERM first then KILL; never touches a pid
# whose command line does not name the expected program (stale pid files).
stop_pidfile() {
  local pidfile=$1 prog=$2 pid i
  [[ -s $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qa "$prog" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

do_stop() {
  local d=$1 p i
  [[ -d $d ]] || return 0
  d=$(cd "$d" && pwd -P)
  # Cancel jobs first while slurmctld/slurmd still run, so that slurmstepd
  # reaps job processes itself (slurmstepd outlives slurmd otherwise).
  if [[ -s $d/run/slurmctld.pid && -f $d/slurm.conf ]] &&
     alive "$(<"$d/run/slurmctld.pid")"; then
    SLURM_CONF=$d/slurm.conf timeout 5 scancel --quiet --full --user=root 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
      [[ -z $(SLURM_CONF=$d/slurm.conf timeout 5 squeue -h -o %i 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  stop_pidfile "$d/run/slurmd.pid" slurmd
  stop_pidfile "$d/run/slurmctld.pid" slurmctld
  stop_pidfile "$d/run/munged.pid" munged
  # Leftover slurmstepd / job processes: the daemons were started with a
  # marker variable, and jobs inherit SLURM_CONF=<our conf> from the
  # submitting shell; only processes of this instance match.
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} == "$$" ]] && continue
    if grep -qzxF "SLURM_LOCAL_DIR=$d" "$p/environ" 2>/dev/null ||
       { grep -qzxF "SLURM_CONF=$d/slurm.conf" "$p/environ" 2>/dev/null &&
         grep -qz '^SLURM_JOB_ID=' "$p/environ" 2>/dev/null; }; then
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done
}

# Two TCP ports nobody listens on (checked via /proc, no extra tools).
free_ports() {
  local used a b
  # Field 2 is addr:port in hex, field 4 state 0A = LISTEN.
  used=$(while read -r _ addr _ st _; do
           if [[ $st == 0A ]]; then echo $((16#${addr##*:})); fi
         done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null))
  for _ in {1..50}; do
    a=$((20000 + RANDOM % 20000)); b=$((a + 1))
    if ! grep -qx -e "$a" -e "$b" <<<"$used"; then echo "$a $b"; return; fi
  done
  return 1
}

do_start() {
  # d is global on purpose: an EXIT trap fired by set -e runs after the
  # function's locals are gone.
  d=$1
  local t0 ctld_port slurmd_port hw state i p c
  t0=$(date +%s.%N)
  [[ $(id -u) == 0 ]] || die_skip "must run as root (SlurmUser=root), uid is $(id -u)"
  for c in munged slurmctld slurmd sinfo sbatch scontrol; do
    command -v "$c" >/dev/null ||
      die_skip "$c not found; install: apt-get install --no-install-recommends slurmctld slurmd"
  done
  mkdir -p "$d"
  d=$(cd "$d" && pwd -P)
  [[ ${#d} -lt 80 ]] || die_skip "DIR path too long for a unix socket: $d"
  alive "$(cat "$d/run/slurmctld.pid" 2>/dev/null)" && die_skip "a cluster already runs in $d"
  # From here on any failure tears down whatever was started.
  trap 'rc=$?; do_stop "$d"; [[ $rc == "$SKIP" ]] || echo "slurm-local: SKIP: start failed (rc=$rc), see $d/log" >&2; exit $SKIP' EXIT
  mkdir -p "$d"/{run,log,state,spool,munge,munge-sock}
  # A private key and socket: this instance can neither use nor disturb a
  # system munged. munged wants the socket path searchable by all, which a
  # 0700 mktemp DIR is not; --force turns that check into a warning (clients
  # are root anyway).
  chmod 700 "$d/munge"
  chmod 755 "$d/munge-sock"
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$d/munge/munge.key"
  SLURM_LOCAL_DIR=$d timeout 20 munged --force --socket="$d/munge-sock/munge.socket" --key-file="$d/munge/munge.key" \
    --pid-file="$d/run/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" >>"$d/log/munged.log" 2>&1 ||
    die_skip "munged failed: $(tail -n1 "$d/log/munged.log")"

  # The node line must equal what slurmd detects, else the node is DRAINED.
  hw=$(timeout 20 slurmd -C 2>/dev/null | head -n1 | sed 's/^NodeName=[^ ]* //') || true
  [[ $hw == CPUs=* ]] || die_skip "slurmd -C gave no hardware line"
  read -r ctld_port slurmd_port < <(free_ports) || die_skip "no free TCP port found"

  : >"$d/plugstack.conf"  # keep /etc/slurm/plugstack.conf out of it
  cat >"$d/slurm.conf" <<EOF
ClusterName=local
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge-sock/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
PlugStackConfig=$d/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# Short timers: tests want fast scancel/teardown, not production safety.
KillWait=2
# Without accounting, finished jobs are visible (scontrol/squeue -t all)
# only for MinJobAge s. It also paces sbatch --wait polls: 2,8,32,32.. s
# after submit if >= 66, every 2 s if <= 4.
MinJobAge=$MIN_JOB_AGE
SlurmctldTimeout=10
SlurmdTimeout=30
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

  export SLURM_CONF=$d/slurm.conf
  SLURM_LOCAL_DIR=$d timeout 20 slurmctld -c -f "$SLURM_CONF" >>"$d/log/slurmctld.log" 2>&1 ||
    die_skip "slurmctld failed: $(why "$d/log/slurmctld.log")"
  SLURM_LOCAL_DIR=$d timeout 20 slurmd -N "$NODE" -f "$SLURM_CONF" >>"$d/log/slurmd.log" 2>&1 ||
    die_skip "slurmd failed: $(why "$d/log/slurmd.log")"

  # Daemons may die after forking (bad port, plugin error): fail fast then.
  for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
    state=$(timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    for p in slurmctld slurmd; do
      ((i < 10)) || alive "$(cat "$d/run/$p.pid" 2>/dev/null)" ||
        die_skip "$p exited: $(why "$d/log/$p.log")"
    done
    sleep 0.2
  done
  [[ $state == idle ]] ||
    die_skip "node not idle after ${READY_TIMEOUT}s (state '${state:-none}'): $(why "$d"/log/slurm*.log)"

  trap - EXIT
  echo "export SLURM_CONF=$SLURM_CONF"
  echo "slurm-local: ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (ports $ctld_port/$slurmd_port, logs in $d/log)" >&2
}

case ${1:-} in
  start) [[ -n ${2:-} ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }; do_start "$2" ;;
  stop)  [[ -n ${2:-} ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }; do_stop "$2" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
