import Foundation
import Testing

/// The default seccomp profiles of podman (containers-common) and docker/containerd (moby),
/// resolved for a capability set the way those tools resolve them, must load and run busybox
/// (issue 14 §2: podman's profile with `--cap-drop ALL` failed with EEXIST).
enum SeccompProfiles {
    static let directory = Harness.packageRoot + "/Tests/Data/seccomp"

    /// What moby's `setupSeccomp` and containers/common's `setupSeccomp` do with a profile: the
    /// native arch's archMap entry gives `architectures`; a rule is dropped when an excluded
    /// cap is in the bounding set, the arch is excluded, or the kernel is at least the excluded
    /// minKernel; kept only when every included cap is in the bounding set, the arch is
    /// included and the kernel is at least the included minKernel.
    static func resolve(_ file: String, bounding caps: [String]) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
        let profile = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let goArch = "amd64", native = "SCMP_ARCH_X86_64"
        var out: [String: Any] = ["defaultAction": profile["defaultAction"]!]
        if let ret = profile["defaultErrnoRet"] { out["defaultErrnoRet"] = ret }
        for entry in profile["archMap"] as? [[String: Any]] ?? [] where entry["architecture"] as? String == native {
            out["architectures"] = [native] + (entry["subArchitectures"] as? [String] ?? [])
        }
        var syscalls: [[String: Any]] = []
        for rule in profile["syscalls"] as? [[String: Any]] ?? [] {
            let inc = rule["includes"] as? [String: Any] ?? [:], exc = rule["excludes"] as? [String: Any] ?? [:]
            if (exc["arches"] as? [String] ?? []).contains(goArch) { continue }
            if (exc["caps"] as? [String] ?? []).contains(where: caps.contains) { continue }
            if let k = exc["minKernel"] as? String, kernelAtLeast(k) { continue }
            if let a = inc["arches"] as? [String], !a.isEmpty, !a.contains(goArch) { continue }
            if !(inc["caps"] as? [String] ?? []).allSatisfy(caps.contains) { continue }
            if let k = inc["minKernel"] as? String, !kernelAtLeast(k) { continue }
            var kept: [String: Any] = ["names": rule["names"]!, "action": rule["action"]!]
            for key in ["errnoRet", "args"] { if let v = rule[key], !(v is NSNull) { kept[key] = v } }
            syscalls.append(kept)
        }
        out["syscalls"] = syscalls
        return out
    }

    static func kernelAtLeast(_ version: String) -> Bool {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        func parts(_ s: String) -> [Int] { s.split(separator: ".").prefix(2).map { Int($0.prefix(while: \.isNumber)) ?? 0 } }
        return parts(release).lexicographicallyPrecedes(parts(version)) == false
    }

    /// Every capability this kernel has and the test runs with (the sandbox may lack some), by name.
    static let allCaps: [String] = {
        let names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
                     "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
                     "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
                     "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
                     "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
                     "CHECKPOINT_RESTORE"]
        let last = Int((try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 40
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let bounding = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
            .flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        return names.prefix(last + 1).enumerated().filter { bounding & (1 << UInt64($0.offset)) != 0 }.map { "CAP_" + $0.element }
    }()
    static let podmanDefaultCaps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
    static let dockerDefaultCaps = podmanDefaultCaps + ["CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE"]
    static let capSets: [(String, [String])] = [
        ("none", []), ("podman default", podmanDefaultCaps), ("docker default", dockerDefaultCaps),
        ("docker default minus AUDIT_WRITE", dockerDefaultCaps.filter { $0 != "CAP_AUDIT_WRITE" }),
        ("all but SYS_ADMIN", allCaps.filter { $0 != "CAP_SYS_ADMIN" }), ("all", allCaps),
    ]
}

@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct ConformanceSeccompProfileTests {
    /// config-linux.md "Seccomp": the profile is applied as given; busybox runs under the
    /// profile every orchestrator default produces, with and without no_new_privs.
    @Test(arguments: ["podman-containers-common-0.50.1.json", "moby-default.json"])
    func configLinuxSeccompDefaultProfilesOfOrchestrators(_ file: String) throws {
        for (name, caps) in SeccompProfiles.capSets {
            let profile = try SeccompProfiles.resolve(file, bounding: caps)
            for nnp in [true, false] {
                let r = try Harness.shell("echo ok; grep '^Seccomp:' /proc/self/status | tr -d '\\t '") { c in
                    c.edit("process") {
                        $0["noNewPrivileges"] = nnp
                        $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
                    }
                    c.edit("linux") { $0["seccomp"] = profile }
                }
                #expect(r.status == 0 && r.stdout == "ok\nSeccomp:2\n",
                        "\(file), caps \(name), noNewPrivileges \(nnp): status \(r.status), stderr: \(r.stderr)")
            }
        }
    }
}
