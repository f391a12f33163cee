import CShim
import Glibc

/// Owns the C memory behind one `cs_plan`: strings, arrays and the struct itself live until
/// the arena is released, after cs_spawn returned in the parent.
final class CPlanArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    func string(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        let p = strdup(s)!
        blocks.append(p)
        return UnsafePointer(p)
    }

    func array<T>(_ items: [T]) -> UnsafeMutablePointer<T>? {
        guard !items.isEmpty else { return nil }
        let p = malloc(MemoryLayout<T>.stride * items.count)!.bindMemory(to: T.self, capacity: items.count)
        blocks.append(UnsafeMutableRawPointer(p))
        p.initialize(from: items, count: items.count)
        return p
    }

    /// A NULL-terminated array of C strings.
    func strings(_ items: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let list: [UnsafePointer<CChar>?] = items.map { string($0) } + [nil]
        return UnsafePointer(array(list)!)
    }
}

extension ContainerPlan {
    /// Flattens the plan for the C executor. `channel`/`parentChannel` are the socket pair
    /// ends; `joinFds` are open namespace descriptors in `joins` order.
    /// `treeFds`: the idmapped trees made for `mounts` (IdmappedTrees), by mount index.
    func cPlan(arena: CPlanArena, channel: Int32, parentChannel: Int32, joinFds: [Int32], pidNamespaceFd: Int32,
               capLast: Int, startFd: Int32, stdinFd: Int32, cgroupFd: Int32 = -1, treeFds: [Int: Int32] = [:]) -> cs_plan {
        var p = cs_plan()
        p.channel_fd = channel
        p.parent_channel_fd = parentChannel
        p.wait_for_release = newUserNamespace ? 1 : 0
        p.exec_mode = execMode ? 1 : 0
        p.start_fd = startFd
        p.hook_pause = hookPause ? 1 : 0
        p.stdin_fd = stdinFd
        p.cgroup_fd = cgroupFd
        p.exec_path = arena.string(executablePath)
        p.clone_flags = cloneFlags
        p.unshare_flags = unshareFlags
        p.joins = UnsafePointer(arena.array(zip(joins, joinFds).map { join, fd in
            cs_nsjoin(fd: fd, nstype: Int32(truncatingIfNeeded: ContainerPlanner.cloneFlag(join.kind)))
        }))
        p.njoins = Int32(joins.count)
        p.pidns_fd = pidNamespaceFd
        p.become_root = becomeRoot ? 1 : 0
        p.timens = timeNamespace ? 1 : 0
        p.timens_offsets = arena.string(timeOffsets)
        p.hostname = arena.string(hostname)
        p.domainname = arena.string(domainname)

        p.rootfs = arena.string(rootfs)
        p.root_propagation = rootPropagation
        p.rootfs_propagation = rootfsPropagation
        p.no_pivot = noPivot ? 1 : 0
        p.readonly_root = readonlyRoot ? 1 : 0
        p.mounts = UnsafePointer(arena.array(mounts.enumerated().map { i, m in
            cs_mount(source: arena.string(m.source), destination: arena.string(m.destination),
                     fstype: arena.string(m.fstype), data: arena.string(m.data), flags: m.flags,
                     propagation: m.propagation, attr_set: m.attrSet, attr_clr: m.attrClear,
                     dest_kind: m.destinationIsFile ? Int32(CS_DEST_FILE.rawValue) : Int32(CS_DEST_DIR.rawValue),
                     remount: m.remount ? 1 : 0, sysfs_fallback: m.sysfsFallback ? 1 : 0,
                     tree_fd: treeFds[i] ?? -1)
        }))
        p.nmounts = Int32(mounts.count)
        p.default_devices = defaultDevices ? 1 : 0
        p.bind_devices = bindDevices ? 1 : 0
        p.devices = UnsafePointer(arena.array(devices.map { d in
            cs_device(path: arena.string(d.path), type: Int32(d.type.asciiValue ?? 99), major: d.major,
                      minor: d.minor, mode: d.mode, uid: d.uid, gid: d.gid)
        }))
        p.ndevices = Int32(devices.count)
        p.masked_paths = maskedPaths.isEmpty ? nil : arena.strings(maskedPaths)
        p.nmasked = Int32(maskedPaths.count)
        p.readonly_paths = readonlyPaths.isEmpty ? nil : arena.strings(readonlyPaths)
        p.nreadonly = Int32(readonlyPaths.count)
        p.sysctl_keys = arena.strings(sysctl.map(\.key))
        p.sysctl_values = arena.strings(sysctl.map(\.value))
        p.nsysctl = Int32(sysctl.count)

        p.argv = arena.strings(args)
        p.envp = arena.strings(env)
        p.path_env = arena.string(pathForLookup)
        p.cwd = arena.string(cwd)
        p.uid = uid
        p.gid = gid
        p.groups = UnsafePointer(arena.array(additionalGids))
        p.ngroups = Int32(additionalGids.count)
        p.umask = umask
        if let caps = capabilities {
            p.set_caps = 1
            p.cap_bounding = caps.bounding
            p.cap_effective = caps.effective
            p.cap_permitted = caps.permitted
            p.cap_inheritable = caps.inheritable
            p.cap_ambient = caps.ambient
        }
        p.cap_last = Int32(capLast)
        p.rlimits = UnsafePointer(arena.array(rlimits.map { cs_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }))
        p.nrlimits = Int32(rlimits.count)
        p.no_new_privs = noNewPrivileges ? 1 : 0
        if let adj = oomScoreAdj {
            p.set_oom_score_adj = 1
            p.oom_score_adj = Int32(adj)
        }
        p.personality = personality
        p.terminal = terminal ? 1 : 0
        p.console_width = consoleWidth
        p.console_height = consoleHeight
        p.preserve_fds = Int32(preserveFds)
        if let seccomp {
            p.seccomp_filter = UnsafePointer(arena.array(seccomp.bpf))
            p.seccomp_len = UInt64(seccomp.bpf.count)
            p.seccomp_flags = seccomp.flags
            p.seccomp_early = seccomp.early ? 1 : 0
        }
        p.apparmor_profile = arena.string(apparmorProfile)
        return p
    }
}
