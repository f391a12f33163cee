import Glibc

/// The pid file orchestrators read: written whole through a temp file and rename, as runc does.
public enum PidFile {
    public static func write(_ path: String, pid: Int32) throws(RuntimeError) {
        do {
            try FileSystem.replaceFile(path, contents: "\(pid)")
        } catch {
            throw .container("--pid-file: \(error.description)")
        }
    }
}

extension PidFile {
    /// The file (or what a cut-short write left of it) still names `pid`: delete removes only that.
    static func names(_ path: String, pid: Int32) -> Bool {
        guard let bytes = try? FileSystem.readFile(path), !bytes.isEmpty else { return false }
        return "\(pid)".utf8.starts(with: bytes)
    }

    /// Removes the pid file and its temp file when they name `pid`.
    static func remove(_ path: String, pid: Int32) {
        for p in [path, path + ".tmp"] where names(p, pid: pid) { unlink(p) }
    }
}
