import CNI
import Glibc
import LinuxSys

/// Address leases on disk, in host-local's layout so existing tooling reads them:
/// `<dataDir>/<network>/<ip>` holds "<containerID>\r\n<ifname>" (and, from swnet, a third line
/// with the pod's netns path), `last_reserved_ip.<n>` continues round-robin, and every change
/// happens under flock on `<dataDir>/<network>/lock`, so concurrent ADDs from many processes
/// never hand out one address twice.
public final class LeaseStore {
    public struct Lease: Sendable {
        public var ip: IPAddress
        public var containerID: String
        public var ifname: String
        public var netns: String?
    }

    public let directory: String
    private var lockFd: Int32 = -1

    public init(dataDir: String, network: String) {
        directory = dataDir + "/" + network
    }

    deinit { unlock() }

    /// Takes the network's lock (creating the directory); held until `unlock` or deinit.
    public func lock() throws(CNIError) {
        if lockFd >= 0 { return }
        do { try Files.makeDirectories(directory) } catch {
            throw CNIError(.ioFailure, "cannot create the IPAM data directory", error.description)
        }
        do { lockFd = try Files.openLocked(directory + "/lock") } catch {
            throw CNIError(.ioFailure, error.step == "lock" ? "cannot lock the IPAM data" : "cannot open the IPAM lock", error.description)
        }
    }

    public func unlock() {
        if lockFd >= 0 { close(lockFd); lockFd = -1 }
    }

    static func fileName(_ ip: IPAddress) -> String { ip.description }

    public func leases() -> [Lease] {
        // (by-attachment/ is not an address and is skipped by the parse below.)
        (Files.entries(directory) ?? []).compactMap { name in IPAddress(name).flatMap(read) }
    }

    /// Whether any address is leased (the names only: no lease is read).
    public var holdsAny: Bool { (Files.entries(directory) ?? []).contains { IPAddress($0) != nil } }

    func read(_ ip: IPAddress) -> Lease? {
        let fd = open(directory + "/" + LeaseStore.fileName(ip), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return Lease(ip: ip, containerID: "", ifname: "", netns: nil) }
        let lines = String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        return Lease(ip: ip, containerID: lines[0].trimmingCharacters(), ifname: lines.count > 1 ? lines[1] : "",
                     netns: lines.count > 2 && !lines[2].isEmpty ? lines[2] : nil)
    }

    /// Creates the lease file; false when the address is taken.
    func reserve(_ ip: IPAddress, containerID: String, ifname: String, netns: String) throws(CNIError) -> Bool {
        let path = directory + "/" + LeaseStore.fileName(ip)
        do { try Files.create(path, Array("\(containerID)\r\n\(ifname)\r\n\(netns)".utf8)) } catch {
            if error.step == "create" && error.errno == EEXIST { return false }
            throw CNIError(.ioFailure, "cannot write a lease", error.description)
        }
        return true
    }

    func remove(_ ip: IPAddress) { unlink(directory + "/" + LeaseStore.fileName(ip)) }

    // An index per attachment (`by-attachment/<id>+<ifname>`: its addresses, one per line)
    // makes ADD and DEL independent of how many leases the network holds; the per-address
    // files stay the truth (GC and reconcile read those). A container id never holds `+`, so
    // no two attachments share a file (`<id>_<ifname>` did: a_b/c and a/b_c).
    func indexPath(_ containerID: String, _ ifname: String) -> String {
        directory + "/by-attachment/" + containerID + "+" + ifname
    }

    func indexed(_ containerID: String, _ ifname: String) -> [IPAddress]? {
        guard let bytes = try? Files.read(indexPath(containerID, ifname)) else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { IPAddress(String($0)) }
    }

    func setIndex(_ containerID: String, _ ifname: String, _ ips: [IPAddress]) {
        _ = mkdir(directory + "/by-attachment", 0o700)
        try? Files.write(indexPath(containerID, ifname), ips.map(\.description).joined(separator: "\n"))
    }

    func removeIndex(_ containerID: String, _ ifname: String) { unlink(indexPath(containerID, ifname)) }

    func lastReserved(_ set: Int) -> IPAddress? {
        guard let bytes = try? Files.read(directory + "/last_reserved_ip.\(set)") else { return nil }
        return IPAddress(String(decoding: bytes, as: UTF8.self).trimmingCharacters())
    }

    func setLastReserved(_ ip: IPAddress, _ set: Int) {
        try? Files.write(directory + "/last_reserved_ip.\(set)", ip.description)
    }
}

/// A whole file (config files, cached results), its error as a CNI error.
package func readFile(_ path: String) throws(CNIError) -> [UInt8] {
    do { return try Files.read(path) } catch { throw CNIError(.ioFailure, "cannot read \(path)", errnoText(error.errno)) }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
