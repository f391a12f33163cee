import Foundation
import Testing

/// config.md: version, root, mounts, process, hostname, annotations, extensibility, valid values.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class ConfigConformanceTests {
    let c = Conformance()

    func run(_ config: [String: Any], id: String = "cfg") throws -> Harness.Result {
        try c.cs(["run", "--bundle", try c.bundle(config), id])
    }

    func shell(_ script: String, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> Harness.Result {
        var config = Harness.baseConfig(args: ["sh", "-c", script])
        change(&config)
        return try run(config)
    }

    /// "Specification version": every released 1.x version (and generators' -dev suffixes).
    @Test(arguments: ["1.0.0", "1.0.1", "1.0.2", "1.0.2-dev", "1.1.0", "1.1.0-rc.1", "1.2.0", "1.2.1", "1.3.0"])
    func configSpecificationVersion(_ version: String) throws {
        let r = try shell("echo ok") { $0["ociVersion"] = version }
        #expect(r.status == 0 && r.stdout == "ok\n", "\(version): \(r.stderr)")
    }

    /// "Root": path relative to the bundle or absolute; readonly: the root filesystem MUST
    /// be read-only in the container.
    @Test func configRootPathAndReadonly() throws {
        var config = Harness.baseConfig(args: ["sh", "-c", "touch /conformance-ro 2>/dev/null && echo writable || echo readonly"])
        config["root"] = ["path": "rootfs", "readonly": true]
        let b = try c.bundle(config)
        try FileManager.default.createSymbolicLink(atPath: b + "/rootfs", withDestinationPath: Harness.rootfs)
        let r = try c.cs(["run", "--bundle", b, "rootro"])
        #expect(r.status == 0 && r.stdout == "readonly\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: Harness.rootfs + "/conformance-ro"))
    }

    /// "Mounts": mounted in the listed order (a later mount covers an earlier one at the
    /// same place); a relative destination is taken relative to "/" (deprecated: a warning).
    @Test func configMountsOrderAndRelativeDestination() throws {
        let r = try shell("grep -c ' /mnt ' /proc/self/mountinfo; grep ' /mnt ' /proc/self/mountinfo | tail -1 | grep -o 'size=[0-9]*k'; grep -c ' /srv ' /proc/self/mountinfo") { config in
            config.append("mounts", [
                ["destination": "/mnt", "type": "tmpfs", "source": "one", "options": ["size=1024k"]],
                ["destination": "/mnt", "type": "tmpfs", "source": "two", "options": ["size=2048k"]],
                ["destination": "srv", "type": "tmpfs", "source": "rel"],
            ])
        }
        #expect(r.status == 0 && r.stdout == "2\nsize=2048k\n1\n", "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("mounts[7].destination: \"srv\" is relative (deprecated); mounted at /srv"), "\(r.stderr)")
    }

    /// "Process": args, env, cwd, user (uid, gid, additionalGids, umask).
    @Test func configProcessArgsEnvCwdUser() throws {
        let r = try shell("echo \"$0 $FOO\"; pwd; id -u; id -g; id -G; umask") { config in
            config.edit("process") {
                $0["args"] = ["sh", "-c", "echo \"$0 $FOO\"; pwd; id -u; id -g; id -G; umask", "zero"]
                $0["env"] = ["PATH=/bin", "FOO=bar"]
                $0["cwd"] = "/tmp"
                $0["user"] = ["uid": 1000, "gid": 1001, "additionalGids": [1002, 1003], "umask": 63] as [String: Any]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "zero bar\n/tmp\n1000\n1001\n1001 1002 1003\n0077\n", "\(r.stdout)")
    }

    /// "Process": cwd MUST be absolute; args MUST have at least one entry.
    @Test func configProcessCwdAbsoluteAndArgsRequired() throws {
        var config = Harness.baseConfig(args: [])
        config.edit("process") { $0["cwd"] = "tmp" }
        let r = try run(config)
        #expect(r.status != 0 && r.stderr.contains("process.cwd: must be absolute") && r.stderr.contains("process.args: must not be empty"), "\(r.stderr)")
    }

    /// "POSIX process": rlimits applied; duplicates and unknown types MUST be errors.
    @Test func configProcessRlimits() throws {
        let r = try shell("ulimit -n; ulimit -Hn") { config in
            config.edit("process") { $0["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 123, "hard": 456]] }
        }
        #expect(r.status == 0 && r.stdout == "123\n456\n", "\(r.stdout) \(r.stderr)")
        var dup = Harness.baseConfig(args: ["true"])
        dup.edit("process") { $0["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 1, "hard": 1], ["type": "RLIMIT_NOFILE", "soft": 2, "hard": 2], ["type": "RLIMIT_BOGUS", "soft": 1, "hard": 1]] }
        let d = try run(dup)
        #expect(d.status != 0 && d.stderr.contains("process.rlimits[1].type: RLIMIT_NOFILE listed twice") && d.stderr.contains("process.rlimits[2].type: unknown rlimit"), "\(d.stderr)")
    }

    /// "Linux process": capabilities (the five sets), noNewPrivileges, oomScoreAdj; a
    /// capability that cannot be mapped MUST fail the runtime.
    @Test func configProcessCapabilitiesNoNewPrivilegesOomScoreAdj() throws {
        let r = try shell("grep -E '^(CapBnd|CapEff|CapPrm|CapInh|CapAmb|NoNewPrivs):' /proc/self/status | tr -d '\\t'; cat /proc/self/oom_score_adj") { config in
            let caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
            config.edit("process") {
                $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps]
                $0["noNewPrivileges"] = true
                $0["oomScoreAdj"] = 321
            }
        }
        let mask = "0000000000000420"  // CAP_KILL (5) | CAP_NET_BIND_SERVICE (10)
        #expect(r.stdout == "CapInh:\(mask)\nCapPrm:\(mask)\nCapEff:\(mask)\nCapBnd:\(mask)\nCapAmb:\(mask)\nNoNewPrivs:1\n321\n", "\(r.stdout) \(r.stderr)")
        var bad = Harness.baseConfig(args: ["true"])
        bad.edit("process") { $0["capabilities"] = ["bounding": ["CAP_NOT_A_CAP"]] }
        let b = try run(bad)
        #expect(b.status != 0 && b.stderr.contains("process.capabilities.bounding[0]: unknown capability \"CAP_NOT_A_CAP\""), "\(b.stderr)")
    }

    /// "Hostname" and "Domainname": what the container's processes see.
    @Test func configHostnameAndDomainname() throws {
        let r = try shell("hostname; cat /proc/sys/kernel/domainname") { $0["hostname"] = "conf-host"; $0["domainname"] = "conf.example" }
        #expect(r.status == 0 && r.stdout == "conf-host\nconf.example\n", "\(r.stdout) \(r.stderr)")
    }

    /// "Extensibility": unknown properties MUST be ignored, at every level.
    @Test func configExtensibilityUnknownPropertiesAreIgnored() throws {
        let r = try shell("echo ok") { config in
            config["org.example.future"] = ["nested": [1, 2, 3]]
            config.edit("process") { $0["futureProcessField"] = true }
            config.edit("linux") { $0["futureLinuxField"] = "x" }
            config.edit("root") { $0["futureRootField"] = 1 }
        }
        #expect(r.status == 0 && r.stdout == "ok\n", "\(r.stderr)")
    }

    /// "Valid values": invalid or unsupported values MUST generate an error (each one named).
    @Test func configValidValuesInvalidOnesAreErrors() throws {
        var config = Harness.baseConfig(args: ["true"])
        config.edit("linux") {
            $0["namespaces"] = [["type": "mount"], ["type": "pidgin"]]
            $0["seccomp"] = ["defaultAction": "SCMP_ACT_MAYBE"]
            $0["rootfsPropagation"] = "sideways"
        }
        let r = try run(config)
        #expect(r.status != 0)
        for field in ["linux.namespaces[1].type", "linux.seccomp.defaultAction", "linux.rootfsPropagation"] {
            #expect(r.stderr.contains(field + ":"), "\(field): \(r.stderr)")
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: c.root))?.isEmpty ?? true)
    }

    /// "Annotations": passed through to the state (runtime.md "State").
    @Test func configAnnotationsAppearInTheState() throws {
        var config = Harness.baseConfig(args: ["sleep", "1000"])
        config["annotations"] = ["org.opencontainers.image.title": "conf", "empty": ""]
        #expect(try c.cs(["create", "--bundle", try c.bundle(config), "ann"]).status == 0)
        #expect(try c.state("ann")["annotations"] as? [String: String] == ["org.opencontainers.image.title": "conf", "empty": ""])
    }
}
