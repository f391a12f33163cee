"""Drives containerd's CRI plugin as the kubelet would, over its gRPC socket: pods with swnet
addresses, containers run by crun-swift. Prints "ok"/"FAIL" lines and "cri: N passed, M failed".
Run by scripts/orchestrators/cri-test, which sets CRI_GEN (the generated stubs), CRI_SOCKET and
CRI_DIR (containerd's temp dir: logs, IPAM data, state)."""
import concurrent.futures
import ipaddress
import os
import re
import sys
import time

sys.path.insert(0, os.environ["CRI_GEN"])
import grpc  # noqa: E402
import api_pb2 as pb  # noqa: E402
import api_pb2_grpc as rpc  # noqa: E402

D = os.environ["CRI_DIR"]
IMAGE = "docker.io/library/csbox:latest"
NETWORK = "k8s-pods"
GATEWAY = "10.88.0.1"
RPC_TIMEOUT = 120
rt = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + os.environ["CRI_SOCKET"]))

passed = failed = 0


def check(name, expected, actual):
    global passed, failed
    if expected == actual:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: expected [{expected}], got [{actual}]", flush=True)


def check_true(name, condition, detail=""):
    if condition:
        check(name, True, True)
    else:
        check(name, "yes", f"no {detail}".strip())


def attempt(name, call):
    """Runs an RPC; a gRPC error is a failed check named after the step (and None)."""
    try:
        result = call()
        check(name, "no error", "no error")
        return result
    except grpc.RpcError as e:
        check(name, "no error", f"{e.code().name}: {e.details()}")
        return None


def wait_for(condition, deadline=60):
    """Polls a condition until it holds or the deadline passes; returns its last value."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


# --- building requests, as the kubelet fills them --------------------------------------------

def pod_config(name, uid=None):
    uid = uid or f"uid-{name}"
    log_dir = f"{D}/logs/default_{name}_{uid}"
    os.makedirs(log_dir, exist_ok=True)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="default", attempt=0),
        hostname=name, log_directory=log_dir,
        dns_config=pb.DNSConfig(servers=[GATEWAY], searches=["pods.local"], options=["ndots:1"]),
        labels={"app": name},
        # The kubelet's cgroupfs driver names a pod's cgroup after its QoS class and uid.
        linux=pb.LinuxPodSandboxConfig(cgroup_parent=f"/kubepods/besteffort/pod{uid}", security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD))))


def container_config(name, command, attempt_no=0, security=None, resources=None):
    security = security or pb.LinuxContainerSecurityContext()
    security.namespace_options.CopyFrom(pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD))
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=attempt_no), image=pb.ImageSpec(image=IMAGE),
        command=command, log_path=f"{name}/{attempt_no}.log", labels={"container": name},
        linux=pb.LinuxContainerConfig(security_context=security, resources=resources))


def run_pod(name):
    config = pod_config(name)
    pod = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=config), timeout=RPC_TIMEOUT).pod_sandbox_id
    return pod, config


def start_container(pod, config, container):
    cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=container, sandbox_config=config),
                             timeout=RPC_TIMEOUT).container_id
    rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=RPC_TIMEOUT)
    return cid


def status(cid):
    return rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=RPC_TIMEOUT).status


def pod_ip(pod):
    return rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT).status.network.ip


def exec_sync(cid, cmd, timeout=30):
    return rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout), timeout=RPC_TIMEOUT)


def log_entries(config, container):
    """The CRI log of a container as (stream, message) pairs: `TIME STREAM TAG MESSAGE` lines."""
    path = os.path.join(config.log_directory, container.log_path)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    return [(parts[1], parts[3] if len(parts) > 3 else "") for parts in (line.split(" ", 3) for line in lines)]


def exited(cid):
    return status(cid).state == pb.CONTAINER_EXITED


def remove_pod(pod):
    rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT)
    rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT)


# --- what a pod leaves behind ------------------------------------------------------------------

def leftovers():
    """Everything a pod could leave on the node, by kind; empty when the node is clean."""
    left = {}
    if rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=RPC_TIMEOUT).items:
        left["sandboxes"] = len(rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=RPC_TIMEOUT).items)
    if rt.ListContainers(pb.ListContainersRequest(), timeout=RPC_TIMEOUT).containers:
        left["containers"] = len(rt.ListContainers(pb.ListContainersRequest(), timeout=RPC_TIMEOUT).containers)
    veths = [line.split(":")[1].strip() for line in os.popen("ip -o link show type veth").read().splitlines()]
    if veths:
        left["veths"] = veths
    leases = [f for f in _ls(f"{D}/ipam/{NETWORK}") if re.fullmatch(r"[0-9a-f.:]+", f) and "." in f]
    if leases:
        left["leases"] = leases
    if _ls("/run/netns"):
        left["netns"] = _ls("/run/netns")
    for state in ["/run/containerd/runc/k8s.io", f"{D}/state/io.containerd.runtime.v2.task/k8s.io",
                  f"{D}/state/io.containerd.grpc.v1.cri/sandboxes", f"{D}/state/io.containerd.grpc.v1.cri/containers"]:
        if _ls(state):
            left[state] = _ls(state)
    records = f"{D}/ipam/{NETWORK}/dns/records"
    if os.path.exists(records) and open(records).read().strip():
        left["dns names"] = open(records).read().split()
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        # This pid namespace holds only the test, containerd and what they started.
        if os.path.basename(argv[0]).decode(errors="replace") in ("containerd-shim-runc-v2", "crun-swift", "swnet", "sh", "sleep"):
            procs.append(f"{pid}:{b' '.join(argv)[:60].decode(errors='replace')}")
    if procs:
        left["processes"] = procs
    return left


def _ls(path):
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def check_clean(name):
    left = wait_for(lambda: not leftovers()) or leftovers()
    check(f"{name}: nothing left (sandboxes, containers, veths, leases, netns, state dirs, processes, DNS names)",
          {}, {} if left is True else left)


# --- cgroups, as this shell sees them (inside scripts/cgroup-sandbox: below its parents) --------

def _cgroup_mounts():
    """(mount point, controllers) of every cgroup hierarchy; cgroup2's controllers are []."""
    out = []
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        dash = f.index("-")
        if f[dash + 1] == "cgroup2":
            out.append((f[4], []))
        elif f[dash + 1] == "cgroup":
            out.append((f[4], [o for o in f[dash + 3].split(",") if o not in ("rw", "ro") and "=" not in o]))
    return out


