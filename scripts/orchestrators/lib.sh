# Shared by the orchestrator tests: assertions that count, and the closing line.
passed=0 failed=0
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1)); echo "ok   $1"
  else
    failed=$((failed + 1)); echo "FAIL $1: expected [$2], got [$3]"
  fi
}
check_contains() {  # check_contains NAME NEEDLE HAYSTACK
  case "$3" in
    *"$2"*) passed=$((passed + 1)); echo "ok   $1" ;;
    *) failed=$((failed + 1)); echo "FAIL $1: [$2] not in [$3]" ;;
  esac
}
summary() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}
# wait_for SECONDS COMMAND...: runs COMMAND until it succeeds; returns 1 if it still fails after
# SECONDS. Waits for a condition, never for a guessed time: give it a generous deadline, the
# suite must pass on a loaded machine.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
