import CShim

/// What this binary was built from, for `--version`.
public enum BuildInfo {
    /// The git commit scripts/build-release built (with `-dirty` for uncommitted changes to
    /// the sources), or "unknown" for any other build.
    public static var commit: String { String(cString: cs_build_commit()) }
}
