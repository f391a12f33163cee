import Cgroups
import CrunRuntime
import JSONCore
import OCISpec
import Testing

/// Input the kernel would read as something else (issue 13 §3): NUL bytes, (uid_t)-1, device
/// numbers past dev_t, lenient capability names, numbers that would be truncated. Each is a
/// validation error naming its JSON path.
@Suite struct InputValidationTests {
    static let nul = "\\u0000"

    /// A NUL is refused while decoding (every string the model reads reaches a system call):
    /// the error names the field.
    func nulError(_ text: String) -> String {
        do {
            _ = try Bundle.decodeSpec(Array(text.utf8))
            return "decoded"
        } catch {
            return error.description
        }
    }

    @Test(arguments: ["/\\u0000", "..\\u0000", "/decoy\\u0000x", "a\\u0000/b"])
    func nulInCgroupsPath(_ path: String) throws {
        let found = nulError(config(linux: #""namespaces": [{"type": "mount"}], "cgroupsPath": "\#(path)""#))
        #expect(found.hasPrefix("config.json: linux.cgroupsPath: contains a NUL byte"), "\(found)")
    }

    /// Every string that reaches a system call, one at a time.
    @Test(arguments: [
        (#", "hostname": "h\#(nul)x""#, "hostname"),
        (#", "domainname": "d\#(nul)""#, "domainname"),
        (#", "mounts": [{"destination": "/m\#(nul)x", "type": "tmpfs", "source": "tmpfs"}]"#, "mounts[0].destination"),
        (#", "mounts": [{"destination": "/m", "type": "bind", "source": "/etc\#(nul)x"}]"#, "mounts[0].source"),
        (#", "mounts": [{"destination": "/m", "type": "tmp\#(nul)fs", "source": "tmpfs"}]"#, "mounts[0].type"),
        (#", "mounts": [{"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["size=1k\#(nul),nosuid"]}]"#, "mounts[0].options[0]"),
        (#", "hooks": {"prestart": [{"path": "/bin/true\#(nul)x"}]}"#, "hooks.prestart[0].path"),
        (#", "hooks": {"poststop": [{"path": "/bin/true", "args": ["a\#(nul)"]}]}"#, "hooks.poststop[0].args[0]"),
        (#", "hooks": {"createRuntime": [{"path": "/bin/true", "env": ["A=\#(nul)"]}]}"#, "hooks.createRuntime[0].env[0]"),
    ] as [(String, String)])
    func nulInTopLevelStrings(_ extra: String, _ path: String) throws {
        let found = nulError(config(extra))
        #expect(found.hasPrefix("config.json: \(path): contains a NUL byte"), "\(found)")
    }

    @Test(arguments: [
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c\#(nul)x"], "cwd": "/"}"#, "process.args[1]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "env": ["PATH=/bin\#(nul):/x"], "cwd": "/"}"#, "process.env[0]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/tmp\#(nul)/x"}"#, "process.cwd"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "capabilities": {"bounding": ["CAP_KILL\#(nul)"]}}"#, "process.capabilities.bounding[0]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "apparmorProfile": "p\#(nul)"}"#, "process.apparmorProfile"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE\#(nul)", "hard": 1, "soft": 1}]}"#, "process.rlimits[0].type"),
    ] as [(String, String)])
    func nulInProcessStrings(_ process: String, _ path: String) throws {
        let found = nulError(config(process: process))
        #expect(found.hasPrefix("config.json: \(path): contains a NUL byte"), "\(found)")
    }

    @Test(arguments: [
        (#""namespaces": [{"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net\#(nul)x"}]"#, "linux.namespaces[1].path"),
        (#""namespaces": [{"type": "mount"}, {"type": "network"}], "sysctl": {"net.ipv4.ip_forward": "1\#(nul)0"}"#, "linux.sysctl.net.ipv4.ip_forward"),
        (#""namespaces": [{"type": "mount"}, {"type": "network"}], "sysctl": {"net.ipv4\#(nul).ip_forward": "1"}"#, "linux.sysctl.net.ipv4\\u0000.ip_forward"),
        (#""namespaces": [{"type": "mount"}], "maskedPaths": ["/proc/kcore\#(nul)x"]"#, "linux.maskedPaths[0]"),
        (#""namespaces": [{"type": "mount"}], "readonlyPaths": ["/proc/sys\#(nul)"]"#, "linux.readonlyPaths[0]"),
        (#""namespaces": [{"type": "mount"}], "devices": [{"type": "c", "path": "/dev/x\#(nul)", "major": 1, "minor": 3}]"#, "linux.devices[0].path"),
        (#""namespaces": [{"type": "mount"}], "resources": {"unified": {"memory.max\#(nul)x": "1"}}"#, "linux.resources.unified.memory.max\\u0000x"),
        (#""namespaces": [{"type": "mount"}], "resources": {"unified": {"memory.high": "1\#(nul)"}}"#, "linux.resources.unified.memory.high"),
        (#""namespaces": [{"type": "mount"}], "resources": {"cpu": {"cpus": "0\#(nul)-1"}}"#, "linux.resources.cpu.cpus"),
        (#""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read\#(nul)x"], "action": "SCMP_ACT_ERRNO"}]}"#, "linux.seccomp.syscalls[0].names[0]"),
        (#""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x\#(nul)"}"#, "linux.seccomp.listenerPath"),
    ] as [(String, String)])
    func nulInLinuxStrings(_ linux: String, _ path: String) throws {
        let found = nulError(config(linux: linux))
        #expect(found.hasPrefix("config.json: \(path): ") && found.contains("contains a NUL byte"), "\(found)")
        // The message is one printable line: a NUL in a key is written as \u0000.
        #expect(!found.utf8.contains(0))
    }

    /// libcap's parser takes "CAP_SYS_ADMIN " (and lower case, and capability text) as
    /// CAP_SYS_ADMIN; the runtime takes runc's exact names only.
    @Test(arguments: ["CAP_SYS_ADMIN ", " CAP_SYS_ADMIN", "cap_sys_admin", "CAP_SYS_ADMIN,CAP_KILL", "CAP_SYS_ADMIN=eip", "CAP_21", "CAP_Sys_Admin"])
    func capabilityNamesAreExact(_ name: String) throws {
        let text = config(process: #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "capabilities": {"effective": ["CAP_KILL", "\#(name)"]}}"#)
        let spec = try Bundle.decodeSpec(Array(text.utf8))
        let found = ContainerPlanner().validator().validate(spec).map(\.description)
        #expect(found == ["process.capabilities.effective[1]: unknown capability \"\(name)\""], "\(found)")
        #expect(ContainerPlanner.libcapNumber(name) == nil)
        #expect(ContainerPlanner.libcapNumber("CAP_SYS_ADMIN") == 21)
    }

    @Test(arguments: [
        (#""major": 4294967297, "minor": 3"#, "linux.devices[0].major: 4294967297 is not a device major (0 to 4095"),
        (#""major": 4096, "minor": 3"#, "linux.devices[0].major: 4096 is not a device major"),
        (#""major": -1, "minor": 3"#, "linux.devices[0].major: -1 is not a device major"),
        (#""major": 1, "minor": 1048576"#, "linux.devices[0].minor: 1048576 is not a device minor (0 to 1048575"),
        (#""major": 1, "minor": 3, "uid": 4294967295"#, "linux.devices[0].uid: 4294967295 is (uid_t)-1"),
        (#""major": 1, "minor": 3, "gid": 4294967295"#, "linux.devices[0].gid: 4294967295 is (uid_t)-1"),
        (#""major": 1, "minor": 3, "fileMode": 8630"#, "linux.devices[0].fileMode: 8630 has bits beyond the permissions"),
    ] as [(String, String)])
    func deviceNumbersFitDevT(_ numbers: String, _ message: String) throws {
        let found = try issues(config(linux: #""namespaces": [{"type": "mount"}], "devices": [{"type": "c", "path": "/dev/x", \#(numbers)}]"#))
        #expect(found.contains { $0.hasPrefix(message) }, "\(found)")
    }

    @Test func deviceNumbersAtTheLimitsAreValid() throws {
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}], "devices": [{"type": "c", "path": "/dev/x", "major": 4095, "minor": 1048575, "fileMode": 4095}]"#)) == [])
    }

    /// Only -1 (or absent) is a wildcard in a device rule, as runc.
    @Test(arguments: [
        (#"{"allow": true, "type": "c", "major": -5, "minor": 1, "access": "rwm"}"#, "linux.resources.devices[0].major: -5 is not a device major"),
        (#"{"allow": true, "type": "c", "major": 1, "minor": -2, "access": "rwm"}"#, "linux.resources.devices[0].minor: -2 is not a device minor"),
        (#"{"allow": true, "type": "c", "major": 4294967297, "access": "rwm"}"#, "linux.resources.devices[0].major: 4294967297 is not a device major"),
    ] as [(String, String)])
    func deviceRuleNumbers(_ rule: String, _ message: String) throws {
        let found = try issues(config(linux: #""namespaces": [{"type": "mount"}], "resources": {"devices": [\#(rule)]}"#))
        #expect(found.contains { $0.hasPrefix(message) }, "\(found)")
    }

    @Test func deviceRuleWildcards() throws {
        let rules = #"[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": -1, "minor": -1, "access": "m"}, {"allow": true, "type": "c", "major": 136, "access": "rw"}]"#
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}], "resources": {"devices": \#(rules)}"#)) == [])
        let blockIO = #"{"blockIO": {"weightDevice": [{"major": -5, "minor": 0, "weight": 10}]}}"#
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}], "resources": \#(blockIO)"#))
            .contains { $0.hasPrefix("linux.resources.blockIO.weightDevice[0].major: -5 is not a device major") })
    }

    /// `update --resources` checks the same.
    @Test func updateResourcesAreChecked() throws {
        #expect(throws: JSONDecodeError(#"linux.resources.unified.pids.max\u0000x"#, "the key " + nulInStringMessage)) {
            try Resources(json: JSONParser.parse(#"{"unified": {"pids.max\u0000x": "1"}}"#), path: "linux.resources")
        }
        let r = try Resources(json: JSONParser.parse(#"{"devices": [{"allow": true, "major": -5}]}"#), path: "linux.resources")
        let found = SpecValidator().validateResources(r).map(\.description)
        #expect(found.count == 1 && found[0].hasPrefix("linux.resources.devices[0].major: -5"), "\(found)")
    }

    /// (uid_t)-1 means "no change" to setresuid/setgroups: runc refuses it, and so do we.
    @Test(arguments: [
        (#""uid": 4294967295, "gid": 0"#, "process.user.uid: 4294967295 is (uid_t)-1"),
        (#""uid": 0, "gid": 4294967295"#, "process.user.gid: 4294967295 is (uid_t)-1"),
        (#""uid": 0, "gid": 0, "additionalGids": [1, 4294967295]"#, "process.user.additionalGids[1]: 4294967295 is (uid_t)-1"),
        (#""uid": 0, "gid": 0, "umask": 512"#, "process.user.umask: must be at most 0777"),
        (#""uid": 4294967296, "gid": 0"#, "config.json: process.user.uid: 4294967296 is not a valid UInt32"),
        (#""uid": -1, "gid": 0"#, "config.json: process.user.uid: -1 is not a valid UInt32"),
    ] as [(String, String)])
    func userIds(_ user: String, _ message: String) throws {
        let text = config(process: #"{"user": {\#(user)}, "args": ["sh"], "cwd": "/"}"#)
        do {
            let found = try issues(text)
            #expect(found.contains { $0.hasPrefix(message) }, "\(found)")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }

    @Test(arguments: [
        (#""consoleSize": {"height": 24, "width": 65536}"#, "process.consoleSize.width: 65536 is above 65535"),
        (#""consoleSize": {"height": 4294967295, "width": 80}"#, "process.consoleSize.height: 4294967295 is above 65535"),
        (#""oomScoreAdj": 1001"#, "process.oomScoreAdj: must be between -1000 and 1000"),
        (#""oomScoreAdj": -9223372036854775808"#, "process.oomScoreAdj: must be between -1000 and 1000"),
        (#""rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}]"#, "process.rlimits[0]: soft limit 2 is above the hard limit 1"),
    ] as [(String, String)])
    func processNumbers(_ member: String, _ message: String) throws {
        let found = try issues(config(process: #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", \#(member)}"#))
        #expect(found.contains { $0.hasPrefix(message) }, "\(found)")
    }

    @Test(arguments: [
        (#""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 4294967295, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]"#, "linux.uidMappings[0]: hostID + size must be at most 4294967295"),
        (#""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 0, "size": 0}], "gidMappings": [{"containerID": 4294967290, "hostID": 0, "size": 10}]"#, "linux.uidMappings[0].size: must be at least 1"),
        (#""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}], "gidMappings": [{"containerID": 4294967290, "hostID": 0, "size": 10}]"#, "linux.gidMappings[0]: containerID + size must be at most 4294967295"),
        (#""namespaces": [{"type": "mount"}, {"type": "time"}], "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 1000000000}}"#, "linux.timeOffsets.monotonic.nanosecs: must be below 1000000000"),
        (#""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 65537}"#, "linux.seccomp.defaultErrnoRet: 65537 is not an errno"),
        (#""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 65537}]}"#, "linux.seccomp.syscalls[0].errnoRet: 65537 is not an errno"),
    ] as [(String, String)])
    func linuxNumbers(_ linux: String, _ message: String) throws {
        let found = try issues(config(linux: linux))
        #expect(found.contains { $0.hasPrefix(message) }, "\(found)")
    }

    /// 100,000 conditions on one argument index (one rule each) took libseccomp minutes; no
    /// filter that large can load.
    @Test func seccompProfilesBeyondAFilterAreRefused() throws {
        let args = Array(repeating: #"{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}"#, count: 5000).joined(separator: ",")
        let found = try issues(config(linux: #""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [\#(args)]}]}"#))
        #expect(found == ["linux.seccomp.syscalls: 5000 rules (names times repeated-index conditions): more than a seccomp filter can hold (4096 instructions)"])
        let fine = Array(repeating: #"{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}"#, count: 100).joined(separator: ",")
        #expect(try issues(config(linux: #""namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["personality", "kill"], "action": "SCMP_ACT_ERRNO", "args": [\#(fine)]}]}"#)) == [])
    }

    @Test func hookTimeoutMustBePositive() throws {
        let found = try issues(config(#", "hooks": {"poststart": [{"path": "/bin/true", "timeout": 0}]}"#))
        #expect(found == ["hooks.poststart[0].timeout: must be greater than zero, got 0"])
    }

    @Test func cgroupPathsNeverHoldNul() {
        #expect(throws: CgroupError.self) { try CgroupHierarchy.containerPath("/decoy\u{0}x", id: "c", systemd: false, own: "/") }
        #expect(throws: CgroupError.self) { try CgroupHierarchy.containerPath("/\u{0}", id: "c", systemd: false, own: "/") }
        #expect(throws: CgroupError.self) { try CgroupHierarchy.containerPath(nil, id: "c\u{0}", systemd: false, own: "/own") }
    }
}

/// Objects are parsed in time linear in their members (issue 13 §3). The black-box guard is
/// the fuzz tier's 200,000-member config under a timeout; here, what linear parsing must keep.
@Suite struct JSONObjectScaleTests {
    @Test func manyMembersKeepOrderAndMergeRepeats() throws {
        var text = "{"
        for i in 0..<50_000 { text += "\"k\(i)\": \(i)," }
        text += "\"k7\": \"last\", \"k49999\": true}"
        guard case .object(let members) = try JSONParser.parse(text) else { Issue.record("not an object"); return }
        #expect(members.pairs.count == 50_000)
        #expect(members.pairs[7].key == "k7" && members.pairs[7].value == .string("last"))
        #expect(members.pairs.last?.value == .bool(true))
        #expect(members.pairs[123].key == "k123")
    }

    /// Keys that all land in one slot of the position table (found by brute force against
    /// FNV-1a, as an attacker would) switch to the seeded Dictionary and still merge right.
    @Test func collidingKeysStillMerge() throws {
        func fnv(_ s: String) -> UInt64 { s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 } }
        var keys: [String] = []
        var i = 0
        while keys.count < 100 {   // 100 members: a table of 256 slots
            if fnv("c\(i)") & 255 == 7 { keys.append("c\(i)") }
            i += 1
        }
        let text = "{" + keys.map { "\"\($0)\": 1" }.joined(separator: ",") + ", \"\(keys[3])\": 2}"
        guard case .object(let m) = try JSONParser.parse(text) else { Issue.record("not an object"); return }
        #expect(m.keys == keys)
        #expect(m.pairs[3].value == .number("2"))
    }

    @Test func smallObjectsMergeRepeatsToo() throws {
        let v = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        guard case .object(let m) = v else { Issue.record("not an object"); return }
        #expect(m.keys == ["a", "b"] && v["a"] == .number("3"))
    }

    @Test(arguments: [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x5C, 0x6E, 0xFE, 0x22]] as [[UInt8]])
    func invalidUTF8IsAnError(_ bytes: [UInt8]) {
        do {
            _ = try JSONParser.parse(bytes)
            Issue.record("parsed invalid UTF-8")
        } catch {
            #expect(error.reason == "invalid UTF-8 in a string")
        }
    }

    @Test func validUTF8Passes() throws {
        #expect(try JSONParser.parse(Array("\"é😀\\n\"".utf8)) == .string("é😀\n"))
    }
}
