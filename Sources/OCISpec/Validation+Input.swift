/// Input that the kernel would silently read as something else: an id of 4294967295 is
/// (uid_t)-1, which setresuid and fchown take as "no change", and a device number past the
/// kernel's dev_t is truncated by mknod. Each is a validation error with its JSON path, never
/// a different value. (A NUL byte, which ends a C string early so that `/decoy\u0000x` is
/// `/decoy` to mkdir, is refused while decoding: see JSONCore's String and Dictionary.)
extension SpecValidator {
    /// The kernel's dev_t: a 12-bit major and a 20-bit minor.
    public static let maxDeviceMajor: Int64 = (1 << 12) - 1
    public static let maxDeviceMinor: Int64 = (1 << 20) - 1
    /// BPF_MAXINSNS: the most instructions one seccomp filter may have.
    public static let maxSeccompRules = 4096


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

    /// Ids and numbers that would be truncated; see the extension's comment. Straight-line
    /// code on purpose: no arrays of tuples or sorts on the way, whose generic metadata the
    /// runtime would instantiate at start-up (peak RSS) for configs that have none of this.
    func inputIssues(_ spec: Spec, _ add: (String, String) -> Void) {
        if let process = spec.process {
            let user = process.user
            if let p = SpecValidator.idProblem(user.uid) { add("process.user.uid", p) }
            if let p = SpecValidator.idProblem(user.gid) { add("process.user.gid", p) }
            if let gids = user.additionalGids {
                for i in gids.indices { if let p = SpecValidator.idProblem(gids[i]) { add("process.user.additionalGids[\(i)]", p) } }
            }
            if let size = process.consoleSize {
                if size.height > UInt32(UInt16.max) { add("process.consoleSize.height", "\(size.height) is above 65535 (a terminal's size is 16-bit)") }
                if size.width > UInt32(UInt16.max) { add("process.consoleSize.width", "\(size.width) is above 65535 (a terminal's size is 16-bit)") }
            }
        }
        // Hook timeouts are checked with the hooks (Validation.validateHooks).
        guard let linux = spec.linux else { return }
        mappingIssues(linux.uidMappings, "uidMappings", add)
        mappingIssues(linux.gidMappings, "gidMappings", add)
        if let devices = linux.devices {
            for i in devices.indices {
                let d = devices[i]
                if let v = d.major, let p = SpecValidator.deviceNumberProblem(v, major: true, wildcard: false) { add("linux.devices[\(i)].major", p) }
                if let v = d.minor, let p = SpecValidator.deviceNumberProblem(v, major: false, wildcard: false) { add("linux.devices[\(i)].minor", p) }
                if let v = d.uid, let p = SpecValidator.idProblem(v) { add("linux.devices[\(i)].uid", p) }
                if let v = d.gid, let p = SpecValidator.idProblem(v) { add("linux.devices[\(i)].gid", p) }
                if let m = d.fileMode, m > 0o7777 { add("linux.devices[\(i)].fileMode", "\(m) has bits beyond the permissions (0 to 0o7777); the type comes from type") }
            }
        }
        if let r = linux.resources { resourceNumberIssues(r, add) }
        if let offsets = linux.timeOffsets {
            for name in ["monotonic", "boottime"] {
                if let n = offsets[name]?.nanosecs, n >= 1_000_000_000 { add("linux.timeOffsets.\(name).nanosecs", "must be below 1000000000") }
            }
        }
        if let s = linux.seccomp { seccompIssues(s, add) }
    }

    func mappingIssues(_ maps: [IDMapping]?, _ name: String, _ add: (String, String) -> Void) {
        guard let maps else { return }
        for i in maps.indices {
            let m = maps[i]
            if m.size == 0 { add("linux.\(name)[\(i)].size", "must be at least 1") }
            // The kernel refuses a range that reaches (u32)-1: that id means "none".
            if UInt64(m.containerID) + UInt64(m.size) > UInt64(UInt32.max) { add("linux.\(name)[\(i)]", "containerID + size must be at most 4294967295") }
            if UInt64(m.hostID) + UInt64(m.size) > UInt64(UInt32.max) { add("linux.\(name)[\(i)]", "hostID + size must be at most 4294967295") }
        }
    }

