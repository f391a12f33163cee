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

    /// Closes every descriptor from `first` on (a daemon keeps nothing of its starter's).
    @discardableResult
    public static func closeDescriptors(from first: Int32) -> Int32 { ls_close_from(first) }
}
