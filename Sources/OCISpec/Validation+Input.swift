/// Input that the kernel would silently read as something else: a NUL byte ends a C string
/// early (`/decoy\u0000x` is `/decoy` to mkdir), an id of 4294967295 is (uid_t)-1, which
/// setresuid and fchown take as "no change", and a device number past the kernel's dev_t is
/// truncated by mknod. Each is a validation error with its JSON path, never a different value.
extension SpecValidator {
    /// The kernel's dev_t: a 12-bit major and a 20-bit minor.
    public static let maxDeviceMajor: Int64 = (1 << 12) - 1
    public static let maxDeviceMinor: Int64 = (1 << 20) - 1
    /// BPF_MAXINSNS: the most instructions one seccomp filter may have.
    public static let maxSeccompRules = 4096

    /// A message when `s` holds a NUL byte, which C would take as its end.
    public static func nulProblem(_ s: String) -> String? {
        s.utf8.contains(0) ? "contains a NUL byte (\\u0000), which would cut the string short at the system call" : nil
    }

    /// A message when a device number does not fit the kernel's dev_t. `wildcard`: -1 (and
    /// only -1) means "any", as in linux.resources.devices.
    public static func deviceNumberProblem(_ value: Int64, major: Bool, wildcard: Bool) -> String? {
        if wildcard && value == -1 { return nil }
        let limit = major ? maxDeviceMajor : maxDeviceMinor
        if value >= 0 && value <= limit { return nil }
        let what = major ? "a 12-bit major" : "a 20-bit minor"
        return "\(value) is not a device \(major ? "major" : "minor") (0 to \(limit): the kernel's dev_t has \(what)\(wildcard ? "; -1 or absent means any" : ""))"
    }

    /// A message for an id the kernel reads as "no change" rather than as an id.
    public static func idProblem(_ id: UInt32) -> String? {
        id == UInt32.max ? "4294967295 is (uid_t)-1, which the kernel reads as \"leave unchanged\", not as an id" : nil
    }

    /// NUL bytes, ids and numbers that would be truncated; see the type's comment.
    func inputIssues(_ spec: Spec, _ add: (String, String) -> Void) {
        var strings = StringFields()
        strings.collect(spec)
        for f in strings.fields { if let p = SpecValidator.nulProblem(f.value) { add(f.path, f.isKey ? "the key " + p : p) } }

        if let user = spec.process?.user {
            if let p = SpecValidator.idProblem(user.uid) { add("process.user.uid", p) }
            if let p = SpecValidator.idProblem(user.gid) { add("process.user.gid", p) }
            for (i, g) in (user.additionalGids ?? []).enumerated() {
                if let p = SpecValidator.idProblem(g) { add("process.user.additionalGids[\(i)]", p) }
            }
        }
        if let size = spec.process?.consoleSize {
            if size.height > UInt32(UInt16.max) { add("process.consoleSize.height", "\(size.height) is above 65535 (a terminal's size is 16-bit)") }
            if size.width > UInt32(UInt16.max) { add("process.consoleSize.width", "\(size.width) is above 65535 (a terminal's size is 16-bit)") }
        }
        for (i, h) in allHooks(spec.hooks) {
            if let t = h.timeout, t < 1 { add("\(i).timeout", "must be at least 1 second") }
        }
        let linux = spec.linux
        for (name, maps) in [("uidMappings", linux?.uidMappings), ("gidMappings", linux?.gidMappings)] {
            for (i, m) in (maps ?? []).enumerated() {
                let path = "linux.\(name)[\(i)]"
                if m.size == 0 { add("\(path).size", "must be at least 1") }
                // The kernel refuses a range that reaches (u32)-1: that id means "none".
                if UInt64(m.containerID) + UInt64(m.size) > UInt64(UInt32.max) { add(path, "containerID + size must be at most 4294967295") }
                if UInt64(m.hostID) + UInt64(m.size) > UInt64(UInt32.max) { add(path, "hostID + size must be at most 4294967295") }
            }
        }
        for (i, d) in (linux?.devices ?? []).enumerated() {
            let path = "linux.devices[\(i)]"
            if let v = d.major, let p = SpecValidator.deviceNumberProblem(v, major: true, wildcard: false) { add("\(path).major", p) }
            if let v = d.minor, let p = SpecValidator.deviceNumberProblem(v, major: false, wildcard: false) { add("\(path).minor", p) }
            if let v = d.uid, let p = SpecValidator.idProblem(v) { add("\(path).uid", p) }
            if let v = d.gid, let p = SpecValidator.idProblem(v) { add("\(path).gid", p) }
            if let m = d.fileMode, m > 0o7777 { add("\(path).fileMode", "\(m) has bits beyond the permissions (0 to 0o7777); the type comes from type") }
        }
        if let r = linux?.resources { resourceNumberIssues(r, add) }
        for (key, o) in (linux?.timeOffsets ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let n = o.nanosecs, n >= 1_000_000_000 { add("linux.timeOffsets.\(key).nanosecs", "must be below 1000000000") }
        }
        if let s = linux?.seccomp {
            // SCMP_ACT_ERRNO keeps 16 bits and the kernel caps the errno at 4095.
            if let e = s.defaultErrnoRet, e > 4095 { add("linux.seccomp.defaultErrnoRet", "\(e) is not an errno (0 to 4095)") }
            var rules = 0
            for (i, sc) in (s.syscalls ?? []).enumerated() {
                if let e = sc.errnoRet, e > 4095 { add("linux.seccomp.syscalls[\(i)].errnoRet", "\(e) is not an errno (0 to 4095)") }
                // Conditions on one argument index repeated make one rule each (runc's rule).
                let indices = (sc.args ?? []).map(\.index)
                rules += sc.names.count * (Set(indices).count == indices.count ? 1 : indices.count)
            }
            // Every rule takes at least one BPF instruction, and a filter holds 4096
            // (BPF_MAXINSNS): a larger profile cannot load, and libseccomp would take minutes
            // to find that out.
            if rules > SpecValidator.maxSeccompRules {
                add("linux.seccomp.syscalls", "\(rules) rules (names times repeated-index conditions): more than a seccomp filter can hold (\(SpecValidator.maxSeccompRules) instructions)")
            }
        }
    }

