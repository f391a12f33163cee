import CShim
import Cgroups
import CrunRuntime
import OCISpec
import Testing

@Suite struct MountOptionsTests {
    @Test func flagsFollowRuncsTable() {
        let o = MountOptions(["nosuid", "nodev", "noexec", "ro", "relatime", "mode=755", "size=64k"])
        #expect(o.flags == CS_MS_NOSUID | CS_MS_NODEV | CS_MS_NOEXEC | CS_MS_RDONLY | CS_MS_RELATIME)
        #expect(o.data == ["mode=755", "size=64k"])
        #expect(!o.isBind)
    }

    @Test func laterOptionsWin() {
        #expect(MountOptions(["ro", "rw"]).flags & CS_MS_RDONLY == 0)
        #expect(MountOptions(["nosuid", "suid"]).flags & CS_MS_NOSUID == 0)
        #expect(MountOptions(["rro", "rrw"]).attrSet == 0)
        #expect(MountOptions(["rro", "rrw"]).attrClear == CS_MOUNT_ATTR_RDONLY)
    }

    @Test func bindAndRemount() {
        let plain = MountOptions(["rbind"])
        #expect(plain.isRecursiveBind)
        #expect(!plain.needsRemount)
        let ro = MountOptions(["bind", "ro", "nosuid"])
        #expect(ro.isBind && !ro.isRecursiveBind)
        #expect(ro.needsRemount)
    }

    @Test(arguments: [
        ("private", CS_MS_PRIVATE), ("rprivate", CS_MS_PRIVATE | CS_MS_REC), ("shared", CS_MS_SHARED),
        ("rshared", CS_MS_SHARED | CS_MS_REC), ("slave", CS_MS_SLAVE), ("rslave", CS_MS_SLAVE | CS_MS_REC),
        ("unbindable", CS_MS_UNBINDABLE), ("runbindable", CS_MS_UNBINDABLE | CS_MS_REC),
    ])
    func propagation(_ name: String, _ flags: UInt) {
        #expect(MountOptions([name]).propagation == [flags])
        #expect(MountOptions([name]).flags == 0)
    }

    @Test func recursiveAttributes() {
        let o = MountOptions(["rro", "rnosuid", "rnodev", "rnoexec", "rnoatime", "rnosymfollow"])
        #expect(o.attrSet == CS_MOUNT_ATTR_RDONLY | CS_MOUNT_ATTR_NOSUID | CS_MOUNT_ATTR_NODEV | CS_MOUNT_ATTR_NOEXEC | CS_MOUNT_ATTR_NOATIME | CS_MOUNT_ATTR_NOSYMFOLLOW)
        #expect(o.attrClear == CS_MOUNT_ATTR__ATIME)
        #expect(MountOptions(["rrelatime"]).attrClear == CS_MOUNT_ATTR__ATIME)
        #expect(MountOptions(["tmpcopyup"]).ignored == ["tmpcopyup"])
    }
}

