import Glibc

/// The kernel calls a planner or plugin makes, behind one seam: `LinuxSyscalls` makes them,
/// `RecordingSyscalls` records them for unit tests (and can fail any of them).
public protocol Syscalls: AnyObject {
    // Files
    func readFile(_ path: String) throws(SysError) -> [UInt8]
    func writeFile(_ path: String, _ text: String) throws(SysError)
    /// Writes beside `path` and renames over it: a reader never sees half a file.
    func replaceFile(_ path: String, _ text: String) throws(SysError)
    func makeDirectories(_ path: String, mode: mode_t) throws(SysError)
    func entries(_ directory: String) -> [String]?
    func exists(_ path: String) -> Bool
    func isExecutable(_ path: String) -> Bool
    func remove(_ path: String)
    /// Writes over an existing file without creating it (cgroup and proc control files).
    func overwriteFile(_ path: String, _ text: String) throws(SysError)
    /// One mkdir: EEXIST is an error here (the caller needs to know whether it made the directory).
    func makeDirectory(_ path: String, mode: mode_t) throws(SysError)
    /// rmdir.
    func removeDirectory(_ path: String) throws(SysError)
    /// The names of the directories in `directory` (by d_type); nil when it cannot be opened.
    func subdirectories(_ directory: String) -> [String]?
    func sysctl(_ key: String, _ value: String) throws(SysError)
    /// Waits until a kernel file of "key value" lines (cgroup.events) has `key value`, or the
    /// timeout passes: true when it does.
    func waitForKeyValue(_ path: String, key: String, value: Int, timeoutMilliseconds: Int) throws(SysError) -> Bool
    // Processes
    func spawn(_ path: String, _ argv: [String], _ options: Spawn.Options) throws(SysError) -> Spawn.Child
    func wait(_ pid: pid_t) -> Int32
    func poll(_ pid: pid_t) -> Int32?
    func signal(_ pid: pid_t, _ signal: Int32)
    // Clocks
    func monotonicSeconds() -> Double
    func sleep(microseconds: UInt32)
    /// A named point of a multi-step operation ("after-veth"): nothing in the real
    /// implementation; tests record it, and crash tests stop the process there.
    func checkpoint(_ name: String)
}

extension Syscalls {
    /// Runs a program to its end: exit code and captured stdout.
    public func run(_ path: String, _ argv: [String], _ options: Spawn.Options) throws(SysError) -> (status: Int32, output: [UInt8]) {
        Spawn.finish(try spawn(path, argv, options), wait: wait)
    }
}

/// The real calls.
open class LinuxSyscalls: Syscalls {
    public init() {}

    public func readFile(_ path: String) throws(SysError) -> [UInt8] { try Files.read(path) }
    public func writeFile(_ path: String, _ text: String) throws(SysError) { try Files.write(path, text) }
    public func replaceFile(_ path: String, _ text: String) throws(SysError) {
        try Files.write(path + ".tmp", text)
        if rename(path + ".tmp", path) < 0 {
            let e = errno
            unlink(path + ".tmp")
            throw SysError("rename into place", path, errno: e)
        }
    }
    public func makeDirectories(_ path: String, mode: mode_t) throws(SysError) { try Files.makeDirectories(path, mode: mode) }
    public func entries(_ directory: String) -> [String]? { Files.entries(directory) }
    public func exists(_ path: String) -> Bool { Files.exists(path) }
    public func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
    public func remove(_ path: String) { unlink(path) }
    public func overwriteFile(_ path: String, _ text: String) throws(SysError) { try Files.overwrite(path, text) }
    public func makeDirectory(_ path: String, mode: mode_t) throws(SysError) {
        if mkdir(path, mode) < 0 { throw SysError("create", path, errno: errno) }
    }
    public func removeDirectory(_ path: String) throws(SysError) {
        if rmdir(path) < 0 { throw SysError("remove", path, errno: errno) }
    }
    public func subdirectories(_ directory: String) -> [String]? { Files.entries(directory, type: UInt8(DT_DIR)) }
    public func sysctl(_ key: String, _ value: String) throws(SysError) { try Kernel.sysctl(key, value) }
    public func waitForKeyValue(_ path: String, key: String, value: Int, timeoutMilliseconds: Int) throws(SysError) -> Bool {
        try Kernel.waitForKeyValue(path, key: key, value: value, timeoutMilliseconds: timeoutMilliseconds)
    }

    public func spawn(_ path: String, _ argv: [String], _ options: Spawn.Options) throws(SysError) -> Spawn.Child {
        try Spawn.start(path, argv, options)
    }
    public func wait(_ pid: pid_t) -> Int32 { Spawn.wait(pid) }
    public func poll(_ pid: pid_t) -> Int32? { Spawn.poll(pid) }
    public func signal(_ pid: pid_t, _ signal: Int32) { kill(pid, signal) }

    public func monotonicSeconds() -> Double { LinuxSys.monotonicSeconds() }
    public func sleep(microseconds: UInt32) { usleep(microseconds) }
    open func checkpoint(_ name: String) {}
}
