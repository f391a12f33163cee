import Glibc

/// Whole-file reads and writes, mkdir -p and directory listings; EINTR is retried here only.
public enum Files {
    /// Everything up to EOF (or the first error) from `fd`.
    public static func readAll(fd: Int32) -> [UInt8] {
        (try? readAll(fd: fd, limit: .max, path: "")) ?? []
    }

    static func readAll(fd: Int32, limit: Int, path: String) throws(SysError) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SysError("read", path, errno: errno) }
            if n == 0 { return out }
            out += buf[0..<n]
            if out.count > limit { throw SysError("read", path, errno: EFBIG) }
        }
    }

    /// A whole file (up to `limit` bytes: config files, leases, cached results).
    public static func read(_ path: String, limit: Int = 64 << 20) throws(SysError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SysError("open", path, errno: errno) }
        defer { close(fd) }
        return try readAll(fd: fd, limit: limit, path: path)
    }

    /// All of `bytes` to `fd`. false (errno set) on error.
    @discardableResult
    public static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    @discardableResult
    public static func writeAll(fd: Int32, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { writeAll(fd: fd, UnsafeRawBufferPointer($0)) }
    }

    /// Replaces a small file's contents (created with `mode` when missing).
    public static func write(_ path: String, _ text: String, mode: mode_t = 0o600) throws(SysError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SysError("create", path, errno: errno) }
        let ok = writeAll(fd: fd, text)
        let e = errno
        close(fd)
        if !ok { throw SysError("write", path, errno: e) }
    }

    /// Writes `text` over an existing file (never creates one: a control file of cgroupfs or
    /// procfs that is missing says ENOENT at "open").
    public static func overwrite(_ path: String, _ text: String) throws(SysError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)  // kernfs ignores O_TRUNC; stand-ins in tests need it
        guard fd >= 0 else { throw SysError("open", path, errno: errno) }
        let ok = writeAll(fd: fd, text)
        let e = errno
        close(fd)
        if !ok { throw SysError("write", path, errno: e) }
    }

    /// mkdir -p (an existing directory is fine).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SysError) {
        var p = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            p += "/" + part
            if mkdir(p, mode) < 0 && errno != EEXIST { throw SysError("create", p, errno: errno) }
        }
    }

    /// The names in a directory (without "." and ".."), only those of d_type `type` when given
    /// (DT_DIR...; a file system that reports DT_UNKNOWN matches none); nil when it cannot be opened.
    public static func entries(_ path: String, type: UInt8? = nil) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." && (type == nil || entry.pointee.d_type == type) { out.append(name) }
        }
        return out
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