    /// linux.resources: device numbers of the device rules and the blockIO devices.
    func resourceNumberIssues(_ r: Resources, _ add: (String, String) -> Void) {
        for (i, d) in (r.devices ?? []).enumerated() {
            let path = "linux.resources.devices[\(i)]"
            if let v = d.major, let p = SpecValidator.deviceNumberProblem(v, major: true, wildcard: true) { add("\(path).major", p) }
            if let v = d.minor, let p = SpecValidator.deviceNumberProblem(v, major: false, wildcard: true) { add("\(path).minor", p) }
        }
        guard let io = r.blockIO else { return }
        var devices: [(String, Int64, Int64)] = []
        for (i, d) in (io.weightDevice ?? []).enumerated() { devices.append(("weightDevice[\(i)]", d.major, d.minor)) }
        for (name, list) in [("throttleReadBpsDevice", io.throttleReadBpsDevice), ("throttleWriteBpsDevice", io.throttleWriteBpsDevice),
                             ("throttleReadIOPSDevice", io.throttleReadIOPSDevice), ("throttleWriteIOPSDevice", io.throttleWriteIOPSDevice)] {
            for (i, d) in (list ?? []).enumerated() { devices.append(("\(name)[\(i)]", d.major, d.minor)) }
        }
        for (field, major, minor) in devices {
            let path = "linux.resources.blockIO.\(field)"
            if let p = SpecValidator.deviceNumberProblem(major, major: true, wildcard: false) { add("\(path).major", p) }
            if let p = SpecValidator.deviceNumberProblem(minor, major: false, wildcard: false) { add("\(path).minor", p) }
        }
    }

    func allHooks(_ hooks: Hooks?) -> [(String, Hook)] {
        guard let h = hooks else { return [] }
        var out: [(String, Hook)] = []
        for (name, list) in [("prestart", h.prestart), ("createRuntime", h.createRuntime), ("createContainer", h.createContainer),
                             ("startContainer", h.startContainer), ("poststart", h.poststart), ("poststop", h.poststop)] {
            for (i, hook) in (list ?? []).enumerated() { out.append(("hooks.\(name)[\(i)]", hook)) }
        }
        return out
    }
}

/// Every string of a config that reaches a system call or a file the runtime writes, with its
/// JSON path. (Annotations only reach hooks and `state` as JSON, where a NUL is escaped.)
struct StringFields {
    var fields: [(path: String, value: String, isKey: Bool)] = []

    mutating func add(_ path: String, _ s: String?) {
        if let s { fields.append((path, s, false)) }
    }

    mutating func add(_ path: String, _ list: [String]?) {
        for (i, s) in (list ?? []).enumerated() { fields.append(("\(path)[\(i)]", s, false)) }
    }

    /// Keys and values of a map. The key is part of the path, with a NUL written as \u0000 so
    /// that the message itself stays one printable line.
    mutating func add(_ path: String, _ map: [String: String]?) {
        for (k, v) in (map ?? [:]).sorted(by: { $0.key < $1.key }) {
            let member = path + "." + k.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\u0000")
            fields.append((member, k, true))
            fields.append((member, v, false))
        }
    }

