import Foundation
import Testing

/// Configs as other tools write them run unchanged (apart from the rootfs and the command):
/// `runc spec` and `crun spec` output generated here, podman's and containerd's shapes,
/// every optional object absent, empty arrays and `null` members, for each ociVersion.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class GeneratorConfigConformanceTests {
    let c = Conformance()

    /// The host's cgroup driver (v2, or v1 on a v1/hybrid host) applies the configs' limits.
    var cgroupArgs: [String] { [] }

    func runs(_ config: [String: Any], _ id: String) throws {
        let r = try Harness.crun(["--root", c.root] + cgroupArgs + ["run", "--bundle", try c.bundle(config), id])
        #expect(r.status == 0 && r.stdout == "ok\n", "\(id): status \(r.status), stdout \(r.stdout), stderr \(r.stderr)")
    }

    static let args = ["sh", "-c", "echo ok"]

    @Test(arguments: ["runc", "crun"])
    func configGeneratedBySpecCommand(_ tool: String) throws {
        try runs(try Conformance.generated(by: tool, args: Self.args), tool)
    }

    @Test func configPodmanShape() throws {
        try runs(try Conformance.podmanStyle(args: Self.args), "podman")
    }

    @Test func configContainerdShape() throws {
        try runs(try Conformance.containerdStyle(args: Self.args), "containerd")
    }

    /// Only the required members: no linux object (every namespace inherited), no mounts.
    @Test(arguments: ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.3.0"])
    func configMinimal(_ version: String) throws {
        try runs(Conformance.minimal(version, args: ["/bin/sh", "-c", "echo ok"]), "min")
    }

    /// Empty arrays and objects, and `null` where a generator leaves a member unset.
    @Test(arguments: ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.3.0"])
    func configEmptyAndNullMembers(_ version: String) throws {
        let raw = """
        {"ociVersion": "\(version)", "hostname": null, "domainname": null, "annotations": {}, "hooks": {"prestart": [], "poststop": null},
         "process": {"terminal": false, "user": {"uid": 0, "gid": 0, "additionalGids": [], "umask": null}, "args": ["sh", "-c", "echo ok"],
           "env": ["PATH=/bin"], "cwd": "/", "capabilities": {"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []},
           "rlimits": [], "noNewPrivileges": true, "apparmorProfile": "", "selinuxLabel": "", "consoleSize": null, "oomScoreAdj": null},
         "root": {"path": "\(Harness.rootfs)", "readonly": false},
         "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": []},
                    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": null}],
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount", "path": ""}], "uidMappings": [], "gidMappings": null, "sysctl": {}, "devices": [],
           "resources": {"devices": [], "memory": null, "cpu": {}, "pids": null, "blockIO": null, "hugepageLimits": [], "network": null},
           "cgroupsPath": "", "maskedPaths": [], "readonlyPaths": [], "mountLabel": "", "rootfsPropagation": null,
           "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": null, "flags": [], "syscalls": []}, "intelRdt": null}}
        """
        let r = try Harness.crun(["--root", c.root] + cgroupArgs + ["run", "--bundle", try c.bundle(raw: raw), "nulls"])
        #expect(r.status == 0 && r.stdout == "ok\n", "\(version): status \(r.status), stderr \(r.stderr)")
    }
}
