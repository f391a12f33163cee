import CLinuxSys
import Glibc

/// Kernel settings and descriptors.
public enum Kernel {
    /// Writes a sysctl of the current namespaces ("net/ipv4/ip_forward").
    /// A value already in place is not written again: writing `forwarding` walks every device
    /// under the kernel's network lock even when nothing changes, which serialized concurrent ADDs.
    public static func sysctl(_ key: String, _ value: String) throws(SysError) {
        let path = "/proc/sys/" + key
        if var current = try? Files.read(path, limit: 4096) {
            while current.last == UInt8(ascii: "\n") { current.removeLast() }
            if current.elementsEqual(value.utf8) { return }
        }
        try Files.overwrite(path, value)
    }

    /// Waits until a kernfs file of "key value" lines (cgroup.events) has the line `key value`,
    /// or `timeoutMilliseconds` pass: true when it does. A read arms the file; the kernel then
    /// signals a change with POLLPRI (polled in 50 ms slices in case a change falls between).
    public static func waitForKeyValue(_ path: String, key: String, value: Int, timeoutMilliseconds: Int) throws(SysError) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SysError("open", path, errno: errno) }
        defer { close(fd) }
        let wanted = "\(key) \(value)"
        let deadline = monotonicSeconds() + Double(timeoutMilliseconds) / 1000
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            guard n >= 0 else { throw SysError("read", path, errno: errno) }
            if String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").contains(Substring(wanted)) { return true }
            let left = deadline - monotonicSeconds()
            if left <= 0 { return false }
            var events = pollfd(fd: fd, events: Int16(POLLPRI), revents: 0)
            _ = Glibc.poll(&events, 1, Int32(min(left * 1000, 50).rounded(.up)))
        }
    }

    /// Closes every descriptor from `first` on (a daemon keeps nothing of its starter's).
    @discardableResult
    public static func closeDescriptors(from first: Int32) -> Int32 { ls_close_from(first) }
}
