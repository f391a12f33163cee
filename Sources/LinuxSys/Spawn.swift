import CLinuxSys
import Glibc

/// posix_spawn with the descriptors, session and environment said once.
public enum Spawn {
    public enum Input: Sendable { case inherit, null, bytes([UInt8]) }
    public enum Output: Sendable { case inherit, null, capture }

    public struct Options: Sendable {
        public var stdin: Input = .inherit
        public var stdout: Output = .inherit
        public var stderr: Output = .inherit
        /// nil: ours. "K=V" entries otherwise.
        public var environment: [String]?
        /// A session of its own (a daemon outlives its starter's terminal and process group).
        public var newSession = false
        /// Look `path` up on PATH.
        public var searchPath = false
        /// Start with no signal blocked (for a caller that blocks the signals it forwards).
        public var unblockSignals = false
        public init() {}
    }

    /// A started program; `output` and `errors` are the read ends of its stdout and stderr
    /// when captured.
    public struct Child: Sendable {
        public let pid: pid_t
        public let output: Int32?
        public let errors: Int32?
        public init(pid: pid_t, output: Int32?, errors: Int32? = nil) {
            self.pid = pid
            self.output = output
            self.errors = errors
        }
    }

    public static func start(_ path: String, _ argv: [String], _ options: Options = Options()) throws(SysError) -> Child {
        // Close-on-exec: what the program starts (swnet's DNS server) must not inherit a pipe
        // we wait on for EOF. (dup2 onto 0, 1 and 2 in the child clears the flag there.)
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        if case .bytes = options.stdin, ls_pipe_cloexec(&inPipe) != 0 { throw SysError("pipe", errno: errno) }
        if (options.stdout == .capture && ls_pipe_cloexec(&outPipe) != 0) || (options.stderr == .capture && ls_pipe_cloexec(&errPipe) != 0) {
            let e = errno
            for fd in inPipe + outPipe where fd >= 0 { close(fd) }
            throw SysError("pipe", errno: e)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch options.stdin {
        case .inherit: break
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .bytes: posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        }
        for (fd, output) in [(Int32(1), options.stdout), (2, options.stderr)] {
            switch output {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .capture: posix_spawn_file_actions_adddup2(&actions, fd == 1 ? outPipe[1] : errPipe[1], fd)
            }
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var flags: Int16 = 0
        if options.newSession { flags |= ls_spawn_setsid_flag() }
        if options.unblockSignals {
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attr, &none)
            flags |= Int16(POSIX_SPAWN_SETSIGMASK)
        }
        if flags != 0 { posix_spawnattr_setflags(&attr, flags) }
        let argvC: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let envC: [UnsafeMutablePointer<CChar>?]? = options.environment.map { $0.map { strdup($0) } + [nil] }
        defer { for p in argvC + (envC ?? []) { free(p) } }
        var pid: pid_t = 0
        let r = argvC.withUnsafeBufferPointer { a in
            let argvP = UnsafeMutablePointer(mutating: a.baseAddress!)
            let env = envC.map { e in e.withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress!) } } ?? environ
            return options.searchPath ? posix_spawnp(&pid, path, &actions, &attr, argvP, env) : posix_spawn(&pid, path, &actions, &attr, argvP, env)
        }
        if inPipe[0] >= 0 { close(inPipe[0]) }
        if outPipe[1] >= 0 { close(outPipe[1]) }
        if errPipe[1] >= 0 { close(errPipe[1]) }
        if r != 0 {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] where fd >= 0 { close(fd) }
            throw SysError("run", path, errno: r)
        }
        if case .bytes(let bytes) = options.stdin {
            bytes.withUnsafeBytes { _ = Files.writeAll(fd: inPipe[1], $0) }
            close(inPipe[1])
        }
        return Child(pid: pid, output: outPipe[0] >= 0 ? outPipe[0] : nil, errors: errPipe[0] >= 0 ? errPipe[0] : nil)
    }

    /// Runs a program to its end: its exit code (128 + signal when killed) and what it printed
    /// (when `options.stdout` is `.capture`).
    public static func run(_ path: String, _ argv: [String], _ options: Options = Options()) throws(SysError) -> (status: Int32, output: [UInt8]) {
        finish(try start(path, argv, options), wait: wait)
    }

    /// Reads a started child's captured stdout to EOF, then waits for it.
    public static func finish(_ child: Child, wait: (pid_t) -> Int32) -> (status: Int32, output: [UInt8]) {
        let out = drain(child.output)
        return (wait(child.pid), out)
    }

    /// Everything up to EOF from a captured pipe, which is then closed ([] for nil).
    public static func drain(_ fd: Int32?) -> [UInt8] {
        guard let fd else { return [] }
        defer { close(fd) }
        return Files.readAll(fd: fd)
    }

    /// Waits for `pid`; its exit code, or 128 + signal.
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return exitCode(status)
    }

    /// The exit code if `pid` has ended (reaped), nil while it runs.
    public static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid ? exitCode(status) : nil
    }

    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

extension Spawn.Output: Equatable {}
