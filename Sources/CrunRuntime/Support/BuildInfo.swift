import CShim

/// What this binary was built from, for `--version`.
public enum BuildInfo {
    /// The git commit scripts/build-release built (with `-dirty` for uncommitted changes to
    /// the sources), or "unknown" for any other build.
    public static var commit: String { String(cString: cs_build_commit()) }
    /// The libseccomp linked in (runc's --version names it too).
    public static var libseccomp: String { String(cString: cs_seccomp_version()) }
}
