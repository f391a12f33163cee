import CShim
import Glibc
import JSONCore
import LinuxSys

/// The kernel and C-shim calls of a launch, behind one seam: `LinuxLaunchSyscalls` makes them
/// (clone through CShim, the channel socket, /proc id maps); unit tests script what the init
/// says and record every call (Tests/UnitTests/ScriptedLaunchSyscalls.swift).
public protocol LaunchSyscalls {
    /// Before cloning into a container that shares the runtime's user namespace: the runtime
    /// must run from a sealed copy of its binary (ExeSeal).
    func requireSealedExecutable() throws(RuntimeError)
    /// The channel: a close-on-exec SOCK_SEQPACKET pair, the runtime's end and the init's.
    func makeChannel() throws(SysError) -> (parent: Int32, child: Int32)
    /// A namespace file the init joins, opened read-only and close-on-exec.
    func openNamespace(_ path: String) throws(SysError) -> Int32
    /// The trees of the plan's idmapped mounts (IdmappedTrees), by index in plan.mounts.
    func makeIdmappedTrees(_ plan: ContainerPlan) throws(RuntimeError) -> [Int: Int32]
    /// cs_spawn: clones the init, which runs `plan`. The pid of the process cloned.
    func spawn(_ plan: cs_plan) throws(SysError) -> pid_t
    /// The init's next message. `wait: false` once it is killed: only what is already queued.
    func receive(_ channel: Int32, wait: Bool) -> InitMessage
    /// Lets the init continue where it waits for the runtime (id maps written, hooks run).
    func release(_ channel: Int32) throws(SysError)
    /// cgroup v1: writes the pid to a cgroup.procs file.
    func moveIntoCgroup(_ pid: pid_t, procs: String) throws(RuntimeError)
    /// Writes the init's uid_map and gid_map (directly, or through newuidmap/newgidmap).
    func writeIdMaps(pid: pid_t, uidMap: String, gidMap: String, runtimeIsRoot: Bool) throws(RuntimeError)
    /// Hands the seccomp notify fd to linux.seccomp.listenerPath, with the container's state.
    func sendNotifyFd(_ fd: Int32, to path: String, metadata: String, pid: pid_t, state: JSONValue) throws(RuntimeError)
    /// SIGKILL.
    func kill(_ pid: pid_t)
    /// Waits for the process to end (it is the runtime's child).
    func reap(_ pid: pid_t)
    func close(_ fd: Int32)
}
