import CShim
import Glibc
import JSONCore
import LinuxSys
import Seccomp

/// The real calls of a launch.
public struct LinuxLaunchSyscalls: LaunchSyscalls {
    public init() {}

    public func requireSealedExecutable() throws(RuntimeError) { try ExeSeal.require() }

    public func makeChannel() throws(SysError) -> (parent: Int32, child: Int32) {
        var pair: [Int32] = [-1, -1]
        if socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) < 0 {
            throw SysError("socketpair", errno: errno)
        }
        return (pair[0], pair[1])
    }

    public func openNamespace(_ path: String) throws(SysError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SysError("open", path, errno: errno) }
        return fd
    }

    public func makeIdmappedTrees(_ plan: ContainerPlan) throws(RuntimeError) -> [Int: Int32] {
        // make() closed the throwaway user namespaces: the trees are all that is left open.
        try IdmappedTrees.make(plan).fds
    }

    public func spawn(_ plan: cs_plan) throws(SysError) -> pid_t {
        var plan = plan
        let pid = cs_spawn(&plan)
        if pid < 0 { throw SysError("clone", errno: errno) }
        return pid
    }

    public func receive(_ channel: Int32, wait: Bool) -> InitMessage {
        if !wait { _ = fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) | O_NONBLOCK) }
        var report = cs_error()
        var fd: Int32 = -1
        let kind = cs_channel_receive(channel, &report, &fd)
        let err = errno
        return InitMessage(kind: kind, report: report, fd: fd, errno: err)
    }

    public func release(_ channel: Int32) throws(SysError) {
        var byte: UInt8 = 1
        if send(channel, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { throw SysError("send", errno: errno) }
    }

    public func moveIntoCgroup(_ pid: pid_t, procs: String) throws(RuntimeError) {
        try FileSystem.writeFile(procs, "\(pid)", step: "cgroup v1: move the container init into")
    }

    public func writeIdMaps(pid: pid_t, uidMap: String, gidMap: String, runtimeIsRoot: Bool) throws(RuntimeError) {
        try IdMapWriter.write(pid: pid, uidMap: uidMap, gidMap: gidMap, runtimeIsRoot: runtimeIsRoot)
    }

    public func sendNotifyFd(_ fd: Int32, to path: String, metadata: String, pid: pid_t, state: JSONValue) throws(RuntimeError) {
        do {
            try SeccompListener.send(fd, to: path, metadata: metadata, pid: pid, state: state, ociVersion: CrunVersion.spec)
        } catch {
            throw .container(error.description)
        }
    }

    public func kill(_ pid: pid_t) { _ = Glibc.kill(pid, SIGKILL) }

    public func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }
}
