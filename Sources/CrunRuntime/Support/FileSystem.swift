import Glibc
import LinuxSys

/// The few filesystem operations the parent needs, with errors that name the path.
public enum FileSystem {
    public static func readFile(_ path: String, step: String = "read") throws(RuntimeError) -> [UInt8] {
        do { return try Files.read(path, limit: .max) } catch { throw .system(step: step, subject: path, errno: error.errno) }
    }

    /// Writes to a file that is there already (/proc, cgroupfs): never creates one.
    static func writeFile(_ path: String, _ text: String, step: String) throws(RuntimeError) {
        do { try Files.overwrite(path, text) } catch { throw .system(step: step, subject: path, errno: error.errno) }
    }

    /// mkdir -p.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o711) throws(RuntimeError) {
        do { try Files.makeDirectories(path, mode: mode) } catch { throw .system(step: "create", subject: error.path, errno: error.errno) }
    }

    /// Replaces a file atomically: a temp file beside it, fsync-free rename over it.
    public static func replaceFile(_ path: String, contents: String, mode: mode_t = 0o644) throws(RuntimeError) {
        do { try Files.replace(path, contents, mode: mode) } catch { throw .system(error) }
    }

    /// Writes a new file (in a directory of our own that was just made): no temp file, as
    /// nobody reads it before it is complete; O_EXCL, and removed again if the write fails.
    public static func createFile(_ path: String, contents: [UInt8], mode: mode_t = 0o644) throws(RuntimeError) {
        do { try Files.create(path, contents, mode: mode) } catch { throw .system(error) }
    }

    public static func createFile(_ path: String, contents: String, mode: mode_t = 0o644) throws(RuntimeError) {
        try createFile(path, contents: Array(contents.utf8), mode: mode)
    }

    /// The canonical absolute path, following symlinks.
    public static func realPath(_ path: String) throws(RuntimeError) -> String {
        guard let p = realpath(path, nil) else { throw .system(step: "resolve", subject: path, errno: errno) }
        defer { free(p) }
        return String(cString: p)
    }

    public static func isDirectory(_ path: String) -> Bool? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "/" }
        defer { free(p) }
        return String(cString: p)
    }

    /// `path` made absolute against `base` and with "." and ".." folded (no symlinks followed).
    public static func absolute(_ path: String, base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    public static func basename(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "container")
    }
}