V1 = os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")


def cgroup_file(path, v1_controller, v1_file, v2_file):
    """A file of cgroup `path`: in v1_controller's hierarchy (v1 or hybrid host) or the cgroup2 one."""
    for mount, controllers in _cgroup_mounts():
        if (V1 and v1_controller in controllers) or (not V1 and not controllers):
            try:
                return open(f"{mount}{path}/{v1_file if V1 else v2_file}").read().strip()
            except OSError as e:
                return f"({e.strerror}: {mount}{path}/{v1_file if V1 else v2_file})"
    return "(no hierarchy)"


def cgroup_dirs(path):
    """The hierarchies (with controllers, or cgroup2) where cgroup `path` exists, and how many of them hold processes."""
    dirs = [m + path for m, c in _cgroup_mounts() if (c or not V1 or m.endswith("/unified")) and os.path.isdir(m + path)]
    populated = [d for d in dirs if open(d + "/cgroup.procs").read().strip()]
    return dirs, populated


def expected_hierarchies():
    return len([m for m, c in _cgroup_mounts() if c or not V1 or m.endswith("/unified")])


# --- the tests ---------------------------------------------------------------------------------

def lifecycle():
    v = attempt("Version", lambda: rt.Version(pb.VersionRequest(version="v1"), timeout=RPC_TIMEOUT))
    if v:
        check("Version: containerd answers the CRI v1 API", ("containerd", "v1"), (v.runtime_name, v.runtime_api_version))
    a = attempt("RunPodSandbox pod-a (pause image, swnet network)", lambda: run_pod("pod-a"))
    b = attempt("RunPodSandbox pod-b", lambda: run_pod("pod-b"))
    if not (a and b):
        return
    (pa, ca), (pb_, cb) = a, b
    ipa, ipb = pod_ip(pa), pod_ip(pb_)
    subnet = ipaddress.ip_network("10.88.0.0/24")
    check_true("PodSandboxStatus: both pods have distinct swnet addresses",
               ipa and ipb and ipa != ipb and ipaddress.ip_address(ipa) in subnet and ipaddress.ip_address(ipb) in subnet,
               f"{ipa} {ipb}")

    web = container_config("web", ["sh", "-c", 'echo hello-out; echo hello-err >&2; '
                                   'trap "echo got-term; exit 0" TERM; while :; do sleep 1000 & wait $!; done'])
    stubborn = container_config("stubborn", ["sh", "-c", 'trap "" TERM; echo ready; while :; do sleep 1000 & wait $!; done'])
    w = attempt("CreateContainer + StartContainer in pod-a", lambda: start_container(pa, ca, web))
    s = attempt("CreateContainer + StartContainer in pod-b", lambda: start_container(pb_, cb, stubborn))
    if not (w and s):
        return
    check("ContainerStatus: running", pb.CONTAINER_RUNNING, status(w).state)
    check_true("ContainerStatus: started_at set", status(w).started_at > 0)

    r = attempt("ExecSync", lambda: exec_sync(w, ["sh", "-c", "hostname; id -u; readlink /proc/1/exe"]))
    if r:
        check("ExecSync: output from inside the container (hostname, uid, its pid 1)", "pod-a\n0\n/bin/busybox\n", r.stdout.decode())
        check("ExecSync: exit code 0", 0, r.exit_code)
    r = attempt("ExecSync of a failing command", lambda: exec_sync(w, ["sh", "-c", "echo oops >&2; exit 7"]))
    if r:
        check("ExecSync: exit code and stderr of a failing command", (7, "oops\n"), (r.exit_code, r.stderr.decode()))

    st = attempt("ContainerStats", lambda: rt.ContainerStats(pb.ContainerStatsRequest(container_id=w), timeout=RPC_TIMEOUT).stats)
    if st:
        check_true("ContainerStats: the container's id, cpu and memory samples",
                   st.attributes.id == w and st.cpu.timestamp > 0 and st.memory.timestamp > 0, str(st).replace("\n", " "))

    r = attempt("ExecSync: ping pod-b by IP", lambda: exec_sync(w, ["ping", "-c1", "-W5", ipb]))
    if r:
        check("pod-a reaches pod-b by IP", 0, r.exit_code)
    r = attempt("ExecSync: resolve pod-b by name", lambda: exec_sync(w, ["nslookup", "pod-b.pods.local", GATEWAY]))
    if r:
        check_true("pod-a resolves pod-b by name (swnet DNS) to its IP", r.exit_code == 0 and ipb in r.stdout.decode(), r.stdout.decode())
    r = attempt("ExecSync: ping pod-b by its short name", lambda: exec_sync(w, ["ping", "-c1", "-W5", "pod-b"]))
    if r:
        check("pod-a reaches pod-b by its short name (search domain)", 0, r.exit_code)

    # StopContainer, graceful: the container's TERM trap runs and it exits 0.
    attempt("StopContainer pod-a/web (grace 30 s)", lambda: rt.StopContainer(pb.StopContainerRequest(container_id=w, timeout=30), timeout=RPC_TIMEOUT))
    sw = status(w)
    check("graceful stop: exited 0 through its TERM trap", (pb.CONTAINER_EXITED, 0), (sw.state, sw.exit_code))
    entries = wait_for(lambda: ("stdout", "got-term") in log_entries(ca, web) and log_entries(ca, web)) or log_entries(ca, web)
    check("the container's log holds only what it wrote (no runtime warnings)",
          sorted([("stdout", "hello-out"), ("stderr", "hello-err"), ("stdout", "got-term")]), sorted(entries))
    attempt("StopContainer again (idempotent)", lambda: rt.StopContainer(pb.StopContainerRequest(container_id=w, timeout=30), timeout=RPC_TIMEOUT))

    # StopContainer, forced: TERM is ignored, SIGKILL after the grace period.
    wait_for(lambda: ("stdout", "ready") in log_entries(cb, stubborn))
    attempt("StopContainer pod-b/stubborn (grace 2 s, TERM ignored)", lambda: rt.StopContainer(pb.StopContainerRequest(container_id=s, timeout=2), timeout=RPC_TIMEOUT))
    ss = status(s)
    check("forced stop after the grace period: killed by SIGKILL (137)", (pb.CONTAINER_EXITED, 137), (ss.state, ss.exit_code))

    attempt("RemoveContainer pod-a/web", lambda: rt.RemoveContainer(pb.RemoveContainerRequest(container_id=w), timeout=RPC_TIMEOUT))
    attempt("RemoveContainer pod-b/stubborn", lambda: rt.RemoveContainer(pb.RemoveContainerRequest(container_id=s), timeout=RPC_TIMEOUT))
    attempt("RemoveContainer again (idempotent)", lambda: rt.RemoveContainer(pb.RemoveContainerRequest(container_id=w), timeout=RPC_TIMEOUT))
    for name, pod in [("pod-a", pa), ("pod-b", pb_)]:
        attempt(f"StopPodSandbox {name}", lambda: rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT))
        attempt(f"StopPodSandbox {name} again (idempotent)", lambda: rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT))
        attempt(f"RemovePodSandbox {name}", lambda: rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=RPC_TIMEOUT))
    check_clean("pod lifecycle")


