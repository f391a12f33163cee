import JSONCore
import OCISpec
import Seccomp
import Testing

@Suite struct SeccompCompilerTests {
    func profile(_ json: String) throws -> Seccomp {
        try Seccomp(json: try JSONParser.parse(json), path: "linux.seccomp")
    }

    @Test func validProfileHasNoIssues() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"], "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}, {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]}"#)
        #expect(SeccompCompiler.validate(p) == [])
    }

    @Test func everyBadFieldIsNamed() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_NOTIFY", "architectures": ["x86_64"], "flags": ["TSYNC"], "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW", "errnoRet": 3}, {"names": ["kill"], "action": "SCMP_ACT_NOTIFY", "args": [{"index": 6, "value": 0, "op": "EQ"}]}]}"#)
        #expect(SeccompCompiler.validate(p).map(\.description) == [
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
            "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"",
            "linux.seccomp.flags[0]: unknown flag \"TSYNC\" (one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)",
            "linux.seccomp.syscalls[0].names: must not be empty",
            "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errnoRet",
            "linux.seccomp.syscalls[1].args[0].index: must be 0-5, got 6",
            "linux.seccomp.syscalls[1].args[0].op: unknown operator \"EQ\" (one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)",
            "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY rules",
        ])
    }

    @Test func compilesToBPF() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "not_a_syscall"], "action": "SCMP_ACT_ERRNO"}, {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}"#)
        let prog = try SeccompCompiler.compile(p, noNewPrivileges: true)
        #expect(!prog.bpf.isEmpty && prog.bpf.count % 8 == 0)
        #expect(prog.skipped == ["not_a_syscall"])
        #expect(!prog.early && !prog.notify && prog.flags == 0)
        // Without no_new_privs it loads while CAP_SYS_ADMIN is still there.
        #expect(try SeccompCompiler.compile(p, noNewPrivileges: false).early)
    }

    /// podman's profile without CAP_AUDIT_WRITE (issue 14): `socketcall` is a pseudo-syscall on
    /// x86_64 (a negative number) that libseccomp applies to x86; skipping it made libseccomp
    /// fold the two `socket` rules for x86 into one socketcall rule and refuse the second (EEXIST).
    @Test func pseudoSyscallsAreNotSkipped() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["socketcall"], "action": "SCMP_ACT_ALLOW"}, {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]}, {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]}]}"#)
        let prog = try SeccompCompiler.compile(p, noNewPrivileges: true)
        #expect(prog.skipped == [])
        // Without the socketcall rule libseccomp itself refuses the set (runc and crun fail the
        // same way); the error names the rule and says why.
        let conflicting = try profile(#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]}, {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]}]}"#)
        #expect(throws: SeccompError.self) { try SeccompCompiler.compile(conflicting, noNewPrivileges: true) }
        do {
            _ = try SeccompCompiler.compile(conflicting, noNewPrivileges: true)
        } catch {
            #expect(error.description.hasPrefix("linux.seccomp.syscalls[1]: add rule for socket: File exists (the rule conflicts"))
        }
    }

    @Test func notifyAsksForAListener() throws {
        let p = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/l.sock", "listenerMetadata": "m", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#)
        let prog = try SeccompCompiler.compile(p, noNewPrivileges: true)
        #expect(prog.notify && prog.listenerPath == "/run/l.sock" && prog.listenerMetadata == "m")
        #expect(prog.flags & (1 << 3) != 0)  // SECCOMP_FILTER_FLAG_NEW_LISTENER
    }

    @Test func repeatedIndicesBecomeSeparateRules() throws {
        // Two EQ conditions on one argument can only ever match as "either": a filter for both
        // in one rule would match nothing. The OR form is longer than the AND form.
        let or = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}]}]}"#)
        let and = try profile(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}]}]}"#)
        #expect(try SeccompCompiler.compile(or, noNewPrivileges: true).bpf != SeccompCompiler.compile(and, noNewPrivileges: true).bpf)
    }
}
