import Glibc
import LinuxSys

/// Syscalls for unit tests: every call is recorded in `calls` ("sysctl net/ipv4/ip_forward=1",
/// "spawn /proc/self/exe dns-server ...", "checkpoint after-veth"). Files are real (tests
/// point every root at a temp dir); sysctls and programs are only recorded. A call whose
/// record starts with a key of `failures` fails with that errno instead.
public final class RecordingSyscalls: Syscalls {
    public private(set) var calls: [String] = []
    public var failures: [String: Int32] = [:]
    /// Like `failures`, but only the first `times` matching calls fail (EBUSY that clears).
    public var transientFailures: [String: (errno: Int32, times: Int)] = [:]
    /// What a signal "does" (a test empties a cgroup.procs file when its pids are killed).
    public var onSignal: ((pid_t, Int32) -> Void)?
    /// What the kernel puts in a directory made by `makeDirectory` (a test lays out a new
    /// cgroup's control files).
    public var onMakeDirectory: ((String) -> Void)?
    /// What the kernel does while a `waitForKeyValue` waits (a test rewrites cgroup.events).
    public var onWait: ((String) -> Void)?
    /// What a spawned program "does": its exit code for `wait`/`poll` (default 0).
    public var exitCode: Int32 = 0
    private var clock = 0.0
    private var nextPid: pid_t = 100_000
    private let real = LinuxSyscalls()

    public init() {}

    private func record(_ call: String) throws(SysError) {
        calls.append(call)
        for (prefix, e) in failures where call.hasPrefix(prefix) { throw SysError(call, errno: e) }
        for (prefix, f) in transientFailures where call.hasPrefix(prefix) && f.times > 0 {
            transientFailures[prefix] = (f.errno, f.times - 1)
            throw SysError(call, errno: f.errno)
        }
    }

    /// Records `call` (failing it when `failures` says so), then makes it for real.
    private func forward<T>(_ call: String, _ body: () throws(SysError) -> T) throws(SysError) -> T {
        try record(call)
        return try body()
    }

    public func readFile(_ path: String) throws(SysError) -> [UInt8] { try forward("read \(path)") { () throws(SysError) in try real.readFile(path) } }
    public func writeFile(_ path: String, _ text: String) throws(SysError) { try forward("write \(path)") { () throws(SysError) in try real.writeFile(path, text) } }
    public func replaceFile(_ path: String, _ text: String) throws(SysError) { try forward("replace \(path)") { () throws(SysError) in try real.replaceFile(path, text) } }
    public func makeDirectories(_ path: String, mode: mode_t) throws(SysError) {
        try forward("mkdir \(path)") { () throws(SysError) in try real.makeDirectories(path, mode: mode) }
    }
    public func entries(_ directory: String) -> [String]? { real.entries(directory) }
    public func exists(_ path: String) -> Bool { real.exists(path) }
    public func isExecutable(_ path: String) -> Bool { real.isExecutable(path) }
    public func remove(_ path: String) {
        calls.append("remove \(path)")
        real.remove(path)
    }
    public func overwriteFile(_ path: String, _ text: String) throws(SysError) {
        try forward("overwrite \(path)=\(text)") { () throws(SysError) in try real.overwriteFile(path, text) }
    }
    public func makeDirectory(_ path: String, mode: mode_t) throws(SysError) {
        try forward("mkdir \(path)") { () throws(SysError) in try real.makeDirectory(path, mode: mode) }
        onMakeDirectory?(path)
    }
    /// As on cgroupfs, the plain files in the directory go with it (tests lay control files
    /// out as plain files); a subdirectory still makes it fail (ENOTEMPTY).
    public func removeDirectory(_ path: String) throws(SysError) {
        try record("rmdir \(path)")
        for name in real.entries(path) ?? [] where !(real.subdirectories(path) ?? []).contains(name) { real.remove(path + "/" + name) }
        try real.removeDirectory(path)
    }
    public func subdirectories(_ directory: String) -> [String]? { real.subdirectories(directory) }
    public func sysctl(_ key: String, _ value: String) throws(SysError) { try record("sysctl \(key)=\(value)") }
    /// Reads the real file after `onWait`: true when it has the line; else the whole timeout passes.
    public func waitForKeyValue(_ path: String, key: String, value: Int, timeoutMilliseconds: Int) throws(SysError) -> Bool {
        try record("wait \(path) \(key)=\(value)")
        onWait?(path)
        let text = String(decoding: try real.readFile(path), as: UTF8.self)
        if text.split(separator: "\n").contains("\(key) \(value)") { return true }
        clock += Double(timeoutMilliseconds) / 1000
        return false
    }

    public func spawn(_ path: String, _ argv: [String], _ options: Spawn.Options) throws(SysError) -> Spawn.Child {
        try record((["spawn", path] + argv.dropFirst()).joined(separator: " "))
        nextPid += 1
        return Spawn.Child(pid: nextPid, output: nil)
    }
    public func wait(_ pid: pid_t) -> Int32 { exitCode }
    public func poll(_ pid: pid_t) -> Int32? { exitCode }
    public func signal(_ pid: pid_t, _ signal: Int32) {
        calls.append("signal \(pid) \(signal)")
        onSignal?(pid, signal)
    }

    /// Time passes only when slept.
    public func monotonicSeconds() -> Double { clock }
    public func sleep(microseconds: UInt32) { clock += Double(microseconds) / 1e6 }
    public func checkpoint(_ name: String) { calls.append("checkpoint \(name)") }
}
