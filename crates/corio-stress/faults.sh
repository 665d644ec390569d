#!/usr/bin/env bash
# Breaks every invariant check of the stress binaries once, on purpose: each
# binary runs with each of its fault injections (CORIO_STRESS_FAULT, listed
# in the binary's header) for one round and must print FAIL and exit 1. A
# binary that passes with a fault on cannot see the bug the check is for.
#
#   bash crates/corio-stress/faults.sh [target-dir]   # after a release build
set -uo pipefail
bin=${1:-${CARGO_TARGET_DIR:-target}}/release
declare -A faults=(
  [spawn_storm]="skip_task wrong_value lose_leaf detach_lost thread_task_panics thread_task_skips"
  [ping_pong]="bad_pong short_pair"
  [sync_storm]="lock_bypass lock_lost_update sem_bypass sem_forget sem_stuck_holder queue_lose_item queue_dup_item queue_skip_done"
  [timer_storm]="no_timeout early_timeout wrong_value early_sleep sleeper_finishes unarmed_sleeper short_interval leak_timer"
  [group_storm]="ok_as_fail leak_child wait_skip as_completed_skip"
  [tcp_flood]="corrupt_echo reset_client server_panic stuck_conn leak_fd"
  [mixed]="slow_request lose_reply lose_hog lose_to_thread"
  [shutdown_storm]="leak_future double_drop leak_thread leak_fd"
)
# Faults whose symptom is a hang: the watchdog must exit 2.
declare -A hangs=([spawn_storm]="hang" [tcp_flood]="hang")
survived=0
for b in "${!faults[@]}"; do
  for f in ${faults[$b]} ${hangs[$b]:-}; do
    want=1
    [[ " ${hangs[$b]:-} " == *" $f "* ]] && want=2
    extra=()
    [[ $b == mixed ]] && extra=(--round-ms 300)
    out=$(CORIO_STRESS_FAULT=$f timeout 300 "$bin/$b" --duration 1 --seed 1 --hang 20 "${extra[@]}" 2>&1)
    rc=$?
    line=$(grep -m1 -E '^(FAIL|PASS|HANG)' <<<"$out")
    # Every check that failed, not only the first.
    checks=$(grep -E '^  FAIL  ' <<<"$out" | sed -E 's/^  FAIL  \[([^]]*)\].*/\1/' | sort -u | paste -sd ';' -)
    if [[ $rc == "$want" ]]; then
      echo "caught    $b $f (exit $rc): ${checks:-${line:0:150}}"
    else
      echo "SURVIVED  $b $f (exit $rc, wanted $want): ${line:0:150}"
      survived=$((survived + 1))
    fi
  done
done
echo "$survived fault(s) survived"
[[ $survived == 0 ]]
