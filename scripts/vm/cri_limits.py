"""The CRI with real cgroup v2 limits, run inside the VM (scripts/vm/cgroup-tests) by
scripts/orchestrators/cri-test with CRI_SUITE set to this file: containerd's CRI plugin runs a
pod with crun-swift and swnet, the pod's cgroup made beforehand as the kubelet makes it. Checks
that a container over its memory limit is reported OOMKilled, that a CPU limit throttles, and
that ContainerStats reports the container's own numbers (read beside it from its cgroup).
Prints "ok"/"FAIL" lines and "cri-vm: N passed, M failed"."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../orchestrators/cri"))
import cri_test as t  # noqa: E402  (the client, its request builders and checks)
from cri_test import pb, rt, check, check_true, attempt, wait_for  # noqa: E402

CG = "/sys/fs/cgroup"
PARENT = "kubepods/burstable"
CONTROLLERS = "+cpu +memory +pids"
MiB = 1 << 20
# qemu TCG is slow (StopPodSandbox alone took over 2 minutes on a loaded machine): the RPCs and
# the waits below get deadlines far past what they need.
SLOW = 600
t.RPC_TIMEOUT = SLOW


def cgroup_file(path, name):
    with open(f"{CG}/{path}/{name}") as f:
        return f.read()


def stat_value(path, name, key):
    for line in cgroup_file(path, name).splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return None


def subgroups(path):
    return sorted(e for e in os.listdir(f"{CG}{path}") if os.path.isdir(f"{CG}{path}/{e}"))


def make_pod_cgroup(uid):
    """The pod's cgroup, as the kubelet's cgroupfs driver makes it before RunPodSandbox:
    /kubepods/burstable/pod<uid>, with the controllers handed down to it."""
    path = f"{PARENT}/pod{uid}"
    for level in ["", "kubepods", PARENT]:
        os.makedirs(f"{CG}/{level}", exist_ok=True)
        with open(f"{CG}/{level}/cgroup.subtree_control", "w") as f:
            f.write(CONTROLLERS)
    os.makedirs(f"{CG}/{path}", exist_ok=True)
    with open(f"{CG}/{path}/cgroup.subtree_control", "w") as f:
        f.write(CONTROLLERS)
    return "/" + path


def limited(name, command, **resources):
    config = t.container_config(name, command)
    config.linux.resources.CopyFrom(pb.LinuxContainerResources(**resources))
    return config


def stats(cid):
    return rt.ContainerStats(pb.ContainerStatsRequest(container_id=cid), timeout=t.RPC_TIMEOUT).stats


def working_set(path):
    """What the kubelet calls the working set: memory.current less the inactive file pages."""
    return int(cgroup_file(path, "memory.current")) - stat_value(path, "memory.stat", "inactive_file")


def limits():
    uid = "lim"
    parent = make_pod_cgroup(uid)
    config = t.pod_config("pod-lim", uid=uid)
    config.linux.cgroup_parent = parent
    pod = attempt("RunPodSandbox with the kubelet's cgroup parent (/kubepods/burstable/pod<uid>)",
                  lambda: rt.RunPodSandbox(pb.RunPodSandboxRequest(config=config), timeout=t.RPC_TIMEOUT).pod_sandbox_id)
    if not pod:
        return
    # The CRI puts each container in <cgroup parent>/<container id>.
    check("the pause container's cgroup is <pod cgroup>/<sandbox id>", [pod], subgroups(parent))

    # --- memory: OOMKilled --------------------------------------------------------------------
    hog = limited("hog", ["sh", "-c", 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'],
                  memory_limit_in_bytes=32 * MiB)
    h = attempt("CreateContainer + StartContainer: 32 MiB limit, allocates 200 MB", lambda: t.start_container(pod, config, hog))
    if h:
        wait_for(lambda: t.exited(h), SLOW)
        s = t.status(h)
        check("over its memory limit: exited 137, ContainerStatus reason OOMKilled",
              (pb.CONTAINER_EXITED, 137, "OOMKilled"), (s.state, s.exit_code, s.reason))
        check("the OOM-killed container never printed", [], t.log_entries(config, hog))

    # --- memory: the container's own numbers -------------------------------------------------
    holder = limited("holder", ["sh", "-c", 'x=$(head -c 16000000 /dev/zero | tr "\\0" a); echo ready; '
                                'while :; do sleep 1000 & wait $!; done'], memory_limit_in_bytes=96 * MiB)
    m = attempt("CreateContainer + StartContainer: 96 MiB limit, holds 16 MB", lambda: t.start_container(pod, config, holder))
    if m:
        mpath = f"{parent}/{m}"
        check("its cgroup's memory.max is the limit", f"{96 * MiB}\n", cgroup_file(mpath, "memory.max"))
        r = attempt("ExecSync in the limited container", lambda: t.exec_sync(m, ["cat", "/sys/fs/cgroup/memory.max"]))
        if r:
            check("inside, the container sees its own memory.max (cgroup namespace)", f"{96 * MiB}\n", r.stdout.decode())
        wait_for(lambda: ("stdout", "ready") in t.log_entries(config, holder), SLOW)
        before = working_set(mpath)
        st = attempt("ContainerStats of the 16 MB holder", lambda: stats(m))
        after = working_set(mpath)
        if st:
            ws = st.memory.working_set_bytes.value
            check_true("ContainerStats: working set is the container's own (its cgroup's, at least the 16 MB it holds)",
                       ws >= 16_000_000 and min(before, after) - MiB <= ws <= max(before, after) + MiB,
                       f"stats {ws}, cgroup {before}..{after}")

    # --- cpu: throttled, usage bounded, the container's own usage ------------------------------
    spin = limited("spin", ["sh", "-c", "while :; do :; done"], cpu_quota=10000, cpu_period=100000, cpu_shares=102)
    c = attempt("CreateContainer + StartContainer: cpu limit 100m (quota 10000 / period 100000), busy loop",
                lambda: t.start_container(pod, config, spin))
    if c:
        cpath = f"{parent}/{c}"
        check("its cgroup's cpu.max is quota and period", "10000 100000\n", cgroup_file(cpath, "cpu.max"))
        check("cpu shares 102 become cpu.weight 4", "4\n", cgroup_file(cpath, "cpu.weight"))

        def throttled():
            return stat_value(cpath, "cpu.stat", "nr_throttled")
        check_true("the busy loop is throttled (cpu.stat nr_throttled grows)", wait_for(lambda: throttled() > 3, SLOW),
                   cgroup_file(cpath, "cpu.stat"))
        u0 = stat_value(cpath, "cpu.stat", "usage_usec")
        s0 = attempt("ContainerStats of the busy loop", lambda: stats(c))
        u1 = stat_value(cpath, "cpu.stat", "usage_usec")
        if s0:
            usage = s0.cpu.usage_core_nano_seconds.value
            check_true("ContainerStats: cpu usage is the container's own (between two reads of its cpu.stat)",
                       u0 * 1000 <= usage <= u1 * 1000, f"stats {usage} ns, cgroup {u0}..{u1} us")
            # The share of one CPU over at least 20 more periods (a measurement: we wait for the
            # periods to pass, not for a guessed time), from the CRI's own samples.
            n = throttled()
            wait_for(lambda: throttled() >= n + 20, SLOW)
            s1 = attempt("ContainerStats of the busy loop, 20 periods later", lambda: stats(c))
            if not s1:
                return
            share = (s1.cpu.usage_core_nano_seconds.value - usage) / max(1, s1.cpu.timestamp - s0.cpu.timestamp)
            check_true(f"the limit bounds its usage (ContainerStats: {share:.2f} of one CPU, limit 0.10)", 0 < share < 0.25)

    attempt("StopPodSandbox + RemovePodSandbox (with its containers)", lambda: t.remove_pod(pod))
    t.check_clean("limits", SLOW)
    check("no container cgroup left in the pod's", [], wait_for(lambda: not subgroups(parent), SLOW) and [] or subgroups(parent))
    os.rmdir(f"{CG}{parent}")


if __name__ == "__main__":
    limits()
    print(f"cri-vm: {t.passed} passed, {t.failed} failed")
    sys.exit(0 if t.failed == 0 else 1)
