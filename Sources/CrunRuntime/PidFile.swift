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
