import Glibc

/// The pid file orchestrators read: written whole through a temp file and rename, as runc does.
public enum PidFile {
    public static func write(_ path: String, pid: pid_t) throws(RuntimeError) {
        let tmp = path + ".tmp\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .system(step: "--pid-file: create", subject: tmp, errno: errno) }
        let text = "\(pid)"
        let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        let writeErrno = errno
        close(fd)
        if n < 0 { unlink(tmp); throw .system(step: "--pid-file: write", subject: tmp, errno: writeErrno) }
        if rename(tmp, path) < 0 {
            let e = errno
            unlink(tmp)
            throw .system(step: "--pid-file: rename to", subject: path, errno: e)
        }
    }
}