    func seccompIssues(_ s: Seccomp, _ add: (String, String) -> Void) {
        // SCMP_ACT_ERRNO keeps 16 bits and the kernel caps the errno at 4095.
        if let e = s.defaultErrnoRet, e > 4095 { add("linux.seccomp.defaultErrnoRet", "\(e) is not an errno (0 to 4095)") }
        var rules = 0
        let syscalls = s.syscalls ?? []
        for i in syscalls.indices {
            let sc = syscalls[i]
            if let e = sc.errnoRet, e > 4095 { add("linux.seccomp.syscalls[\(i)].errnoRet", "\(e) is not an errno (0 to 4095)") }
            // Conditions that repeat an argument index make one rule each (runc's rule). More
            // than 6 conditions always repeat one (or name an invalid index, an error anyway).
            let args = sc.args ?? []
            var repeats = args.count > 6
            if !repeats {
                for j in args.indices { for k in args.indices where k > j && args[k].index == args[j].index { repeats = true } }
            }
            rules += sc.names.count * (repeats ? args.count : 1)
        }
        // Every rule takes at least one BPF instruction and a filter holds 4096 (BPF_MAXINSNS):
        // a larger profile cannot load, and libseccomp would take minutes to find that out.
        if rules > SpecValidator.maxSeccompRules {
            add("linux.seccomp.syscalls", "\(rules) rules (names times repeated-index conditions): more than a seccomp filter can hold (\(SpecValidator.maxSeccompRules) instructions)")
        }
    }

    /// linux.resources: device numbers of the device rules and the blockIO devices.
    func resourceNumberIssues(_ r: Resources, _ add: (String, String) -> Void) {
        if let rules = r.devices {
            for i in rules.indices {
                if let v = rules[i].major, let p = SpecValidator.deviceNumberProblem(v, major: true, wildcard: true) { add("linux.resources.devices[\(i)].major", p) }
                if let v = rules[i].minor, let p = SpecValidator.deviceNumberProblem(v, major: false, wildcard: true) { add("linux.resources.devices[\(i)].minor", p) }
            }
        }
        guard let io = r.blockIO else { return }
        if let list = io.weightDevice {
            for i in list.indices { blockDeviceIssues(list[i].major, list[i].minor, "weightDevice[\(i)]", add) }
        }
        throttleIssues(io.throttleReadBpsDevice, "throttleReadBpsDevice", add)
        throttleIssues(io.throttleWriteBpsDevice, "throttleWriteBpsDevice", add)
        throttleIssues(io.throttleReadIOPSDevice, "throttleReadIOPSDevice", add)
        throttleIssues(io.throttleWriteIOPSDevice, "throttleWriteIOPSDevice", add)
    }

    func throttleIssues(_ list: [Resources.ThrottleDevice]?, _ name: String, _ add: (String, String) -> Void) {
        guard let list else { return }
        for i in list.indices { blockDeviceIssues(list[i].major, list[i].minor, "\(name)[\(i)]", add) }
    }

    func blockDeviceIssues(_ major: Int64, _ minor: Int64, _ field: String, _ add: (String, String) -> Void) {
        if let p = SpecValidator.deviceNumberProblem(major, major: true, wildcard: false) { add("linux.resources.blockIO.\(field).major", p) }
        if let p = SpecValidator.deviceNumberProblem(minor, major: false, wildcard: false) { add("linux.resources.blockIO.\(field).minor", p) }
    }
}

extension SpecValidator {
    /// `update --resources`: the same device-number checks as a config's linux.resources,
    /// reported under `path` (a NUL is refused while decoding, as in a config).
    public func validateResources(_ r: Resources, path: String = "linux.resources") -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        resourceNumberIssues(r) { p, m in
            issues.append(.init(path + p.dropFirst("linux.resources".count), m))
        }
        return issues
    }
}
