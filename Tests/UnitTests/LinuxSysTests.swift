import Foundation
import Glibc
import LinuxSys
import LinuxSysTesting
import Testing

/// The shared low-level helpers, on real files and processes in a temp dir.
@Suite struct LinuxSysTests {
    let dir = NSTemporaryDirectory() + "linuxsys-\(UUID().uuidString)"

    @Test func filesWriteReadListAndMakeDirectories() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.makeDirectories(dir + "/a/b")
        try Files.makeDirectories(dir + "/a/b")  // existing: fine
        try Files.write(dir + "/a/b/f", "one")
        try Files.write(dir + "/a/b/f", "two")   // replaced, not appended
        #expect(try Files.read(dir + "/a/b/f") == Array("two".utf8))
        #expect(Files.entries(dir + "/a")?.sorted() == ["b"])
        #expect(Files.entries(dir + "/missing") == nil)
        let fd = open(dir + "/a", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        #expect(Files.entries(directoryFd: fd)?.map { "\($0.name) \($0.type)" } == ["b \(DT_DIR)"])
        #expect(Files.entries(directoryFd: fd)?.count == 1)  // the descriptor itself was not read to its end
        #expect(Files.entries(directoryFd: -1) == nil && errno == EBADF)
        #expect { try Files.read(dir + "/a/b/f", limit: 1) } throws: { ($0 as? SysError)?.errno == EFBIG }
        #expect { try Files.read(dir + "/nope") } throws: { error in
            let e = error as? SysError
            return e?.errno == ENOENT && e?.description == "open `\(dir)/nope`: No such file or directory"
        }
        let sys = LinuxSyscalls()
        try sys.replaceFile(dir + "/a/r", "new")
        #expect(try sys.readFile(dir + "/a/r") == Array("new".utf8) && !sys.exists(dir + "/a/r.tmp"))
    }

    @Test func filesCreateExclusivelyReplaceAtomicallyOverwriteAndLock() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.makeDirectories(dir)
        let f = dir + "/new"
        try Files.create(f, Array("first".utf8), mode: 0o640)
        #expect(try Files.read(f) == Array("first".utf8))
        var st = stat()
        #expect(stat(f, &st) == 0 && st.st_mode & 0o777 == 0o640)
        // O_EXCL: a taken name is EEXIST and keeps its contents.
        #expect { try Files.create(f, Array("second".utf8)) } throws: { ($0 as? SysError) == SysError("create", f, errno: EEXIST) }
        #expect(try Files.read(f) == Array("first".utf8))

        try Files.replace(f, "replaced")
        #expect(try Files.read(f) == Array("replaced".utf8) && !Files.exists(f + ".tmp"))
        // A rename that cannot happen (a directory in the way) leaves no temp file behind.
        try Files.makeDirectories(dir + "/d/x")
        #expect { try Files.replace(dir + "/d", "text") } throws: { ($0 as? SysError)?.step == "rename into place" }
        #expect(!Files.exists(dir + "/d.tmp"))

        // A file that must be there (a kernel file): never created.
        #expect { try Files.overwrite(dir + "/missing", "1") } throws: { ($0 as? SysError) == SysError("open", dir + "/missing", errno: ENOENT) }
        #expect(!Files.exists(dir + "/missing"))
        try Files.overwrite(f, "RE")
        #expect(try Files.read(f) == Array("RE".utf8))

        // The lock file is made, and a second descriptor cannot take the lock while it is held.
        let fd = try Files.openLocked(dir + "/lock")
        let other = open(dir + "/lock", O_RDWR | O_CLOEXEC)
        #expect(other >= 0 && flock(other, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
        close(fd)
        #expect(flock(other, LOCK_EX | LOCK_NB) == 0)
        close(other)
        #expect { try Files.openLocked(dir + "/no/such/dir/lock") } throws: { ($0 as? SysError)?.step == "open" }
    }

    @Test func spawnCapturesStderrApartAndCanUnblockSignals() throws {
        var options = Spawn.Options()
        options.stdout = .capture
        options.stderr = .capture
        options.unblockSignals = true
        // The caller blocks SIGTERM; the child starts with nothing blocked.
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        // (grep itself, not through a shell: dash clears its signal mask.)
        let argv = ["grep", "SigBlk", "/proc/self/status", "/nonexistent"]
        let child = try Spawn.start("/bin/grep", argv, options)
        let out = String(decoding: Spawn.drain(child.output), as: UTF8.self)
        let err = String(decoding: Spawn.drain(child.errors), as: UTF8.self)
        #expect(Spawn.wait(child.pid) == 2)
        #expect(out == "/proc/self/status:SigBlk:\t0000000000000000\n")
        #expect(err == "grep: /nonexistent: No such file or directory\n")
        options.unblockSignals = false
        options.stderr = .null
        let blocked = try Spawn.run("/bin/grep", argv, options)
        let mask = String(decoding: blocked.output, as: UTF8.self).split(separator: "\t").last.flatMap { UInt64($0.dropLast(), radix: 16) }
        #expect(mask.map { $0 & (1 << (UInt64(SIGTERM) - 1)) != 0 } == true)  // ours, inherited
    }

    @Test func spawnFeedsStdinCapturesStdoutAndReportsTheExitCode() throws {
        var options = Spawn.Options()
        options.stdin = .bytes(Array("hello".utf8))
        options.stdout = .capture
        let (status, out) = try Spawn.run("/bin/cat", ["cat"], options)
        #expect(status == 0 && out == Array("hello".utf8))
        options = Spawn.Options()
        options.searchPath = true
        options.environment = ["CODE=7"]
        #expect(try Spawn.run("sh", ["sh", "-c", "exit $CODE"], options).status == 7)
        #expect(try Spawn.run("/bin/sh", ["sh", "-c", "kill -9 $$"]).status == 128 + 9)
        #expect { try Spawn.run("/nonexistent/prog", ["prog"]) } throws: { ($0 as? SysError)?.errno == ENOENT }
    }

    @Test func theRecordingSyscallsRecordAndFailOnRequest() throws {
        let sys = RecordingSyscalls()
        sys.failures["sysctl net/ipv4"] = EACCES
        #expect(throws: SysError.self) { try sys.sysctl("net/ipv4/ip_forward", "1") }
        try sys.sysctl("net/ipv6/conf/all/forwarding", "1")
        let child = try sys.spawn("/proc/self/exe", ["swnet", "dns-server", "/d"], Spawn.Options())
        sys.checkpoint("x")
        let t0 = sys.monotonicSeconds()
        sys.sleep(microseconds: 1500)
        #expect(sys.monotonicSeconds() - t0 == 0.0015 && child.pid > 0)
        #expect(sys.calls == ["sysctl net/ipv4/ip_forward=1", "sysctl net/ipv6/conf/all/forwarding=1",
                              "spawn /proc/self/exe dns-server /d", "checkpoint x"])
    }
}
