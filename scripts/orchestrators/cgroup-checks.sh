# Shared by the orchestrator tests: where a container's cgroups are, on a cgroup v2, v1 or
# hybrid host. Paths are as this shell sees them (inside scripts/cgroup-sandbox: below its
# parents, each hierarchy mounted with the parent as its root).

# True on a host whose controllers are cgroup v1 (v1 or hybrid).
cg_v1() { [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>/dev/null)" = cgroupfs ]; }

# The mount point of the hierarchy holding CONTROLLER ("" for cgroup2).
cg_mount() {
  awk -v c="$1" '{ for (i = 7; i <= NF && $i != "-"; i++); t = $(i + 1); n = split($(i + 3), o, ",")
    if (c == "" && t == "cgroup2") { print $5; exit }
    if (t == "cgroup") for (j = 1; j <= n; j++) if (o[j] == c) { print $5; exit } }' /proc/self/mountinfo
}

# cg_path PID CONTROLLER: the process's cgroup in the hierarchy holding CONTROLLER ("" for cgroup2).
cg_path() {
  awk -F: -v c="$2" '{ n = split($2, o, ","); for (j = 1; j <= n; j++) if (o[j] == c) { print $3; exit }
    if (c == "" && $1 == "0") { print $3; exit } }' "/proc/$1/cgroup"
}

# cg_read PID V1CONTROLLER V1FILE [V2FILE]: a file of the process's cgroup (v1: the controller's
# hierarchy; v2: the cgroup2 one).
cg_read() {
  local c=$2 f=$3
  cg_v1 || { c=; f=${4:-$3}; }
  cat "$(cg_mount "$c")$(cg_path "$1" "$c")/$f" 2>/dev/null | tr -d '\n'
}

# cg_check_container NAME PID PATH: the process is in cgroup PATH in every hierarchy with
# controllers (v2; or every v1 one, and the cgroup2 one of a hybrid host); named v1 hierarchies
# (name=systemd) are left alone, as runc's fs driver does without systemd.
cg_check_container() {
  local wrong
  wrong=$(grep -v ':name=' "/proc/$2/cgroup" | awk -F: -v p="$3" '$3 != p' | tr '\n' ' ')
  check "$1: the container is in cgroup $3 in every hierarchy ($(grep -vc ':name=' "/proc/$2/cgroup"))" "" "$wrong"
}

# cg_left PATH: the directories PATH still has in any hierarchy.
cg_left() {
  local m
  for m in $(awk '{ for (i = 7; i <= NF && $i != "-"; i++); if ($(i + 1) ~ /^cgroup2?$/) print $5 }' /proc/self/mountinfo); do
    [ -d "$m$1" ] && echo "$m$1"
  done
}