def restart_in_sandbox():
    p = attempt("restart: RunPodSandbox", lambda: run_pod("pod-r"))
    if not p:
        return
    pod, config = p
    ip = pod_ip(pod)
    first = container_config("app", ["sh", "-c", "echo first; exit 3"])
    c0 = attempt("restart: first attempt runs", lambda: start_container(pod, config, first))
    if not c0:
        return
    wait_for(lambda: exited(c0))
    check("restart: first attempt exited 3", (pb.CONTAINER_EXITED, 3), (status(c0).state, status(c0).exit_code))
    # The kubelet's restart: a new container, attempt + 1, in the same sandbox.
    second = container_config("app", ["sh", "-c", "echo second; while :; do sleep 1000 & wait $!; done"], attempt_no=1)
    c1 = attempt("restart: attempt 1 created and started in the same sandbox", lambda: start_container(pod, config, second))
    if c1:
        check("restart: attempt 1 running", pb.CONTAINER_RUNNING, status(c1).state)
        r = exec_sync(c1, ["sh", "-c", "ip -4 -o addr show eth0"])
        check_true("restart: attempt 1 has the sandbox's address", ip in r.stdout.decode(), r.stdout.decode())
        check("restart: each attempt has its own log", ([("stdout", "first")], [("stdout", "second")]),
              (log_entries(config, first), wait_for(lambda: log_entries(config, second))))
    attempt("restart: StopPodSandbox + RemovePodSandbox (with its containers)", lambda: remove_pod(pod))
    check_clean("restart")


