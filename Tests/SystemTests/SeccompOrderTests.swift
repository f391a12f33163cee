import Foundation
import Testing

/// Issue 14 §1: once the seccomp filter is in force the runtime makes no syscall but the
/// process's own execve. A default-deny profile that allows only what busybox `sh -c 'echo ok'`
/// needs after execve must work for run, create + start and exec, with and without
/// no_new_privs; a profile that denies a syscall the runtime uses while setting up
/// (close_range, getcwd) must not break it.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct SeccompOrderTests {
    /// What busybox needs after execve for `sh -c 'echo ok'` (found with strace), and for
    /// `sleep` (the init the exec case joins).
    static let busyboxSyscalls = [
        "arch_prctl", "brk", "execve", "exit_group", "getpid", "getppid", "getrandom", "getuid",
        "mprotect", "newfstatat", "prctl", "prlimit64", "readlink", "rseq", "rt_sigaction",
        "set_robust_list", "set_tid_address", "uname", "write", "nanosleep", "clock_nanosleep",
    ]

    static func defaultDeny() -> [String: Any] {
        ["defaultAction": "SCMP_ACT_ERRNO",
         "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
         "syscalls": [["names": busyboxSyscalls, "action": "SCMP_ACT_ALLOW"]]]
    }

    static func allowAllBut(_ names: [String]) -> [String: Any] {
        ["defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [["names": names, "action": "SCMP_ACT_ERRNO"]]]
    }

    static func config(_ profile: [String: Any], nnp: Bool, args: [String]) -> [String: Any] {
        var c = Harness.baseConfig(args: args)
        c.edit("linux") { $0["seccomp"] = profile }
        c.edit("process") { $0["noNewPrivileges"] = nnp }
        return c
    }

    final class Root {
        let path = NSTemporaryDirectory() + "crun-swift-root-\(UUID().uuidString.prefix(8))"
        var ids: [String] = []
        deinit {
            for id in ids { _ = try? Harness.crun(["--root", path, "delete", "--force", id]) }
            try? FileManager.default.removeItem(atPath: path)
        }
        func crun(_ args: [String]) throws -> Harness.Result { try Harness.crun(["--root", path] + args, timeout: 30) }
    }

    /// `run` (its output checked), create + start (start fails if the init cannot exec), then
    /// exec into a container whose init sleeps.
    func everyPath(_ profile: [String: Any], nnp: Bool) throws {
        let echo = ["sh", "-c", "echo ok"]
        let run = try Harness.run(Self.config(profile, nnp: nnp, args: echo))
        #expect(run.status == 0 && run.stdout == "ok\n", "run (nnp \(nnp)): \(run.stdout) \(run.stderr)")

        let root = Root()
        let b = try Harness.TempBundle(config: Self.config(profile, nnp: nnp, args: echo))
        root.ids.append("order-a")
        let created = try root.crun(["create", "--bundle", b.path, "order-a"])
        #expect(created.status == 0, "create (nnp \(nnp)): \(created.stderr)")
        let started = try root.crun(["start", "order-a"])
        #expect(started.status == 0, "start (nnp \(nnp)): \(started.stderr)")

        let s = try Harness.TempBundle(config: Self.config(profile, nnp: nnp, args: ["sleep", "1000"]))
        root.ids.append("order-b")
        #expect(try root.crun(["create", "--bundle", s.path, "order-b"]).status == 0)
        #expect(try root.crun(["start", "order-b"]).status == 0)
        let exec = try root.crun(["exec", "order-b", "sh", "-c", "echo ok"])
        #expect(exec.status == 0 && exec.stdout == "ok\n", "exec (nnp \(nnp)): \(exec.stdout) \(exec.stderr)")
    }

    @Test(arguments: [true, false])
    func defaultDenyProfileAllowingOnlyTheProcessesOwnSyscalls(nnp: Bool) throws {
        try everyPath(Self.defaultDeny(), nnp: nnp)
    }

    /// The reproductions: close_range and getcwd denied (noNewPrivileges false, the case
    /// that used to load the filter before the descriptors were closed and the cwd checked).
    @Test(arguments: [["close_range"], ["getcwd"]])
    func aProfileDenyingWhatTheRuntimeUsesForSetup(denied: [String]) throws {
        try everyPath(Self.allowAllBut(denied), nnp: false)
        try everyPath(Self.allowAllBut(denied), nnp: true)
    }

    /// The profile is in force in the process: `mkdir` (or busybox's fork for it) is denied.
    @Test func theDefaultDenyProfileIsInForce() throws {
        let r = try Harness.run(Self.config(Self.defaultDeny(), nnp: false, args: ["sh", "-c", "echo ok; mkdir /tmp/x"]))
        #expect(r.status != 0 && r.stdout == "ok\n" && r.stderr.contains("Operation not permitted"), "\(r.stdout) \(r.stderr)")
    }
}
