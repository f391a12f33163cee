import CShim
import Glibc
import LinuxSys
import OCISpec

/// linux.seccomp -> BPF, through libseccomp, in the parent. The child only loads the bytes.
public enum SeccompCompiler {
    public static let flagValues: [(String, UInt32)] = [
        ("SECCOMP_FILTER_FLAG_TSYNC", CS_SECCOMP_FLAG_TSYNC), ("SECCOMP_FILTER_FLAG_LOG", CS_SECCOMP_FLAG_LOG),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", CS_SECCOMP_FLAG_SPEC_ALLOW),
        ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", CS_SECCOMP_FLAG_WAIT_KILLABLE_RECV),
    ]
    public static let actionNames = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                     "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
    public static let operatorNames = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                                       "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
    public static let archNames = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                                   "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                                   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                                   "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                                   "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"]

    static func action(_ name: String, _ ret: UInt32) -> UInt32? {
        var value: UInt32 = 0
        return cs_seccomp_action(name, ret, &value) == 0 ? value : nil
    }

    /// Every problem in linux.seccomp, with its path.
    public static func validate(_ s: Seccomp) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let base = "linux.seccomp"
        if action(s.defaultAction, 0) == nil {
            issues.append(.init("\(base).defaultAction", "unknown action \"\(s.defaultAction)\" (one of \(actionNames.joined(separator: ", ")))"))
        }
        if s.defaultAction == "SCMP_ACT_NOTIFY" { issues.append(.init("\(base).defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")) }
        for (i, arch) in (s.architectures ?? []).enumerated() where cs_seccomp_arch(arch) == 0 {
            issues.append(.init("\(base).architectures[\(i)]", "unknown architecture \"\(arch)\""))
        }
        for (i, flag) in (s.flags ?? []).enumerated() where !flagValues.contains(where: { $0.0 == flag }) {
            issues.append(.init("\(base).flags[\(i)]", "unknown flag \"\(flag)\" (one of \(flagValues.map(\.0).joined(separator: ", ")))"))
        }
        var notify = false
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            let path = "\(base).syscalls[\(i)]"
            if rule.names.isEmpty { issues.append(.init("\(path).names", "must not be empty")) }
            if action(rule.action, 0) == nil {
                issues.append(.init("\(path).action", "unknown action \"\(rule.action)\" (one of \(actionNames.joined(separator: ", ")))"))
            }
            if rule.action == "SCMP_ACT_NOTIFY" { notify = true }
            if rule.errnoRet != nil, rule.action != "SCMP_ACT_ERRNO", rule.action != "SCMP_ACT_TRACE" {
                issues.append(.init("\(path).errnoRet", "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errnoRet"))
            }
            for (j, arg) in (rule.args ?? []).enumerated() {
                if arg.index > 5 { issues.append(.init("\(path).args[\(j)].index", "must be 0-5, got \(arg.index)")) }
                if cs_seccomp_operator(arg.op) < 0 {
                    issues.append(.init("\(path).args[\(j)].op", "unknown operator \"\(arg.op)\" (one of \(operatorNames.joined(separator: ", ")))"))
                }
            }
        }
        if notify, s.listenerPath?.isEmpty ?? true {
            issues.append(.init("\(base).listenerPath", "required with SCMP_ACT_NOTIFY rules"))
        }
        return issues
    }

    /// Compiles a validated profile. `warn` hears about flags this kernel lacks.
    public static func compile(_ s: Seccomp, noNewPrivileges: Bool, warn: (String) -> Void = { _ in }) throws(SeccompError) -> SeccompProgram {
        let defaultAction = action(s.defaultAction, s.defaultErrnoRet ?? UInt32(EPERM))!
        guard let ctx = cs_seccomp_new(defaultAction) else {
            throw SeccompError("linux.seccomp: libseccomp could not create a filter")
        }
        defer { cs_seccomp_release(ctx) }
        for (i, arch) in (s.architectures ?? []).enumerated() {
            let r = cs_seccomp_add_arch(ctx, cs_seccomp_arch(arch))
            if r < 0 { throw SeccompError("linux.seccomp.architectures[\(i)]: add \(arch): \(errnoText(-r))") }
        }
        var skipped: [String] = []
        var notify = false
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            let act = action(rule.action, rule.errnoRet ?? UInt32(EPERM))!
            // A rule that does what the default does is redundant (and libseccomp refuses it).
            if act == defaultAction { continue }
            if rule.action == "SCMP_ACT_NOTIFY" { notify = true }
            let conditions = (rule.args ?? []).map {
                cs_seccomp_cond(index: $0.index, op: cs_seccomp_operator($0.op), value: $0.value, value_two: $0.valueTwo ?? 0)
            }
            // runc's rule: distinct argument indices are ANDed in one rule; repeated indices
            // make one rule per condition (ORed).
            let indices = conditions.map(\.index)
            let groups: [[cs_seccomp_cond]] = Set(indices).count == indices.count ? [conditions] : conditions.map { [$0] }
            for name in rule.names {
                let nr = cs_seccomp_syscall(name)
                // Only an unknown name is skipped: a pseudo-syscall (socketcall on x86_64) is
                // negative but still applies to the other architectures listed.
                if nr == CS_SECCOMP_UNKNOWN_SYSCALL { skipped.append(name); continue }
                for group in groups {
                    let r = group.withUnsafeBufferPointer { cs_seccomp_add_rule(ctx, act, nr, Int32(group.count), $0.baseAddress) }
                    if r == -EEXIST {
                        // As runc and crun: an error. libseccomp refuses the whole rule (for
                        // every architecture), so skipping it would change the filter.
                        throw SeccompError("linux.seccomp.syscalls[\(i)]: add rule for \(name): \(errnoText(-r)) "
                            + "(the rule conflicts with an earlier one for the same syscall and arguments on one of the architectures)")
                    }
                    if r < 0 { throw SeccompError("linux.seccomp.syscalls[\(i)]: add rule for \(name): \(errnoText(-r))") }
                }
            }
        }
        var flags: UInt32 = 0
        for flag in s.flags ?? [] {
            let value = flagValues.first { $0.0 == flag }!.1
            if cs_seccomp_flag_supported(value) != 0 { flags |= value } else { warn("linux.seccomp.flags: \(flag) is not supported by this kernel; not applied") }
        }
        if notify { flags |= CS_SECCOMP_FLAG_NEW_LISTENER }
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        let r = cs_seccomp_export(ctx, &out, &len)
        if r < 0 { throw SeccompError("linux.seccomp: export the filter: \(errnoText(-r))") }
        defer { free(out) }
        return SeccompProgram(bpf: Array(UnsafeBufferPointer(start: out, count: len)), flags: flags, early: !noNewPrivileges,
                              notify: notify, listenerPath: s.listenerPath, listenerMetadata: s.listenerMetadata, skipped: skipped)
    }

    /// What `features` reports: what this kernel and libseccomp can really do.
    public static func features() -> [(String, [String])] {
        let actions = actionNames.filter { name in
            guard let a = action(name, 0) else { return false }
            return cs_seccomp_action_available(a) != 0
        }
        var buildArchs = [UnsafePointer<CChar>?](repeating: nil, count: 4)
        let n = Int(cs_seccomp_build_archs(&buildArchs, 4))
        let archs = buildArchs.prefix(n).compactMap { $0.map { String(cString: $0) } }
        let supported = flagValues.filter { cs_seccomp_flag_supported($0.1) != 0 }.map(\.0)
        return [("actions", actions), ("operators", operatorNames), ("archs", archs),
                ("knownFlags", flagValues.map(\.0)), ("supportedFlags", supported)]
    }
}
