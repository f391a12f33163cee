import CShim
import CrunRuntime
import Glibc
import OCISpec
import Testing

@Suite struct RootlessTests {
    func env(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test func stateRootFollowsRunc() {
        let xdg = ["XDG_RUNTIME_DIR": "/run/user/1000"]
        #expect(Rootless.defaultStateRoot(environment: env(xdg), euid: 1000, inUserNamespace: { false }) == "/run/user/1000/crun-swift")
        #expect(Rootless.defaultStateRoot(environment: env([:]), euid: 1000, inUserNamespace: { false }) == "/run/crun-swift")
        #expect(Rootless.defaultStateRoot(environment: env(["XDG_RUNTIME_DIR": ""]), euid: 1000, inUserNamespace: { false }) == "/run/crun-swift")
        // Real root ignores $XDG_RUNTIME_DIR (/run/user/0); root in a user namespace honours it
        // unless $USER is root.
        #expect(Rootless.defaultStateRoot(environment: env(xdg), euid: 0, inUserNamespace: { false }) == "/run/crun-swift")
        #expect(Rootless.defaultStateRoot(environment: env(xdg.merging(["USER": "alice"]) { a, _ in a }), euid: 0, inUserNamespace: { true }) == "/run/user/1000/crun-swift")
        #expect(Rootless.defaultStateRoot(environment: env(xdg.merging(["USER": "root"]) { a, _ in a }), euid: 0, inUserNamespace: { true }) == "/run/crun-swift")
    }

    @Test func rootlessFlagAndCgroups() {
        #expect(Rootless.parseFlag("true") == .some(true))
        #expect(Rootless.parseFlag("false") == .some(false))
        #expect(Rootless.parseFlag("auto") == .some(nil))
        #expect(Rootless.parseFlag("yes") == nil)
        #expect(Rootless.cgroups(flag: nil, euid: 1000, inUserNamespace: { false }))
        #expect(Rootless.cgroups(flag: nil, euid: 0, inUserNamespace: { true }))
        #expect(!Rootless.cgroups(flag: nil, euid: 0, inUserNamespace: { false }))
        #expect(!Rootless.cgroups(flag: false, euid: 1000, inUserNamespace: { false }))
        #expect(Rootless.cgroups(flag: true, euid: 0, inUserNamespace: { false }))
    }

    @Test func ownIdMapsAreWrittenDirectlyOthersThroughTheTools() {
        #expect(IdMapWriter.isOwnId("0 1000 1\n", 1000))
        #expect(!IdMapWriter.isOwnId("0 1000 2\n", 1000))
        #expect(!IdMapWriter.isOwnId("0 1001 1\n", 1000))
        #expect(!IdMapWriter.isOwnId("0 1000 1\n1 100000 65536\n", 1000))
        #expect(IdMapWriter.arguments("newuidmap", pid: 42, map: "0 1000 1\n1 100000 65536\n")
            == ["newuidmap", "42", "0", "1000", "1", "1", "100000", "65536"])
    }

    @Test func userNamespaceErrorSaysWhatToConfigure() {
        let settings = ["/proc/sys/kernel/unprivileged_userns_clone": "0", "/proc/sys/user/max_user_namespaces": "0"]
        let m = Rootless.userNamespaceUnavailable(errno: EPERM, euid: 4242, read: { settings[$0] })
        #expect(m.hasPrefix("linux.namespaces: create the user namespace as #4242 (uid 4242): Operation not permitted: "))
        #expect(m.contains("kernel.unprivileged_userns_clone is 0 (set it to 1)"))
        #expect(m.contains("user.max_user_namespaces is 0"))
        #expect(m.contains("/etc/subuid"))
        let full = Rootless.userNamespaceUnavailable(errno: ENOSPC, euid: 4242, read: { _ in nil })
        #expect(full.contains("the user namespace limit (user.max_user_namespaces) is reached"))
    }
}

@Suite struct RootlessPlannerTests {
    let planner = ContainerPlanner(capabilityNumber: { _ in nil }, lastCapability: 40,
                                   isDirectory: { ["/bundle/rootfs": true][$0] })

    func plan(_ linux: String, mounts: String = "[]", root: Bool = false, inUserNamespace: Bool = false) throws -> ContainerPlan {
        var o = PlanOptions()
        o.runtimeIsRoot = root
        o.runtimeInUserNamespace = inUserNamespace
        let text = #"{"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "root": {"path": "rootfs"}, "mounts": \#(mounts), "linux": {\#(linux)}}"#
        return try planner.plan(try Bundle.decodeSpec(Array(text.utf8)), bundle: "/bundle", options: o)
    }

    @Test func notRootNeedsAUserNamespaceWithMaps() throws {
        #expect(throws: RuntimeError.self) { try plan(#""namespaces": [{"type": "mount"}]"#) }
        do {
            _ = try plan(#""namespaces": [{"type": "mount"}, {"type": "user"}]"#)
            Issue.record("a user namespace without maps was accepted")
        } catch {
            #expect("\(error)".contains("linux.uidMappings: required with a new user namespace"))
        }
        let p = try plan(#""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]"#)
        #expect(p.newUserNamespace && p.uidMap == "0 1000 1\n" && p.bindDevices)
    }

    @Test func cgroupMountIsABindWhenTheRuntimeIsNotRoot() throws {
        let mounts = #"[{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]}]"#
        let inPodman = try plan(#""namespaces": [{"type": "mount"}]"#, mounts: mounts, root: true, inUserNamespace: true)
        #expect(inPodman.mounts[0].fstype == nil && inPodman.mounts[0].flags & CS_MS_BIND != 0 && inPodman.mounts[0].remount)
        #expect(inPodman.bindDevices)
        let own = try plan(#""namespaces": [{"type": "mount"}, {"type": "cgroup"}]"#, mounts: mounts, root: true, inUserNamespace: true)
        #expect(own.mounts[0].fstype == nil && own.mounts[0].flags & CS_MS_BIND != 0)
        let host = try plan(#""namespaces": [{"type": "mount"}]"#, mounts: mounts, root: true)
        #expect(host.mounts[0].fstype == "cgroup2" && !host.bindDevices)
    }
}
