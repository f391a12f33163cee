import Foundation
import Testing

/// config-linux.md "Namespaces" (issue 14 §3).
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class NamespaceConformanceTests {
    let c = Conformance()

    /// "If a namespace type is not specified in the namespaces array, the container MUST
    /// inherit the runtime namespace of that type." Every type, the mount namespace included;
    /// the host's mount table is the same afterwards.
    @Test func configLinuxNamespacesUnlistedAreInherited() throws {
        let before = Conformance.mountTable()
        var config = Conformance.minimal("1.0.0", args: ["/bin/sh", "-c", "test -x /bin/probe && echo in-rootfs; sleep 1000"])
        config["linux"] = ["namespaces": [] as [Any]]
        let pid = try c.createAndStart("inherit", try c.bundle(config))
        for kind in ["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"] {
            #expect(Harness.nsInode(kind, pid: "\(pid)") == Harness.nsInode(kind), "\(kind) namespace")
        }
        // chroot'ed into root.path, without a mount.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == Harness.rootfs)
        #expect(try c.cs(["delete", "--force", "inherit"]).status == 0)
        #expect(Conformance.mountTable() == before)
    }

    /// The same with `run`, `root.path` "/" (the host's root: no chroot at all) and the
    /// other namespaces new: the process sees the host's files.
    @Test func configLinuxNamespacesInheritedMountNamespaceWithHostRoot() throws {
        let before = Conformance.mountTable()
        var config = Conformance.minimal("1.2.0", args: ["/bin/sh", "-c", "test -d \(Harness.packageRoot) && echo host-root"])
        config["root"] = ["path": "/"]
        config["linux"] = ["namespaces": [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "network"]]]
        let b = try c.bundle(config)
        let r = try Harness.crun(["--root", c.root, "run", "--bundle", b, "hostroot"])
        #expect(r.status == 0 && r.stdout == "host-root\n", "\(r.stderr)")
        #expect(Conformance.mountTable() == before)
    }

    /// Without a mount namespace of its own, each field that would mount on the host is
    /// refused by name, before anything is made; the host's mount table does not change.
    @Test(arguments: [
        ("mounts[0]", { (c: inout [String: Any]) in c["mounts"] = [["destination": "/proc", "type": "proc", "source": "proc"]] }),
        ("root.readonly", { (c: inout [String: Any]) in c.edit("root") { $0["readonly"] = true } }),
        ("linux.maskedPaths", { (c: inout [String: Any]) in c.edit("linux") { $0["maskedPaths"] = ["/proc/kcore"] } }),
        ("linux.readonlyPaths", { (c: inout [String: Any]) in c.edit("linux") { $0["readonlyPaths"] = ["/proc/sys"] } }),
        ("linux.rootfsPropagation", { (c: inout [String: Any]) in c.edit("linux") { $0["rootfsPropagation"] = "rprivate" } }),
        ("linux.devices", { (c: inout [String: Any]) in c.edit("linux") { $0["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229]] } }),
    ] as [(String, @Sendable (inout [String: Any]) -> Void)])
    func configLinuxNamespacesWithoutMountNamespaceNothingIsMountedOnTheHost(_ field: String, _ change: @Sendable (inout [String: Any]) -> Void) throws {
        let before = Conformance.mountTable()
        var config = Conformance.minimal("1.1.0", args: ["/bin/true"])
        config["linux"] = ["namespaces": [["type": "pid"]]]
        change(&config)
        let b = try c.bundle(config)
        for args in [["create", "--bundle", b, "refused"], ["run", "--bundle", b, "refused"]] {
            let r = try c.cs(args)
            #expect(r.status != 0)
            #expect(r.stderr.contains(field + ": "), "\(r.stderr)")
            #expect(r.stderr.contains("mount namespace") || r.stderr.contains("MNT namespace"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: c.root + "/refused"))
        }
        #expect(Conformance.mountTable() == before)
    }

    /// runc's message for masked/readonly paths, which clients may match.
    @Test func configLinuxNamespacesMaskedPathsWithoutMountNamespaceUsesRuncsMessage() throws {
        var config = Conformance.minimal("1.0.2", args: ["/bin/true"])
        config["linux"] = ["namespaces": [] as [Any], "maskedPaths": ["/proc/kcore"]]
        let r = try c.cs(["run", "--bundle", try c.bundle(config), "masked"])
        #expect(r.status != 0 && r.stderr.contains("unable to restrict sys entries without a private MNT namespace"))
    }
}
