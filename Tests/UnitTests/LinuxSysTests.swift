import Foundation
import Glibc
import LinuxSys
import LinuxSysTesting
import Testing

/// The shared low-level helpers, on real files and processes in a temp dir.
@Suite struct LinuxSysTests {
    let dir = NSTemporaryDirectory() + "linuxsys-\(UUID().uuidString)"

    @Test func filesWriteReadListAndMakeDirectories() throws {
        try Files.makeDirectories(dir + "/a/b")
        try Files.makeDirectories(dir + "/a/b")  // existing: fine
        try Files.write(dir + "/a/b/f", "one")
        try Files.write(dir + "/a/b/f", "two")   // replaced, not appended
        #expect(try Files.read(dir + "/a/b/f") == Array("two".utf8))
        #expect(Files.entries(dir + "/a")?.sorted() == ["b"])
        #expect(Files.entries(dir + "/missing") == nil)
        #expect { try Files.read(dir + "/a/b/f", limit: 1) } throws: { ($0 as? SysError)?.errno == EFBIG }
        #expect { try Files.read(dir + "/nope") } throws: { error in
            let e = error as? SysError
            return e?.errno == ENOENT && e?.description == "open `\(dir)/nope`: No such file or directory"
        }
        let sys = LinuxSyscalls()
        try sys.replaceFile(dir + "/a/r", "new")
        #expect(try sys.readFile(dir + "/a/r") == Array("new".utf8) && !sys.exists(dir + "/a/r.tmp"))
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