def security_context():
    p = attempt("securityContext: RunPodSandbox", lambda: run_pod("pod-s"))
    if not p:
        return
    pod, config = p
    security = pb.LinuxContainerSecurityContext(
        run_as_user=pb.Int64Value(value=1000), readonly_rootfs=True,
        capabilities=pb.Capability(drop_capabilities=["ALL"]),
        seccomp=pb.SecurityProfile(profile_type=pb.SecurityProfile.RuntimeDefault))
    locked = container_config("locked", ["sh", "-c", 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; '
                                         'touch /x 2>/dev/null && echo rootfs-rw || echo rootfs-ro; echo done; '
                                         'while :; do sleep 1000 & wait $!; done'], security=security)
    c = attempt("securityContext: runAsUser 1000, readOnlyRootFilesystem, drop ALL, seccomp RuntimeDefault",
                lambda: start_container(pod, config, locked))
    if c:
        entries = wait_for(lambda: ("stdout", "done") in log_entries(config, locked) and log_entries(config, locked))
        out = [m for _, m in entries or []]
        check("securityContext: uid, no capabilities, seccomp filter, read-only rootfs",
              ["1000", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "Seccomp:\t2", "rootfs-ro", "done"],
              [m for m in out if not m.startswith("NoNewPrivs")])
        r = exec_sync(c, ["sh", "-c", "id -u; touch /y"])
        check_true("securityContext: ExecSync runs as 1000 on the read-only rootfs",
                   r.stdout.decode() == "1000\n" and r.exit_code != 0, f"{r.stdout!r} {r.exit_code}")
    attempt("securityContext: StopPodSandbox + RemovePodSandbox", lambda: remove_pod(pod))
    check_clean("securityContext")