@Suite struct PlannerTests {
    /// A planner that needs no root, libcap or real paths: /src/file is a file, /src/dir and
    /// /bundle/rootfs are directories.
    let planner = ContainerPlanner(
        capabilityNumber: { ["CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21][$0] },
        lastCapability: 40,
        isDirectory: { ["/src/file": false, "/src/dir": true, "/bundle/rootfs": true, "/bundle/data": true][$0] })

    func plan(_ text: String, options: PlanOptions = PlanOptions()) throws -> ContainerPlan {
        try planner.plan(try Bundle.decodeSpec(Array(text.utf8)), bundle: "/bundle", options: options)
    }

    @Test func namespacesBecomeCloneFlags() throws {
        let p = try plan(config(linux: #""namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}, {"type": "time"}]"#))
        #expect(p.cloneFlags == CS_CLONE_NEWNS | CS_CLONE_NEWPID | CS_CLONE_NEWNET | CS_CLONE_NEWIPC | CS_CLONE_NEWUTS | CS_CLONE_NEWCGROUP)
        #expect(p.timeNamespace)
        #expect(p.unshareFlags == 0)
        #expect(!p.newUserNamespace)
    }

    @Test func pathsAreJoinedUserFirstMountLast() throws {
        let p = try plan(config(linux: #""namespaces": [{"type": "mount", "path": "/m"}, {"type": "network", "path": "/n"}, {"type": "user", "path": "/u"}, {"type": "pid", "path": "/p"}, {"type": "ipc"}]"#))
        #expect(p.joins.map(\.kind) == [.user, .network, .mount])
        #expect(p.joins.map(\.configIndex) == [2, 1, 0])
        #expect(p.pidNamespacePath == "/p")
        // New namespaces must belong to the joined user namespace.
        #expect(p.cloneFlags == 0)
        #expect(p.unshareFlags == CS_CLONE_NEWIPC)
        #expect(p.becomeRoot)
    }

    @Test func userNamespaceMaps() throws {
        let p = try plan(config(linux: #""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}, {"containerID": 1, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]"#))
        #expect(p.newUserNamespace && p.becomeRoot && p.bindDevices)
        #expect(p.uidMap == "0 1000 1\n1 100000 65536\n")
        #expect(p.gidMap == "0 1000 1\n")
    }

    @Test func timeOffsetsUseClockIds() throws {
        let p = try plan(config(linux: #""namespaces": [{"type": "mount"}, {"type": "time"}], "timeOffsets": {"boottime": {"secs": -5}, "monotonic": {"secs": 10, "nanosecs": 7}}"#))
        #expect(p.timeOffsets == "1 10 7\n7 -5 0\n")
    }

    @Test func mountsArePlannedInOrder() throws {
        let p = try plan(config(#", "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/f", "type": "bind", "source": "/src/file", "options": ["ro"]}, {"destination": "/d", "source": "data", "options": ["rbind", "rshared", "rro"]}, {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}, {"destination": "/sys", "type": "sysfs", "source": "sysfs"}]"#))
        #expect(p.mounts.map(\.destination) == ["/proc", "/f", "/d", "/sys/fs/cgroup", "/sys"])
        #expect(p.mounts[0].fstype == "proc" && p.mounts[0].flags == 0)
        #expect(p.mounts[1].destinationIsFile && p.mounts[1].remount && p.mounts[1].fstype == nil)
        #expect(p.mounts[1].flags == CS_MS_BIND | CS_MS_RDONLY)
        // Relative bind sources are relative to the bundle.
        #expect(p.mounts[2].source == "/bundle/data" && !p.mounts[2].destinationIsFile)
        #expect(p.mounts[2].propagation == CS_MS_SHARED | CS_MS_REC && p.mounts[2].attrSet == CS_MOUNT_ATTR_RDONLY)
        #expect(!p.mounts[2].remount)
        #expect(p.mounts[3].fstype == "cgroup2")
        #expect(p.mounts[4].sysfsFallback)
    }

    @Test func cgroupMountOnAV1HostBecomesItsHierarchies() throws {
        var v1 = planner
        v1.cgroupHost = {
            .v1(CgroupV1Mounts(hierarchies: [.init(mountPoint: "/sys/fs/cgroup/memory", root: "/", controllers: ["memory"]),
                                             .init(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", root: "/", controllers: ["cpu", "cpuacct"])]),
                unified: CgroupHierarchy(mount: "/sys/fs/cgroup/unified", hybrid: true))
        }
        let mount = #", "mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]}]"#
        let p = try v1.plan(try Bundle.decodeSpec(Array(config(mount, linux: #""namespaces": [{"type": "mount"}, {"type": "cgroup"}]"#).utf8)), bundle: "/bundle", options: PlanOptions())
        #expect(p.mounts.map(\.destination) == ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified"])
        #expect(p.mounts.map { $0.fstype ?? "" } == ["tmpfs", "cgroup", "cgroup", "cgroup2"])
        #expect(p.mounts[0].flags & CS_MS_RDONLY == 0 && p.mounts[1].flags & CS_MS_RDONLY != 0)  // the tmpfs stays writable for the mount points
        #expect(p.mounts[2].data == "cpu,cpuacct" && p.mounts[3].data == nil)
        // Without a cgroup namespace the hierarchies would show the host's whole tree: cgroup2 as before.
        let shared = try v1.plan(try Bundle.decodeSpec(Array(config(mount).utf8)), bundle: "/bundle", options: PlanOptions())
        #expect(shared.mounts.map { $0.fstype ?? "" } == ["cgroup2"])
    }

    @Test func missingBindSourceIsAConfigError() {
        #expect(throws: RuntimeError.self) {
            try plan(config(#", "mounts": [{"destination": "/x", "type": "bind", "source": "/nope"}]"#))
        }
    }

    @Test func devAndRootSettings() throws {
        var p = try plan(config(linux: #""namespaces": [{"type": "mount"}], "rootfsPropagation": "rshared", "devices": [{"type": "u", "path": "/dev/fuse", "major": 10, "minor": 229}]"#))
        #expect(p.rootfs == "/bundle/rootfs" && p.defaultDevices)
        #expect(p.rootPropagation == CS_MS_SLAVE | CS_MS_REC)
        #expect(p.rootfsPropagation == CS_MS_SHARED | CS_MS_REC)
        #expect(p.devices == [.init(path: "/dev/fuse", type: "c", major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0)])
        p = try plan(config(#", "mounts": [{"destination": "/dev", "type": "bind", "source": "/src/dir"}]"#, linux: #""namespaces": [{"type": "mount"}], "rootfsPropagation": "private""#))
        #expect(!p.defaultDevices)
        #expect(p.rootPropagation == CS_MS_PRIVATE | CS_MS_REC)
    }

    @Test func processSettings() throws {
        let p = try plan(config(linux: #""namespaces": [{"type": "mount"}], "personality": {"domain": "LINUX32"}"#,
            process: #"{"user": {"uid": 7, "gid": 8, "umask": 63, "additionalGids": [9]}, "args": ["ls"], "env": ["PATH=/x:/y", "A=1"], "cwd": "/w", "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "ambient": ["CAP_NET_RAW"]}, "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 20, "soft": 10}, {"type": "RLIMIT_CPU", "hard": 2, "soft": 1}], "noNewPrivileges": true, "oomScoreAdj": 100, "terminal": true, "consoleSize": {"height": 25, "width": 81}}"#))
        #expect(p.uid == 7 && p.gid == 8 && p.additionalGids == [9] && p.umask == 0o77)
        #expect(p.pathForLookup == "/x:/y")
        // CAP_NET_RAW is neither permitted nor inheritable: not raised (runc, crun), with a warning.
        #expect(p.capabilities == .init(bounding: 1 << 5 | 1, effective: 1 << 5, permitted: 0, inheritable: 0, ambient: 0))
        #expect(p.warnings.contains("process.capabilities.ambient: CAP_NET_RAW not raised: an ambient capability must also be inheritable and permitted"))
        #expect(p.rlimits == [.init(resource: 7, soft: 10, hard: 20), .init(resource: 0, soft: 1, hard: 2)])
        #expect(p.noNewPrivileges && p.oomScoreAdj == 100 && p.personality == CS_PER_LINUX32)
        #expect(p.terminal && p.consoleWidth == 81 && p.consoleHeight == 25)
    }

    @Test func unappliedSettingsAreReported() throws {
        let json = config(linux: #""namespaces": [{"type": "mount"}], "resources": {"memory": {"limit": 100}}, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}"#)
        var disabled = PlanOptions()
        disabled.cgroups = .disabled
        #expect(try plan(json, options: disabled).warnings.contains { $0.hasPrefix("linux.resources: not applied") })
        let p = try plan(json)
        #expect(!p.warnings.contains { $0.hasPrefix("linux.resources") })  // the cgroup manager applies them
        #expect(p.seccomp != nil && !p.warnings.contains { $0.hasPrefix("linux.seccomp") })
    }
}
