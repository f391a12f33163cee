/// A compiled filter for the child to load.
public struct SeccompProgram: Sendable {
    public var bpf: [UInt8]
    public var flags: UInt32
    /// Load before dropping privileges (no no_new_privs: loading needs CAP_SYS_ADMIN then).
    public var early: Bool
    public var notify: Bool
    public var listenerPath: String?
    public var listenerMetadata: String?
    /// Syscall names this kernel/libseccomp does not know: skipped, as runc does.
    public var skipped: [String]
}
