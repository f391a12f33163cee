import Glibc
import LinuxSys

/// Runs a helper program (found on PATH) and returns its stdout.
public enum Subprocess {
    public static func output(_ argv: [String]) throws(RuntimeError) -> String {
        try run(argv).stdout
    }

    /// Runs a program; returns its exit status, stdout and stderr.
    public static func run(_ argv: [String]) throws(RuntimeError) -> (status: Int32, stdout: String, stderr: String) {
        var errPipe: [Int32] = [-1, -1]
        if pipe(&errPipe) < 0 { throw .system(step: "pipe", subject: nil, errno: errno) }
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) < 0 { throw .system(step: "pipe", subject: nil, errno: errno) }
        // Close-on-exec: what the helper starts (swnet's DNS server) must not inherit a pipe
        // we wait on for EOF. (dup2 onto 1 and 2 in the child clears the flag there.)
        for fd in fds + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, errPipe[0])
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        // `run` blocks the signals it forwards; the helper (swnet and the DNS server it
        // starts) gets the default mask back.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, argv[0], &actions, &attr, &cargs, environ)
        close(fds[1])
        close(errPipe[1])
        if r != 0 { close(fds[0]); close(errPipe[0]); throw .system(step: "run", subject: argv[0], errno: r) }
        // Small outputs: stdout first, then stderr (a helper that fills stderr's pipe first
        // would wait; ours print a line or two).
        let out = drain(fds[0])
        let err = drain(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    static func drain(_ fd: Int32) -> [UInt8] {
        defer { close(fd) }
        return Files.readAll(fd: fd)
    }
}
