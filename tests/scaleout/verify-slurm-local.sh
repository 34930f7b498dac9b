#!/usr/bin/env bash
# Manual check of slurm-local.sh: arrays, scancel of one task, missing log dir,
# oversized --cpus-per-task, array env vars. Usage: bash verify-slurm-local.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d)
trap 'bash "$here/slurm-local.sh" stop "$D/cluster"' EXIT
t0=$(date +%s.%N)
eval "$(bash "$here/slurm-local.sh" start "$D/cluster")"
echo "start: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
W=$D/work; mkdir -p "$W/out"; cd "$W"
fail() { echo "FAIL: $*"; exit 1; }

cat >task.sh <<'EOF'
#!/bin/bash
echo "id=$SLURM_ARRAY_TASK_ID count=${SLURM_ARRAY_TASK_COUNT-unset} min=${SLURM_ARRAY_TASK_MIN-unset} max=${SLURM_ARRAY_TASK_MAX-unset} step=${SLURM_ARRAY_TASK_STEP-unset} job=$SLURM_ARRAY_JOB_ID" \
  >"out/${TAG}_$SLURM_ARRAY_TASK_ID"
[[ ${SLEEP_FROM:-99} -le $SLURM_ARRAY_TASK_ID ]] && sleep 60
exit 0
EOF

echo "== 1. --array=0-3 --wait"
t=$(date +%s.%N)
out=$(TAG=a sbatch --array=0-3 --wait --output=/dev/null task.sh); rc=$?
echo "$out rc=$rc in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
J=$(grep -o '[0-9]*' <<<"$out" | head -n1)
ls out/a_* | wc -l | grep -qx 4 || fail "expected 4 output files"
cat out/a_*
scontrol show job "$J" | grep -oE 'JobId=[0-9]+ ArrayJobId=[0-9]+ ArrayTaskId=[0-9]+|JobState=[A-Z]+ Reason=[^ ]+|ExitCode=[0-9:]+' | paste - - - 
[[ $(squeue -h -j "$J" -t all -o %T | sort | uniq -c | tr -s ' ') == " 4 COMPLETED" ]] || fail "not 4 COMPLETED"

echo "== 2. scancel JOBID_2 while it runs"
J=$(TAG=c SLEEP_FROM=2 sbatch --parsable --array=0-3 --output=/dev/null task.sh)
for i in {1..100}; do
  [[ $(squeue -h -j "${J}_2" -o %T 2>/dev/null) == RUNNING ]] && break; sleep 0.2
done
squeue -j "$J" -t all -o '%.12i %.10T %.12r'
scancel "${J}_2"; echo "scancel ${J}_2 rc=$?"
sleep 3
squeue -j "$J" -t all -o '%.12i %.10T %.12r'
scontrol show job "${J}_2" | grep -oE 'JobState=[A-Z]+ Reason=[^ ]+|ExitCode=[0-9:]+' | paste - -
[[ $(squeue -h -j "${J}_2" -t all -o %T) == CANCELLED ]] || fail "task 2 not CANCELLED"
scancel "$J"

echo "== 3. --output into a missing folder"
J=$(TAG=l sbatch --parsable --array=0-1 --output=logs/x_%A_%a.log task.sh); echo "sbatch rc=$? job=$J"
sleep 4
squeue -j "$J" -t all -o '%.12i %.10T %.20r'
scontrol show job "${J}_0" | grep -oE 'JobState=[A-Z]+ Reason=[^ ]+|ExitCode=[0-9:]+|StdOut=[^ ]+' | paste - - -
ls -d logs 2>&1 || true; ls out/l_* 2>&1 || true
grep -hE "(JobId=|job |StepId=)${J}([^0-9]|$)|_${J}_" "$D"/cluster/log/slurm*.log | grep -iE 'error|fail|drain' | head -n8 || true
sinfo -h -o 'node after launch failure: %T %E'
sacct -j "$J" 2>&1 | head -n3 || true

echo "== 4. --cpus-per-task=4 on 2 CPUs"
printf '#!/bin/bash\n#SBATCH --cpus-per-task=4\ntrue\n' >big.sh
if J=$(sbatch --parsable big.sh 2>&1); then
  sleep 3; squeue -j "$J" -o '%.8i %.10T %.30r %C'; scancel "$J"
else echo "sbatch rc=$?: $J"; fi

echo "== 5. array env vars"
for spec in 0-3 2 1,3; do
  rm -f out/e_*
  TAG=e sbatch --array="$spec" --wait --output=/dev/null task.sh >/dev/null
  echo "--array=$spec:"; cat out/e_*
done
echo "== 6. stop with a running job and an escaped (setsid) child"
printf '#!/bin/bash\nsetsid sleep 313 </dev/null >/dev/null 2>&1 &\nsleep 314\n' >hang.sh
J=$(sbatch --parsable --output=/dev/null hang.sh)
for i in {1..50}; do [[ $(squeue -h -j "$J" -o %T) == RUNNING ]] && break; sleep 0.2; done
sleep 1; pgrep -a 'sleep' | grep -E 'sleep 31[34]' || fail "job processes not seen"
trap - EXIT
t=$(date +%s.%N)
bash "$here/slurm-local.sh" stop "$D/cluster"
echo "stop: $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
bash "$here/slurm-local.sh" stop "$D/cluster"; echo "second stop rc=$?"
sleep 2  # PID 1 reaps the daemons' zombies lazily
procs=$(pgrep -af 'slurm|munge|sleep 31[34]' || true)
left=$(grep -v '<defunct>' <<<"$procs" | grep -F -e "$D" -e slurmstepd -e 'sleep 31' || true)
[[ -z $left ]] || fail "left behind: $left"
echo "verify: OK"