def cgroups():
    """The pod's cgroups as the kubelet's cgroupfs driver asks for them: the pause container with
    the CRI's cpu.shares 2, a container's limits in its own cgroup in every hierarchy, its own
    numbers in ContainerStats, one over its memory limit OOMKilled, nothing of any left after
    RemovePodSandbox."""
    p = attempt("cgroups: RunPodSandbox", lambda: run_pod("pod-c"))
    if not p:
        return
    pod, config = p
    parent = config.linux.cgroup_parent
    n = expected_hierarchies()
    dirs, populated = cgroup_dirs(f"{parent}/{pod}")
    check("cgroups: the pause container is in its cgroup (cgroup_parent/id) in every hierarchy", (n, n), (len(dirs), len(populated)))
    check("cgroups: the pause container's cpu.shares 2 (cgroup v2: cpu.weight 1)", "2" if V1 else "1",
          cgroup_file(f"{parent}/{pod}", "cpu", "cpu.shares", "cpu.weight"))
    resources = pb.LinuxContainerResources(cpu_shares=512, cpu_quota=50000, cpu_period=100000, memory_limit_in_bytes=64 << 20)
    app = container_config("app", ["sh", "-c", "while :; do :; done"], resources=resources)
    c = attempt("cgroups: a container with cpu and memory limits", lambda: start_container(pod, config, app))
    if c:
        path = f"{parent}/{c}"
        dirs, populated = cgroup_dirs(path)
        check("cgroups: the container is in its cgroup in every hierarchy", (n, n), (len(dirs), len(populated)))
        check("cgroups: the container's limits in its files",
              ("512", "50000", str(64 << 20)) if V1 else ("20", "50000 100000", str(64 << 20)),
              (cgroup_file(path, "cpu", "cpu.shares", "cpu.weight"), cgroup_file(path, "cpu", "cpu.cfs_quota_us", "cpu.max"),
               cgroup_file(path, "memory", "memory.limit_in_bytes", "memory.max")))
        # ContainerStats through the shim's cgroup reader: usage within the container's own limit
        # and no more cpu time than its own counter (the host's numbers would be far above).
        st = wait_for(lambda: (lambda s: s if s.cpu.usage_core_nano_seconds.value > 0 else None)(
            rt.ContainerStats(pb.ContainerStatsRequest(container_id=c), timeout=RPC_TIMEOUT).stats))
        own_cpu = cgroup_file(path, "cpuacct", "cpuacct.usage", "cpu.stat")
        own_cpu = int(own_cpu) if own_cpu.isdigit() else int(re.search(r"usage_usec (\d+)", own_cpu).group(1)) * 1000
        check_true("ContainerStats: the container's own memory and cpu numbers",
                   st and 0 < st.memory.usage_bytes.value <= 64 << 20 and 0 < st.cpu.usage_core_nano_seconds.value <= own_cpu,
                   f"{str(st).replace(chr(10), ' ')} own cpu {own_cpu}")
    # Over its memory limit: the OOM killer ends the container, and containerd's shim (watching
    # the container's memory cgroup) reports it as the kubelet expects.
    hog = container_config("hog", ["tail", "/dev/zero"], resources=pb.LinuxContainerResources(memory_limit_in_bytes=16 << 20))
    h = attempt("cgroups: a container that outgrows its 16 MiB memory limit", lambda: start_container(pod, config, hog))
    if h:
        wait_for(lambda: exited(h))
        sh = status(h)
        check("cgroups: OOM-killed: exit 137, reason OOMKilled", (pb.CONTAINER_EXITED, 137, "OOMKilled"), (sh.state, sh.exit_code, sh.reason))
    attempt("cgroups: StopPodSandbox + RemovePodSandbox", lambda: remove_pod(pod))
    left = [d for x in [pod, c, h] if x for d in cgroup_dirs(f"{parent}/{x}")[0]]
    check("cgroups: nothing of the pause container or the containers left in any hierarchy", [], left)
    check_clean("cgroups")


def concurrent_pods(n=20):
    def one(i):
        pod, config = run_pod(f"many-{i}")
        cid = start_container(pod, config, container_config("c", ["sh", "-c", "while :; do sleep 1000 & wait $!; done"]))
        ip = pod_ip(pod)
        r = exec_sync(cid, ["true"])
        if r.exit_code != 0:
            raise RuntimeError(f"ExecSync in many-{i}: exit {r.exit_code}")
        rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=0), timeout=RPC_TIMEOUT)
        rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=RPC_TIMEOUT)
        remove_pod(pod)
        return ip

    errors, ips = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        for f in concurrent.futures.as_completed([pool.submit(one, i) for i in range(n)]):
            try:
                ips.append(f.result())
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{type(e).__name__}: {getattr(e, 'details', lambda: e)()}")
    check(f"{n} pods created, run and deleted concurrently: errors", 0, len(errors))
    for e in sorted(set(errors))[:3]:
        print(f"     {e}")
    check(f"{n} concurrent pods had {n} distinct addresses", n, len(set(ips)))
    check_clean(f"{n} concurrent pods")


lifecycle()
restart_in_sandbox()
security_context()
cgroups()
concurrent_pods()
print(f"cri: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
