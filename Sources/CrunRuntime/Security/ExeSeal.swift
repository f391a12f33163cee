import CShim
import Glibc

/// The runtime binary as a container may see it (CVE-2019-5736 class; cshim_exeseal.h).
///
/// Every process the runtime clones into a container runs the runtime's code until it execs,
/// and its /proc/PID/exe names the file the runtime runs from. A container process holding
/// CAP_SYS_PTRACE over the runtime's user namespace (no user namespace of its own) may open that
/// link and keep the descriptor. So `create`, `run`, `exec` (and `start` with startContainer
/// hooks) re-execute themselves once, before they change anything, from a handle that can never
/// be written and is not the host's file: a read-only overlayfs mounted nowhere (no copy), or a
/// sealed memfd copy. `Launcher` refuses to clone into such a container when that failed.
public enum ExeSeal {
    /// Set by the runtime for its own re-execution: "<pid>:<kind>:<path of the binary>".
    static let marker = "_CRUN_SWIFT_EXESEAL"
    /// Restricts the mechanisms tried (tests, or a host where one misbehaves): `overlay-fd`,
    /// `overlay-path` or `memfd`, comma-separated. There is no value that turns sealing off.
    public static let mechanismsVariable = "CRUN_SWIFT_EXESEAL"

    /// What the process runs from, once `ensure` found it sealed (for --debug and errors).
    nonisolated(unsafe) public private(set) static var sealedAs: String?
    /// Why sealing failed, when it did.
    nonisolated(unsafe) static var failure: String?
    /// The binary's own path (its directory holds swnet); /proc/self/exe names the sealed view.
    nonisolated(unsafe) public private(set) static var binaryPath: String?
    nonisolated(unsafe) static var attempted = false

    static func describe(_ kind: Int32, path: String) -> String {
        switch UInt32(kind) {
        case CS_EXESEAL_OVERLAY_FD.rawValue:
            return "a private read-only overlayfs view of \(path) (layers by descriptor)"
        case CS_EXESEAL_OVERLAY_PATH.rawValue:
            return "a private read-only overlayfs view of \(path) (layers by path)"
        case CS_EXESEAL_MEMFD.rawValue:
            return "a sealed memfd copy of \(path) (F_SEAL_SEAL|SHRINK|GROW|WRITE)"
        default: return "\(path) itself (not sealed)"
        }
    }

    /// Re-executes this process from a sealed handle unless it already runs from one it made.
    /// Returns when it does, or when no mechanism works (`failure` says why; only a clone into
    /// a container sharing the runtime's user namespace then fails). Call it before anything
    /// is changed: the command runs again from the start. `spareDirectory`: an existing
    /// directory apart from the binary's, overlayfs's second layer by path (the state root).
    public static func ensure(spareDirectory: String?) {
        if attempted { return }
        attempted = true
        defer { if let failure { DebugLog.note("exeseal: the runtime binary is not sealed: \(failure)") } }
        let inherited = getenv(marker).map { String(cString: $0) }
        unsetenv(marker)  // never handed on (hooks, swnet)
        if let inherited {
            let parts = inherited.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, pid_t(parts[0]) == getpid(), let kind = Int32(parts[1]) {
                let path = String(parts[2])
                binaryPath = path
                let now = cs_exeseal_self()
                let overlay = kind == Int32(CS_EXESEAL_OVERLAY_FD.rawValue) || kind == Int32(CS_EXESEAL_OVERLAY_PATH.rawValue)
                if (overlay && now == Int32(CS_EXESEAL_OVERLAY_FD.rawValue)) || (!overlay && now == kind && now != 0) {
                    sealedAs = describe(kind, path: path)
                    DebugLog.note("exeseal: the runtime runs from \(sealedAs!)")
                } else {
                    failure = "re-executed from \(describe(kind, path: path)), but /proc/self/exe is not sealed"
                }
                return
            }
        }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        binaryPath = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        if geteuid() != 0 {
            // A non-root runtime's containers get a user namespace of their own: none needs it.
            failure = "not attempted: the runtime does not run as root"
            return
        }
        let path = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var allow: UInt32 = 0
        let names: [(String, cs_exeseal_kind)] = [("overlay-fd", CS_EXESEAL_OVERLAY_FD), ("overlay-path", CS_EXESEAL_OVERLAY_PATH), ("memfd", CS_EXESEAL_MEMFD)]
        if let only = getenv(mechanismsVariable).map({ String(cString: $0) }), !only.isEmpty {
            for word in only.split(separator: ",") {
                guard let k = names.first(where: { $0.0 == word }) else {
                    failure = "\(mechanismsVariable)=\(only): unknown mechanism \"\(word)\" (overlay-fd, overlay-path, memfd)"
                    return
                }
                allow |= 1 << k.1.rawValue
            }
        } else {
            for k in names { allow |= 1 << k.1.rawValue }
        }
        // The state root, overlayfs's second layer by path, may not exist before the first
        // `create` (StateStore makes it the same way).
        if let spareDirectory { _ = mkdir(spareDirectory, 0o711) }
        var kind: Int32 = 0
        var why = [CChar](repeating: 0, count: 1024)
        let fd = cs_exeseal_open(path, spareDirectory, allow, &kind, &why, why.count)
        if fd < 0 {
            failure = String(cString: why)
            return
        }
        setenv(marker, "\(getpid()):\(kind):\(path)", 1)
        let r = cs_exeseal_exec(fd, CommandLine.unsafeArgv, environ)
        unsetenv(marker)
        close(fd)
        failure = "execveat \(describe(kind, path: path)): \(errnoString(-r))"
    }

    /// Launcher, before a clone into a container whose processes share the runtime's user
    /// namespace: the runtime must run from a sealed handle, or nothing is cloned.
    static func require() throws(RuntimeError) {
        if let sealedAs {
            DebugLog.note("spawn: the container shares the runtime's user namespace; until execve its processes show \(sealedAs) as /proc/PID/exe")
            return
        }
        throw .container("cannot start a process in a container that shares the runtime's user namespace: the runtime binary could not be sealed against it (CVE-2019-5736): "
            + (failure ?? "this command did not seal it"))
    }
}
