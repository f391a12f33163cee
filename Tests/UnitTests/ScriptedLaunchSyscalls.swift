import CShim
import CrunRuntime
import Glibc
import JSONCore
import LinuxSys

/// The launch seam for unit tests. What the init says is a script; every call is recorded
/// ("spawn 4242", "receive", "maps 4242", "release", "kill 4242", "reap 4242", "close 10"), and
/// a call whose record starts with a key of `failures` fails with that errno. It tracks the
/// descriptors the runtime holds and the processes it has not reaped, so that a test can say
/// nothing is left (`leftOver`).
final class ScriptedLaunchSyscalls: LaunchSyscalls {
    private(set) var calls: [String] = []
    /// The init's messages, in order. When they run out the init has exec'd (EOF), or, for a
    /// receive that does not wait, nothing is queued (EAGAIN).
    var script: [InitMessage]
    var failures: [String: Int32] = [:]
    /// The process cs_spawn clones.
    var clonedPid: pid_t = 4242
    /// What cs_spawn got (its scalar fields only: the arena is released after the launch).
    private(set) var spawnedPlan: cs_plan?
    /// Descriptors the runtime holds: the channel, namespace files, trees, what the init sent.
    private(set) var openFds: Set<Int32> = []
    /// Processes cloned (the second of two steps: once reported) and not reaped.
    private(set) var unreaped: Set<pid_t> = []
    /// A close of a descriptor not open, a reap of a process not ours.
    private(set) var misuse: [String] = []
    private var nextFd: Int32 = 10

    init(_ script: [InitMessage] = []) { self.script = script }

    /// Everything still held besides `keeping`: open descriptors, unreaped processes, misuse.
    func leftOver(keeping fds: Set<Int32> = [], pids: Set<pid_t> = []) -> [String] {
        openFds.subtracting(fds).sorted().map { "fd \($0) open" }
            + unreaped.subtracting(pids).sorted().map { "pid \($0) not reaped" } + misuse
    }

    /// A test's own marker in the calls ("hooks"), to show where something ran.
    func note(_ marker: String) { calls.append(marker) }

    private func record(_ call: String) -> Int32? {
        calls.append(call)
        return failures.first { call.hasPrefix($0.key) }?.value
    }

    private func newFd() -> Int32 {
        defer { nextFd += 1 }
        openFds.insert(nextFd)
        return nextFd
    }

    func requireSealedExecutable() throws(RuntimeError) {
        if let e = record("seal") { throw .container("the runtime binary could not be sealed: \(errnoText(e))") }
    }

    func makeChannel() throws(SysError) -> (parent: Int32, child: Int32) {
        if let e = record("channel") { throw SysError("socketpair", errno: e) }
        return (newFd(), newFd())
    }

    func openNamespace(_ path: String) throws(SysError) -> Int32 {
        if let e = record("open \(path)") { throw SysError("open", path, errno: e) }
        return newFd()
    }

    func makeIdmappedTrees(_ plan: ContainerPlan) throws(RuntimeError) -> [Int: Int32] {
        if let e = record("trees") { throw .container("open_tree: \(errnoText(e))") }
        var trees: [Int: Int32] = [:]
        for (i, m) in plan.mounts.enumerated() where m.idmap != nil { trees[i] = newFd() }
        return trees
    }

    func spawn(_ plan: cs_plan) throws(SysError) -> pid_t {
        spawnedPlan = plan
        if let e = record("spawn") { throw SysError("clone", errno: e) }
        unreaped.insert(clonedPid)
        return clonedPid
    }

    func receive(_ channel: Int32, wait: Bool) -> InitMessage {
        calls.append(wait ? "receive" : "receive queued")
        if !openFds.contains(channel) { misuse.append("receive on \(channel), not open") }
        guard !script.isEmpty else { return wait ? .closed : .unreadable(errno: EAGAIN) }
        let message = script.removeFirst()
        switch message {
        case .pid(let second): unreaped.insert(second)  // CLONE_PARENT: the runtime's child too
        case .console(let fd), .seccompNotify(let fd): openFds.insert(fd)
        default: break
        }
        return message
    }

    func release(_ channel: Int32) throws(SysError) {
        if let e = record("release") { throw SysError("send", errno: e) }
    }

    func moveIntoCgroup(_ pid: pid_t, procs: String) throws(RuntimeError) {
        if let e = record("cgroup \(pid) \(procs)") {
            throw .system(step: "cgroup v1: move the container init into", subject: procs, errno: e)
        }
    }

    func writeIdMaps(pid: pid_t, uidMap: String, gidMap: String, runtimeIsRoot: Bool) throws(RuntimeError) {
        if let e = record("maps \(pid) uid \(uidMap) gid \(gidMap)") {
            throw .system(step: "linux.uidMappings: write", subject: "/proc/\(pid)/uid_map", errno: e)
        }
    }

    func sendNotifyFd(_ fd: Int32, to path: String, metadata: String, pid: pid_t, state: JSONValue) throws(RuntimeError) {
        if let e = record("notify \(fd) \(path) pid \(pid)") {
            throw .container("linux.seccomp.listenerPath: send the notify fd to `\(path)`: \(errnoText(e))")
        }
    }

    func kill(_ pid: pid_t) { calls.append("kill \(pid)") }

    func reap(_ pid: pid_t) {
        calls.append("reap \(pid)")
        if unreaped.remove(pid) == nil { misuse.append("reap \(pid), not a child") }
    }

    func close(_ fd: Int32) {
        calls.append("close \(fd)")
        if openFds.remove(fd) == nil { misuse.append("close \(fd), not open") }
    }
}

extension cs_error {
    /// A child's report: {step, errno, index, detail}.
    static func report(_ step: cs_step, _ err: Int32, index: Int32 = -1, detail: String = "") -> cs_error {
        var e = cs_error()
        e.step = Int32(step.rawValue)
        e.err = err
        e.index = index
        withUnsafeMutableBytes(of: &e.detail) { raw in
            for (i, byte) in detail.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        return e
    }
}
