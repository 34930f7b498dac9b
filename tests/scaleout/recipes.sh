#!/usr/bin/env bash
# Runs the scale-out recipes of docs/scaling.md verbatim (the fenced blocks after a
# `<!-- recipe: NAME -->` line), kills and cancels shards midway, reruns them as the doc says,
# and checks that the merged output equals an unsharded run byte for byte, and that a merge with
# a shard missing or unfinished fails and writes nothing.
#   bash tests/scaleout/recipes.sh BUILD_DIR parallel|slurm
# Exit 77 (skip, CTest's SKIP_RETURN_CODE) when GNU parallel or the Slurm daemons are not there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
which=$2
doc=$src/docs/scaling.md

fail() {
  echo "recipes.sh ($which): FAILED: $*" >&2
  exit 1
}
# The text of the recipe block NAME.
recipe() {
  local text
  text=$(awk -v marker="<!-- recipe: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$doc")
  [[ -n $text ]] || fail "docs/scaling.md has no recipe block '$1'"
  printf '%s\n' "$text"
}
# Lines of a file (0 when it does not exist).
lines() { if [[ -f $1 ]]; then wc -l < "$1"; else echo 0; fi; }

work=$(mktemp -d /tmp/perceiver-recipes.XXXXXX)
slurm_dir=""
cleanup() {
  if [[ -n $slurm_dir ]]; then bash "$here/slurm-local.sh" stop "$slurm_dir" || true; fi
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

# What a user has: the tools on PATH, the model under ~/models, a folder of photos (one bad).
export HOME=$work/home
mkdir -p "$HOME/models"
ln -s "$src/tests/data/golden/vision_conv" "$HOME/models/vision-perceiver-conv"
export PATH=$build/apps:$PATH
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_MAX SLURM_ARRAY_TASK_COUNT PERCEIVER_THREADS
cd "$work"
mkdir -p photos/sub
samples=("$src"/samples/fashion-mnist/*.png "$src"/samples/images/*)
for ((i = 0; i < 160; i++)); do
  sample=${samples[i % ${#samples[@]}]}
  folder=photos
  ((i % 5 == 0)) && folder=photos/sub
  cp "$sample" "$folder/$(printf '%03d' "$i").${sample##*.}"
done
echo "not an image" > photos/bad.png  # one bad input: exit 10, an error record
tool() { perceiver-classify -m "$HOME/models/vision-perceiver-conv" -t 1 -q -r photos/ --format jsonl "$@"; }
status=0
tool > whole.jsonl || status=$?
[[ $status -eq 10 ]] || fail "the unsharded run exited $status, not 10"
[[ $(lines whole.jsonl) -eq 161 ]] || fail "the unsharded run gave $(lines whole.jsonl) records, not 161"

run_parallel() {
  command -v parallel > /dev/null || { echo "recipes.sh: GNU parallel is not installed (scripts/install-deps.sh), skipped" >&2; exit 77; }
  mkdir -p ~/.parallel && touch ~/.parallel/will-cite  # the citation notice, once per user
  local run merge
  run=$(recipe parallel-run)
  merge=$(recipe parallel-merge)

  # 1. The run, with shard 1 killed (SIGKILL: no chance to tidy up) once it has some records.
  bash -c "$run" > run1.out 2> run1.err &
  local job=$! killed=no waited=0
  while ((waited < 600)); do
    if (($(lines labels.1.jsonl) >= 5)); then
      pkill -KILL -f -- '--shard 1/4' && killed=yes
      break
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
  wait "$job" || true
  [[ $killed == yes ]] || fail "shard 1 was not seen running (no journal records within 30 s)"
  # The merge refuses: the joblog says shard 1 did not finish.
  if bash -c "$merge" 2> merge1.err; then fail "the merge succeeded with shard 1 killed"; fi
  grep -q "run the parallel line again" merge1.err || fail "the merge did not say why: $(cat merge1.err)"
  [[ ! -e labels.jsonl ]] || fail "the failed merge wrote labels.jsonl"

  # 2. The same line again finishes shard 1; the shard with the bad input exits 10 again (not hidden).
  bash -c "$run" > run2.out 2> run2.err || true
  awk 'NR > 1 { print $7 }' classify.joblog | sort | tr '\n' ' ' | grep -qx '0 0 0 10 ' ||
    fail "the rerun's exit codes are not 0 0 0 10: $(awk 'NR > 1 { print $7 }' classify.joblog | tr '\n' ' ')"
  bash -c "$merge" || fail "the merge failed after the rerun"
  cmp -s labels.jsonl whole.jsonl || fail "the merged output differs from the unsharded run"

  # 3. A shard's journal missing: the merge fails and leaves labels.jsonl as it was.
  cp labels.jsonl merged-before
  mv labels.3.jsonl labels.3.moved
  if bash -c "$merge" 2> merge3.err; then fail "the merge succeeded with labels.3.jsonl missing"; fi
  grep -q "labels.3.jsonl" merge3.err || fail "the merge did not name the missing journal: $(cat merge3.err)"
  cmp -s labels.jsonl merged-before || fail "a failed merge changed labels.jsonl"
  echo "recipes.sh (parallel): a kill of shard 1, a rerun, the merge: equal to the unsharded run"
}

run_slurm() {
  slurm_dir=$work/slurm
  mkdir -p "$slurm_dir"
  local env status=0
  env=$(bash "$here/slurm-local.sh" start "$slurm_dir") || status=$?
  if ((status == 77)); then slurm_dir=""; exit 77; fi
  ((status == 0)) || fail "slurm-local.sh start exited $status"
  eval "$env"
  recipe slurm-script > classify.sh
  local submit merge
  submit=$(recipe slurm-submit)
  merge=$(recipe slurm-merge)
  # Jobs wait until the first submission is done: the script's tasks (2 CPUs each on this
  # 2-CPU node) run one at a time, so task 3 is still pending when task 1 runs.
  local submitted job
  submitted=$(bash -c "$submit") || fail "the submission failed"
  job=$(sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p' <<< "$submitted")
  [[ -n $job ]] || fail "sbatch printed '$submitted'"
  # Cancel task 3 before it starts and task 1 while it runs (once it has some records).
  scancel "${job}_3" || fail "scancel ${job}_3 failed"
  local waited=0 cancelled=no
  while ((waited < 1200)); do
    if (($(lines out/labels.1.jsonl) >= 5)); then
      scancel "${job}_1" && cancelled=yes
      break
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
  [[ $cancelled == yes ]] || fail "task 1 was not seen running within 60 s"
  wait_for_jobs
  [[ -f out/finished.0 && -f out/finished.2 ]] || fail "tasks 0 and 2 did not finish: $(ls out)"
  [[ ! -e out/finished.1 && ! -e out/finished.3 ]] || fail "a cancelled task was marked finished"
  grep -q "interrupted by SIGTERM" logs/classify_1.log || fail "task 1's log has no interruption summary: $(cat logs/classify_1.log)"
  if bash -c "$merge" 2> merge1.err; then fail "the merge succeeded with tasks 1 and 3 cancelled"; fi
  [[ ! -e labels.jsonl ]] || fail "the failed merge wrote labels.jsonl"

  # The rerun the doc gives: the cancelled tasks with their own indices.
  sbatch --array=1,3 classify.sh > /dev/null || fail "the rerun's submission failed"
  wait_for_jobs
  ls out/finished.0 out/finished.1 out/finished.2 out/finished.3 > /dev/null || fail "the rerun did not finish the tasks"
  bash -c "$merge" || fail "the merge failed after the rerun"
  cmp -s labels.jsonl whole.jsonl || fail "the merged output differs from the unsharded run"
  echo "recipes.sh (slurm): task 3 cancelled pending, task 1 cancelled running, rerun, merged: equal to the unsharded run"
}

# Until no job of ours is pending or running (2 minutes at most).
wait_for_jobs() {
  local waited=0
  while [[ -n $(squeue -h -o %i 2> /dev/null) ]]; do
    ((waited < 1200)) || fail "jobs still queued after 120 s: $(squeue)"
    sleep 0.1
    waited=$((waited + 1))
  done
}

case $which in
  parallel) run_parallel ;;
  slurm) run_slurm ;;
  *) fail "usage: recipes.sh BUILD_DIR parallel|slurm" ;;
esac
