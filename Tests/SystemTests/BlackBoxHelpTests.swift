import Foundation
import Testing

/// The first things a newcomer types: help, version, a mistyped flag, --debug. The names start
/// with BlackBox so scripts/test also runs them against the static release binary.
@Suite(.enabled(if: Harness.binaryExists))
struct BlackBoxHelpTests {
    static let commands = ["run", "create", "start", "state", "kill", "delete", "list", "ps", "exec",
                           "pause", "resume", "update", "events", "spec", "features"]

    @Test func topLevelHelpListsCommandsAndGlobalFlags() throws {
        for args in [["--help"], ["-h"], ["help"]] {
            let r = try Harness.crun(args)
            #expect(r.status == 0, "\(args)")
            #expect(r.stderr.isEmpty, "\(args): \(r.stderr)")
            for c in Self.commands { #expect(r.stdout.contains("\n  \(c) "), "\(args) lists \(c)") }
            for f in ["--root", "--log", "--log-format", "--debug", "--systemd-cgroup", "--cgroup-manager", "--version"] {
                #expect(r.stdout.contains("  \(f)"), "\(args) lists \(f)")
            }
        }
    }

    @Test(arguments: commands)
    func everyFormOfCommandHelpExitsZero(_ command: String) throws {
        let forms = [["help", command], [command, "--help"], [command, "-h"], ["--help", command]]
        let texts = try forms.map { args in
            let r = try Harness.crun(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stdout.hasPrefix("Usage: crun-swift \(command)"), "\(args): \(r.stdout)")
            return r.stdout
        }
        #expect(Set(texts).count == 1, "\(command): every form prints the same help")
    }

    @Test func runHelpListsEveryFlagOnALineOfItsOwn() throws {
        let text = try Harness.crun(["run", "--help"]).stdout
        for flag in ["--bundle value, -b value", "--network value", "--network-config-dir value", "--cni-path value",
                     "--pid-file value", "--preserve-fds value", "--no-pivot", "--detach, -d", "--console-socket value", "--keep"] {
            let line = text.split(separator: "\n").first { $0.hasPrefix("  \(flag) ") }
            #expect(line != nil, "run --help: no line for \(flag)")
            #expect((line?.split(separator: " ", omittingEmptySubsequences: true).count ?? 0) > flag.split(separator: " ").count + 1,
                    "run --help: \(flag) has no description")
        }
    }

    @Test func helpOfAnUnknownCommandFails() throws {
        let r = try Harness.crun(["help", "nosuch"])
        #expect(r.status == 1)
        #expect(r.stderr == "crun-swift: help: unknown command \"nosuch\" (see crun-swift --help)\n")
    }

    @Test func mistypedGlobalFlagIsReportedOnce() throws {
        for args in [["--roo", "/x", "list"], ["--nope"], ["--debug", "--bogus=1", "state", "x"]] {
            let r = try Harness.crun(args)
            #expect(r.status == 1, "\(args)")
            let flag = args.first { $0 != "--debug" }!.split(separator: "=").first!
            #expect(r.stderr.hasPrefix("crun-swift: flag provided but not defined: \(flag)"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args)")
        }
        let sub = try Harness.crun(["list", "--nope"])
        #expect(sub.status == 1)
        #expect(sub.stderr == "crun-swift: list: flag provided but not defined: --nope\n")
    }

    /// runc's format. The release binary built by scripts/build-release names its commit; any
    /// other build says "unknown".
    @Test func versionNamesTheCommit() throws {
        let r = try Harness.crun(["--version"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3)
        #expect(lines.first?.hasPrefix("crun-swift version ") == true)
        #expect(lines.dropFirst().first?.hasPrefix("spec: ") == false)
        let commit = lines.first { $0.hasPrefix("commit: ") }.map { String($0.dropFirst(8)) }
        #expect(lines.contains { $0.hasPrefix("spec: 1.") })
        let release = URL(fileURLWithPath: Harness.binary).standardized.path == Harness.packageRoot + "/.build/release/crun-swift"
        if release, let head = Harness.gitHead() {
            #expect(commit == head || commit == head + "-dirty", "release build: commit \(commit ?? "-"), HEAD \(head)")
        } else if !release {
            #expect(commit == "unknown")
        }
        #expect(try Harness.crun(["-v"]).stdout == r.stdout)
    }
}

/// `--debug` says what the runtime does, step by step, on stderr or (with --log) in the log;
/// without it nothing is said.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct BlackBoxDebugTests {
    func logged(_ log: String) -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    @Test func debugRunPrintsEveryStep() throws {
        let bundle = try Harness.TempBundle(config: Harness.baseConfig(args: ["true"]))
        let steps = ["bundle", "plan", "cgroup", "spawn", "wait", "delete"]
        let plain = try Harness.crun(["--debug", "run", bundle.path])
        #expect(plain.status == 0, "\(plain.stderr)")
        for step in steps { #expect(plain.stderr.contains("crun-swift: debug: \(step): "), "stderr lacks \(step): \(plain.stderr)") }
        let log = bundle.path + "/debug.log"
        #expect(try Harness.crun(["--debug", "--log", log, "run", bundle.path]).status == 0)
        for step in steps { #expect(logged(log).contains("level=debug msg=\"\(step): "), "log lacks \(step): \(logged(log))") }
        let quiet = try Harness.crun(["run", bundle.path])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test func debugLifecyclePrintsHooksStartAndDelete() throws {
        var c = Harness.baseConfig(args: ["true"])
        c["hooks"] = ["prestart": [["path": "/bin/true"]], "poststop": [["path": "/bin/true"]]]
        let bundle = try Harness.TempBundle(config: c)
        let state = bundle.path + "/state"
        let id = "debug-\(getpid())"
        defer { _ = try? Harness.crun(["--root", state, "delete", "--force", id]) }
        func debug(_ args: [String], _ steps: [String]) throws -> Harness.Result {
            let r = try Harness.crun(["--debug", "--root", state] + args)
            for step in steps where r.status == 0 {
                #expect(r.stderr.contains("crun-swift: debug: \(step): "), "\(args): stderr lacks \(step): \(r.stderr)")
            }
            return r
        }
        let created = try debug(["create", "--bundle", bundle.path, id], ["bundle", "plan", "cgroup", "spawn", "hooks"])
        #expect(created.status == 0, "\(created.stderr)")
        let started = try debug(["start", id], ["start"])
        #expect(started.status == 0, "\(started.stderr)")
        // The container's `true` exits by itself; delete refuses until then (up to 30 s).
        var deleted = Harness.Result(status: -1, stdout: "", stderr: "")
        for _ in 0..<600 {
            deleted = try Harness.crun(["--root", state, "state", id])
            if deleted.stdout.contains("\"stopped\"") { break }
            usleep(50_000)
        }
        deleted = try debug(["delete", id], ["hooks", "delete"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
    }
}

extension Harness {
    /// The commit checked out in the package's repository, nil outside git.
    static func gitHead() -> String? {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", packageRoot, "rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