    mutating func collect(_ spec: Spec) {
        add("hostname", spec.hostname)
        add("domainname", spec.domainname)
        add("root.path", spec.root?.path)
        for (i, m) in (spec.mounts ?? []).enumerated() {
            add("mounts[\(i)].destination", m.destination)
            add("mounts[\(i)].type", m.type)
            add("mounts[\(i)].source", m.source)
            add("mounts[\(i)].options", m.options)
        }
        for (path, h) in SpecValidator().allHooks(spec.hooks) {
            add("\(path).path", h.path)
            add("\(path).args", h.args)
            add("\(path).env", h.env)
        }
        if let p = spec.process { collect(p) }
        if let l = spec.linux { collect(l) }
    }

    mutating func collect(_ p: Process) {
        add("process.args", p.args)
        add("process.env", p.env)
        add("process.cwd", p.cwd)
        add("process.user.username", p.user.username)
        if let c = p.capabilities {
            add("process.capabilities.bounding", c.bounding)
            add("process.capabilities.effective", c.effective)
            add("process.capabilities.inheritable", c.inheritable)
            add("process.capabilities.permitted", c.permitted)
            add("process.capabilities.ambient", c.ambient)
        }
        for (i, r) in (p.rlimits ?? []).enumerated() { add("process.rlimits[\(i)].type", r.type) }
        add("process.apparmorProfile", p.apparmorProfile)
        add("process.selinuxLabel", p.selinuxLabel)
        add("process.ioPriority.class", p.ioPriority?.class)
        add("process.scheduler.policy", p.scheduler?.policy)
        add("process.scheduler.flags", p.scheduler?.flags)
        add("process.execCPUAffinity.initial", p.execCPUAffinity?.initial)
        add("process.execCPUAffinity.final", p.execCPUAffinity?.final)
    }

    mutating func collect(_ l: Linux) {
        for (i, ns) in (l.namespaces ?? []).enumerated() {
            add("linux.namespaces[\(i)].type", ns.type)
            add("linux.namespaces[\(i)].path", ns.path)
        }
        for (i, d) in (l.devices ?? []).enumerated() {
            add("linux.devices[\(i)].type", d.type)
            add("linux.devices[\(i)].path", d.path)
        }
        add("linux.netDevices", (l.netDevices ?? [:]).mapValues { $0.name ?? "" })
        add("linux.cgroupsPath", l.cgroupsPath)
        add("linux.sysctl", l.sysctl)
        add("linux.rootfsPropagation", l.rootfsPropagation)
        add("linux.maskedPaths", l.maskedPaths)
        add("linux.readonlyPaths", l.readonlyPaths)
        add("linux.mountLabel", l.mountLabel)
        add("linux.personality.domain", l.personality?.domain)
        add("linux.personality.flags", l.personality?.flags)
        add("linux.memoryPolicy.mode", l.memoryPolicy?.mode)
        add("linux.memoryPolicy.nodes", l.memoryPolicy?.nodes)
        add("linux.intelRdt.closID", l.intelRdt?.closID)
        if let r = l.resources { collect(r, path: "linux.resources") }
        if let s = l.seccomp {
            add("linux.seccomp.defaultAction", s.defaultAction)
            add("linux.seccomp.architectures", s.architectures)
            add("linux.seccomp.flags", s.flags)
            add("linux.seccomp.listenerPath", s.listenerPath)
            add("linux.seccomp.listenerMetadata", s.listenerMetadata)
            for (i, sc) in (s.syscalls ?? []).enumerated() {
                add("linux.seccomp.syscalls[\(i)].names", sc.names)
                add("linux.seccomp.syscalls[\(i)].action", sc.action)
                for (j, a) in (sc.args ?? []).enumerated() { add("linux.seccomp.syscalls[\(i)].args[\(j)].op", a.op) }
            }
        }
    }

    /// Also what `update --resources` checks.
    mutating func collect(_ r: Resources, path: String) {
        for (i, d) in (r.devices ?? []).enumerated() {
            add("\(path).devices[\(i)].type", d.type)
            add("\(path).devices[\(i)].access", d.access)
        }
        add("\(path).cpu.cpus", r.cpu?.cpus)
        add("\(path).cpu.mems", r.cpu?.mems)
        for (i, h) in (r.hugepageLimits ?? []).enumerated() { add("\(path).hugepageLimits[\(i)].pageSize", h.pageSize) }
        add("\(path).rdma", (r.rdma ?? [:]).mapValues { _ in "" })
        add("\(path).unified", r.unified)
    }
}

extension SpecValidator {
    /// `update --resources`: the same NUL and device-number checks as a config's
    /// linux.resources, reported under `path`.
    public func validateResources(_ r: Resources, path: String = "linux.resources") -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        var strings = StringFields()
        strings.collect(r, path: path)
        for f in strings.fields { if let m = SpecValidator.nulProblem(f.value) { issues.append(.init(f.path, f.isKey ? "the key " + m : m)) } }
        resourceNumberIssues(r) { p, m in
            issues.append(.init(path + p.dropFirst("linux.resources".count), m))
        }
        return issues
    }
}
