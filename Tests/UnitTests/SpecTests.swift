import CrunRuntime
import OCISpec
import Testing

/// A minimal valid config; tests change one thing at a time.
func config(_ extra: String = "", linux: String = #""namespaces": [{"type": "mount"}]"#, process: String? = nil) -> String {
    let p = process ?? #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}"#
    return #"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": \#(p), "linux": {\#(linux)}\#(extra)}"#
}

func issues(_ text: String) throws -> [String] {
    let spec = try Bundle.decodeSpec(Array(text.utf8))
    return SpecValidator(isKnownCapability: { ["CAP_KILL", "CAP_CHOWN"].contains($0) }).validate(spec).map(\.description)
}

@Suite struct SpecDecodingTests {
    @Test func ignoresUnknownFields() throws {
        let spec = try Bundle.decodeSpec(Array(config(#", "vm": {"x": 1}, "futureField": [1, 2]"#).utf8))
        #expect(spec.process?.args == ["sh"])
    }

    @Test func decodesAFullRuntimeSpecConfig() throws {
        let text = #"""
        {"ociVersion": "1.3.0", "hostname": "h", "domainname": "d",
         "root": {"path": "rootfs", "readonly": true},
         "process": {"terminal": true, "consoleSize": {"height": 24, "width": 80},
           "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3]},
           "args": ["a"], "env": ["A=b"], "cwd": "/",
           "capabilities": {"bounding": ["CAP_KILL"], "ambient": []},
           "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 5}],
           "noNewPrivileges": true, "oomScoreAdj": -5, "apparmorProfile": "p",
           "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}, "scheduler": {"policy": "SCHED_OTHER"}},
         "mounts": [{"destination": "/p", "type": "proc", "source": "proc", "options": ["nosuid"]}],
         "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 3}]},
         "annotations": {"k": "v"},
         "linux": {"namespaces": [{"type": "mount"}, {"type": "time"}], "timeOffsets": {"monotonic": {"secs": 5, "nanosecs": 1}},
           "devices": [{"type": "c", "path": "/dev/x", "major": 1, "minor": 3, "fileMode": 438}],
           "resources": {"memory": {"limit": 1024}, "cpu": {"shares": 10, "cpus": "0"}, "pids": {"limit": 5},
             "unified": {"memory.high": "1M"}, "devices": [{"allow": false, "access": "rwm"}]},
           "sysctl": {"net.ipv4.ip_forward": "1"},
           "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
           "rootfsPropagation": "rslave", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
           "personality": {"domain": "LINUX"}, "intelRdt": {"closID": "x"}}}
        """#
        let spec = try Bundle.decodeSpec(Array(text.utf8))
        #expect(spec.process?.user.additionalGids == [3])
        #expect(spec.linux?.timeOffsets?["monotonic"]?.secs == 5)
        #expect(spec.linux?.resources?.unified?["memory.high"] == "1M")
        #expect(spec.linux?.seccomp?.syscalls?.first?.args?.first?.op == "SCMP_CMP_EQ")
        #expect(spec.hooks?.prestart?.first?.timeout == 3)
    }

    @Test func wrongTypeNamesTheField() {
        #expect(throws: RuntimeError.self) { try Bundle.decodeSpec(Array(#"{"ociVersion": 1}"#.utf8)) }
        do {
            _ = try Bundle.decodeSpec(Array(config(process: #"{"user": {"uid": "root", "gid": 0}, "args": ["sh"], "cwd": "/"}"#).utf8))
        } catch {
            #expect(error.description == "config.json: process.user.uid: expected an integer, found a string")
        }
    }
}

@Suite struct SpecValidationTests {
    @Test(arguments: ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "1.2.1-dev"])
    func acceptsEvery1xVersion(_ v: String) throws {
        let text = config().replacingOccurrences(of: "1.2.0", with: v)
        #expect(try issues(text) == [])
    }

    @Test(arguments: ["2.0.0", "0.9", "1", "x"])
    func refusesOtherVersions(_ v: String) throws {
        let text = config().replacingOccurrences(of: "\"1.2.0\"", with: "\"\(v)\"")
        #expect(try issues(text).first?.hasPrefix("ociVersion: unsupported version") == true)
    }

    @Test func reportsEveryProblemWithItsPath() throws {
        let text = config(
            #", "mounts": [{"destination": "/ok", "type": "tmpfs"}, {"destination": "", "type": "tmpfs"}, {"destination": "/b", "options": ["bind"]}]"#,
            linux: #""namespaces": [{"type": "mount"}, {"type": "bogus"}, {"type": "mount"}], "rootfsPropagation": "sideways", "devices": [{"type": "x", "path": "dev/x"}]"#,
            process: #"{"user": {"uid": 0, "gid": 0}, "args": [], "cwd": "tmp", "env": ["NOEQUALS"], "capabilities": {"bounding": ["CAP_KILL", "CAP_FLY"]}, "rlimits": [{"type": "RLIMIT_FOO", "hard": 1, "soft": 2}], "oomScoreAdj": 5000}"#)
        let found = try issues(text)
        let expected = [
            "linux.namespaces[1].type: unknown namespace type \"bogus\" (one of pid, network, mount, ipc, uts, user, cgroup, time)",
            "linux.namespaces[2].type: mount namespace listed twice",
            "process.args: must not be empty",
            "process.cwd: must be absolute",
            "process.env[0]: must be KEY=VALUE",
            "process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"",
            "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"",
            "process.rlimits[0]: soft limit 2 is above the hard limit 1",
            "process.oomScoreAdj: must be between -1000 and 1000",
            "mounts[1].destination: must not be empty",
            "mounts[2].source: required for a bind mount",
            "linux.rootfsPropagation: unknown propagation \"sideways\"",
            "linux.devices[0].type: unknown device type \"x\" (c, b, u or p)",
            "linux.devices[0].path: must be absolute",
            "linux.devices[0]: major and minor are required for type x",
        ]
        #expect(found == expected)
    }

    @Test func namespaceRules() throws {
        // An unlisted mount namespace is inherited (runtime-spec); only what would mount on
        // the host is refused, each field by name.
        #expect(try issues(config(linux: #""namespaces": [{"type": "pid"}]"#)) == [])
        #expect(try issues(config(linux: #""namespaces": []"#)) == [])
        let why = "needs a mount namespace of the container's own (linux.namespaces has no mount entry, so the container shares the runtime's and this would change the host's mounts)"
        let sys = "unable to restrict sys entries without a private MNT namespace (linux.namespaces has no mount entry)"
        #expect(try issues(#"{"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": true}, "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}, "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}], "linux": {"namespaces": [{"type": "pid"}], "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "rootfsPropagation": "private", "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]}}"#) == [
            "mounts[0]: " + why, "root.readonly: " + why, "linux.maskedPaths: " + sys, "linux.readonlyPaths: " + sys,
            "linux.rootfsPropagation: " + why, "linux.devices: " + why,
        ])
        // A joined mount namespace is the container's own.
        #expect(try issues(config(#", "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}]"#, linux: #""namespaces": [{"type": "mount", "path": "/proc/1/ns/mnt"}]"#)) == [])
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}, {"type": "user"}]"#)) ==
            ["linux.uidMappings: required with a new user namespace", "linux.gidMappings: required with a new user namespace"])
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]"#)) ==
            ["linux.uidMappings: set, but there is no user namespace in linux.namespaces"])
        #expect(try issues(config(#", "hostname": "h""#)) == ["hostname: needs a new uts namespace in linux.namespaces"])
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}, {"type": "time"}], "timeOffsets": {"realtime": {"secs": 1}}"#)) ==
            ["linux.timeOffsets.realtime: unknown clock (monotonic or boottime)"])
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}, {"type": "net", "path": "x"}]"#)).first?.hasPrefix("linux.namespaces[1].type: unknown namespace type \"net\"") == true)
    }

    @Test func sysctlsMustBeNamespaced() throws {
        let found = try issues(config(linux: #""namespaces": [{"type": "mount"}, {"type": "ipc"}], "sysctl": {"kernel.shmmax": "1", "net.ipv4.ip_forward": "1", "vm.swappiness": "1"}"#))
        #expect(found == ["linux.sysctl.net.ipv4.ip_forward: needs a new network namespace",
                          "linux.sysctl.vm.swappiness: not a namespaced sysctl: it would change the host"])
    }
}
