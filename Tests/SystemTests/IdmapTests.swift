import Foundation
import Testing

/// Idmapped bind mounts (mounts[].uidMappings/gidMappings, idmap, ridmap): real containers
/// reading and writing a host directory whose files are owned by host uid/gid 1000.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct IdmapTests {
    /// The container's user namespace, as a hostUsers: false pod gets it from the kubelet.
    static let podMap: [[String: Any]] = [["containerID": 0, "hostID": 100000, "size": 65536]]

    /// A host directory holding `owned` (uid/gid 1000); `remove()` it (deferred).
    struct HostDir {
        let path = NSTemporaryDirectory() + "crun-swift-idmap-\(UUID().uuidString.prefix(8))"
        init(owner: uid_t = 0) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            #expect(chown(path, owner, owner) == 0)
            FileManager.default.createFile(atPath: path + "/owned", contents: Data("x".utf8))
            #expect(chown(path + "/owned", 1000, 1000) == 0)
        }
        func owner(_ name: String) -> String {
            guard let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + name) else { return "missing" }
            return "\(a[.ownerAccountID] ?? "?"):\(a[.groupOwnerAccountID] ?? "?")"
        }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    static func userNamespace(_ c: inout [String: Any]) {
        c.edit("linux") {
            $0.append("namespaces", [["type": "user"]])
            $0["uidMappings"] = podMap
            $0["gidMappings"] = podMap
        }
    }

    static let script = "stat -c %u:%g /home/owned; echo new > /home/new && stat -c %u:%g /home/new"

    /// The mount containerd 2.x writes for a hostPath volume of a hostUsers: false pod
    /// (internal/cri/opts withMounts): type bind, rbind/rprivate/rw, the pod's mappings and no
    /// idmap option. Files keep their on-disk ids inside, and writes land with them.
    /// A pod's sandbox: a `sleep` in a user namespace of the pod's mappings, created and
    /// started; its id and pid (and its bundle, kept while it lives). The caller deletes it.
    static func startSandbox(_ id: String) throws -> (String, Int, Harness.TempBundle) {
        var sandbox = Harness.baseConfig(args: ["sleep", "1000"])
        userNamespace(&sandbox)
        let bundle = try Harness.TempBundle(config: sandbox)
        let created = try Harness.crun(["create", "--bundle", bundle.path, id])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try Harness.crun(["start", id]).status == 0)
        let state = try JSONSerialization.jsonObject(with: Data(try Harness.crun(["state", id]).stdout.utf8)) as? [String: Any]
        return (id, state?["pid"] as? Int ?? 0, bundle)
    }

    @Test func containerdPodVolume() throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let r = try Harness.shell(Self.script) { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path,
                                 "options": ["rbind", "rprivate", "rw"],
                                 "uidMappings": Self.podMap, "gidMappings": Self.podMap]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "1000:1000\n0:0\n")
        #expect(dir.owner("new") == "0:0")
    }

    /// A pod as containerd 2.x makes it with shareProcessNamespace: the sandbox creates the
    /// user namespace, the app container joins its user, pid, network, ipc and uts namespaces
    /// by path and gets the volume with the pod's mappings. (Without shareProcessNamespace the
    /// app gets a new pid namespace under the joined user namespace: not supported yet, README.)
    @Test func podContainerJoiningTheSandbox() throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let (id, pid, bundle) = try Self.startSandbox("idmap-sbx-\(getpid())")
        defer { _ = try? Harness.crun(["delete", "--force", id]); withExtendedLifetime(bundle) {} }
        let r = try Harness.shell("tr '\\0' ' ' </proc/1/cmdline; echo; " + Self.script) { c in
            c.edit("linux") {
                $0["namespaces"] = [["type": "mount"]] + ["pid", "user", "network", "ipc", "uts"].map { kind in
                    ["type": kind, "path": "/proc/\(pid)/ns/\(kind == "network" ? "net" : kind)"]
                }
                $0["uidMappings"] = Self.podMap
                $0["gidMappings"] = Self.podMap
            }
            c.removeValue(forKey: "hostname")
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path,
                                 "options": ["rbind", "rprivate", "rw"],
                                 "uidMappings": Self.podMap, "gidMappings": Self.podMap]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "sleep 1000 \n1000:1000\n0:0\n")  // pid 1: the sandbox's sleep
        #expect(dir.owner("new") == "0:0")
    }

    /// containerd 2.x's app container of a hostUsers: false pod without shareProcessNamespace:
    /// it joins the sandbox's user, network, ipc and uts namespaces by path and gets a pid and a
    /// mount namespace of its own, which must belong to the sandbox's user namespace (or proc
    /// cannot be mounted). /proc is the app's: its sh is pid 1, with masked and read-only paths.
    @Test func podAppContainerWithItsOwnPidNamespace() throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let (id, pid, bundle) = try Self.startSandbox("idmap-app-\(getpid())")
        defer { _ = try? Harness.crun(["delete", "--force", id]); withExtendedLifetime(bundle) {} }
        let probe = "tr '\\0' ' ' </proc/1/cmdline | cut -d' ' -f1; ls /proc | grep -c '^[0-9]'; grep -c ' /proc/timer_list ' /proc/mounts; "
            + "awk '$2 == \"/proc/sys\" {print substr($4, 1, 2)}' /proc/mounts; readlink /proc/self/ns/user; "
        let r = try Harness.shell(probe + Self.script) { c in
            c.edit("linux") {
                $0["namespaces"] = [["type": "pid"], ["type": "mount"]] + ["user", "network", "ipc", "uts"].map { kind in
                    ["type": kind, "path": "/proc/\(pid)/ns/\(kind == "network" ? "net" : kind)"]
                }
                $0["uidMappings"] = Self.podMap
                $0["gidMappings"] = Self.podMap
                $0["maskedPaths"] = ["/proc/timer_list"]
                $0["readonlyPaths"] = ["/proc/sys"]
            }
            c.removeValue(forKey: "hostname")
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path,
                                 "options": ["rbind", "rprivate", "rw"],
                                 "uidMappings": Self.podMap, "gidMappings": Self.podMap]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 7, "\(r.stdout)")
        guard lines.count == 7 else { return }
        #expect(lines[0] == "sh")
        #expect(Int(lines[1]) ?? 99 <= 4, "\(r.stdout)")  // sh and its pipeline
        #expect(lines[2] == "1")
        #expect(lines[3] == "ro")
        #expect(lines[4] == Harness.nsInode("user", pid: "\(pid)"))
        #expect(lines[5...] == ["1000:1000", "0:0"])
        #expect(dir.owner("new") == "0:0")
    }

    /// The pod app container's createContainer hooks run in its new pid namespace (whose pid 1
    /// is the app's init), not in the runtime's or the sandbox's.
    @Test func podAppContainerHooksRunInItsPidNamespace() throws {
        let out = NSTemporaryDirectory() + "crun-swift-apphook-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(chmod(out, 0o777) == 0)  // the hook is the pod's root: host uid 100000
        var sandbox = Harness.baseConfig(args: ["sleep", "1000"])
        Self.userNamespace(&sandbox)
        let sbx = try Harness.TempBundle(config: sandbox)
        let id = "idmap-apphook-\(getpid())"
        defer { _ = try? Harness.crun(["delete", "--force", id]) }
        #expect(try Harness.crun(["create", "--bundle", sbx.path, id]).status == 0)
        #expect(try Harness.crun(["start", id]).status == 0)
        let state = try JSONSerialization.jsonObject(with: Data(try Harness.crun(["state", id]).stdout.utf8)) as? [String: Any]
        let pid = state?["pid"] as? Int ?? 0
        let r = try Harness.shell("readlink /proc/self/ns/pid") { c in
            c.edit("linux") {
                $0["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "ipc"], ["type": "uts"], ["type": "network"],
                                    ["type": "user", "path": "/proc/\(pid)/ns/user"]]
                $0["uidMappings"] = Self.podMap
                $0["gidMappings"] = Self.podMap
            }
            c["hooks"] = ["createContainer": [["path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/pid > \(out)/ns"]]]]
        }
        #expect(r.status == 0, "\(r.stderr)")
        let hook = (try? String(contentsOfFile: out + "/ns", encoding: .utf8)) ?? ""
        #expect(!r.stdout.isEmpty && hook == r.stdout, "hook \(hook), container \(r.stdout)")
        #expect(hook != Harness.nsInode("pid", pid: "\(pid)") + "\n")
    }

    /// A mapping of its own: host uid/gid 1000 is the container's root on this mount, and what
    /// the container's root writes is owned by 1000 on the host.
    @Test func mountMappingOfItsOwn() throws {
        let dir = try HostDir(owner: 1000)
        defer { dir.remove() }
        let one: [[String: Any]] = [["containerID": 1000, "hostID": 100000, "size": 1]]
        let r = try Harness.shell(Self.script + "; stat -c %u:%g /home") { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path,
                                 "options": ["bind", "idmap"], "uidMappings": one, "gidMappings": one]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "0:0\n0:0\n0:0\n")
        #expect(dir.owner("new") == "1000:1000")
    }

    /// Without an idmap, the same files are unmapped (the overflow id) and not writable.
    @Test func plainBindIsNotMapped() throws {
        let dir = try HostDir(owner: 1000)
        defer { dir.remove() }
        let r = try Harness.shell("stat -c %u:%g /home/owned; touch /home/new 2>/dev/null || echo denied") { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path, "options": ["bind"]]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "65534:65534\ndenied\n")
    }

    /// `idmap` without mappings takes the container's (runtime-spec 1.2); podman's `-v src:dst:idmap`.
    @Test func idmapOptionUsesTheContainerMappings() throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let r = try Harness.shell(Self.script) { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path, "options": ["rbind", "idmap", "ro"]]])
        }
        #expect(r.status != 0)
        #expect(r.stdout.hasPrefix("1000:1000\n"), "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("Read-only file system"), "\(r.stderr)")
        #expect(dir.owner("new") == "missing")
    }

    /// ridmap idmaps the submounts of an rbind as well; idmap only the mount itself.
    @Test(arguments: [("ridmap", "1000:1000"), ("idmap", "65534:65534")])
    func recursiveIdmap(option: String, expected: String) throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let sub = dir.path + "/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        // The suite runs in a private mount namespace (scripts/test); this tmpfs ends with it
        // or when unmounted below.
        #expect(mount("tmpfs", sub, "tmpfs", 0, nil) == 0)
        defer { umount2(sub, Int32(MNT_DETACH)) }
        FileManager.default.createFile(atPath: sub + "/f", contents: nil)
        #expect(chown(sub + "/f", 1000, 1000) == 0)
        let r = try Harness.shell("stat -c %u:%g /home/owned /home/sub/f") { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path, "options": ["rbind", option]]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "1000:1000\n\(expected)\n")
    }

    /// Idmapped mounts need no user namespace in the container: here host uid 1000 is root.
    @Test func withoutAUserNamespace() throws {
        let dir = try HostDir()
        defer { dir.remove() }
        let map: [[String: Any]] = [["containerID": 1000, "hostID": 0, "size": 1]]
        let r = try Harness.shell("stat -c %u:%g /home/owned") { c in
            c.append("mounts", [["destination": "/home", "type": "bind", "source": dir.path,
                                 "options": ["bind"], "uidMappings": map, "gidMappings": map]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "0:0\n")
    }

    /// A filesystem that cannot be idmapped: the mount, its filesystem type and the reason.
    @Test func unsupportedFilesystem() throws {
        let r = try Harness.shell("true") { c in
            Self.userNamespace(&c)
            c.append("mounts", [["destination": "/home", "type": "bind", "source": "/proc/sys", "options": ["rbind", "idmap"]]])
        }
        #expect(r.status == 1)
        #expect(r.stderr == "crun-swift: mounts[5]: idmapped mounts are not supported on the proc filesystem of `/proc/sys` (mount_setattr(MOUNT_ATTR_IDMAP): Invalid argument)\n")
    }

    @Test(arguments: [
        (["destination": "/home", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]] as [String: Any],
         "mounts[5]: idmapped mounts (uidMappings, gidMappings, idmap, ridmap) apply to bind mounts only; type is \"tmpfs\" without bind or rbind"),
        (["destination": "/home", "type": "bind", "source": "/tmp", "uidMappings": podMap] as [String: Any],
         "mounts[5].gidMappings: required with mounts[5].uidMappings"),
        (["destination": "/home", "type": "bind", "source": "/tmp", "uidMappings": [["containerID": 0, "hostID": 1, "size": 0]],
          "gidMappings": podMap] as [String: Any],
         "mounts[5].uidMappings[0].size: must be at least 1"),
        (["destination": "/home", "type": "bind", "source": "/tmp", "uidMappings": podMap,
          "gidMappings": [["containerID": 0, "hostID": 1, "size": 10], ["containerID": 5, "hostID": 100, "size": 10]]] as [String: Any],
         "mounts[5].gidMappings[1]: containerID range 5+10 overlaps mounts[5].gidMappings[0]"),
        (["destination": "/home", "type": "bind", "source": "/tmp", "options": ["idmap=uids=0-1-10;gids=0-1-10"]] as [String: Any],
         "mounts[5].options: \"idmap=uids=0-1-10;gids=0-1-10\": mappings inside the option are not supported; give them in mounts[5].uidMappings and mounts[5].gidMappings"),
    ])
    func invalidIdmapConfigs(mount: [String: Any], message: String) throws {
        let r = try Harness.shell("true") { c in
            Self.userNamespace(&c)
            c.append("mounts", [mount])
        }
        #expect(r.status == 1)
        #expect(r.stderr.contains("crun-swift: \(message)\n"), "\(r.stderr)")
    }

    @Test func idmapWithoutMappingsNeedsAUserNamespace() throws {
        let r = try Harness.shell("true") { c in
            c.append("mounts", [["destination": "/home", "type": "bind", "source": "/tmp", "options": ["rbind", "ridmap"]]])
        }
        #expect(r.status == 1)
        #expect(r.stderr == "crun-swift: mounts[5].options: ridmap without uidMappings and gidMappings uses the container's user namespace, but linux.namespaces has none\n")
    }

    @Test func featuresReportIdmap() throws {
        let r = try Harness.crun(["features"])
        #expect(r.status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        let linux = doc["linux"] as? [String: Any] ?? [:]
        let idmap = (linux["mountExtensions"] as? [String: Any])?["idmap"] as? [String: Any]
        #expect(idmap?["enabled"] as? Bool == true)  // Linux 5.12+: the suite's kernels
        let options = doc["mountOptions"] as? [String] ?? []
        #expect(options.contains("idmap") && options.contains("ridmap"))
    }
}
