import Glibc
import LinuxSys
import JSONCore
import OCISpec

/// One container's cgroup, whatever the host's hierarchy: `Cgroup` (cgroup v2, one directory)
/// or `CgroupV1Manager` (one directory per v1 controller, plus the cgroup2 one on a hybrid
/// host). The lifecycle verbs use only this.
public protocol CgroupManager: Sendable {
    /// The directory recorded as the container's cgroup (state.json's cgroupPath): v2, the
    /// cgroup; v1, the freezer's (whose freezer.state says whether it is paused).
    var path: String { get }
    /// v1: controller -> directory (co-mounted controllers share one; "unified" names the
    /// cgroup2 directory of a hybrid host). Empty on v2.
    var controllerPaths: [String: String] { get }
    var exists: Bool { get }
    /// Every process of the container's cgroup(s), once each.
    func processes() -> [pid_t]
    var frozen: Bool { get }
    /// Freezes or thaws, then waits until the kernel says every process is (un)frozen.
    func freeze(_ on: Bool) throws(CgroupError)
    /// Every process, also in child cgroups.
    func signalAll(_ signal: Int32) throws(CgroupError)
    /// Kills what is left, waits until empty, removes every directory.
    func destroy() throws(CgroupError)
    /// OOM kills so far (0 without the memory controller).
    var oomKills: UInt64 { get }
    /// The memory limit file and its value, for messages ("memory.max 1048576").
    var memoryLimitText: String { get }
    /// memory limit in force (nil: unlimited or no memory controller) and usage.
    var memoryLimit: Int64? { get }
    var memoryUsage: UInt64? { get }
    /// runc's stats event data (libcontainer/types.Stats).
    func stats() -> JSONValue
    /// `update`: writes `resources` (what it names; the rest stays); `devices`: the full rule
    /// list when the update names devices.
    func update(_ resources: Resources, devices: [CgroupResources.DeviceRule]?, warn: (String) -> Void) throws(CgroupError)
    /// How a new process joins: a cgroup2 directory to clone it into (-1: none; the caller
    /// closes it) and cgroup.procs files to write its pid to before it runs.
    func placement() throws(CgroupError) -> CgroupPlacement
}

extension CgroupManager {
    /// Refuses a cgroup that holds processes already (another container's?).
    public func requireVacant() throws(CgroupError) {
        if exists, !processes().isEmpty {
            throw .container("linux.cgroupsPath: the cgroup \(path) already has processes (another container's?)")
        }
    }
}

public struct CgroupPlacement {
    public var cloneInto: Int32 = -1
    public var procsFiles: [String] = []
    public init(cloneInto: Int32 = -1, procsFiles: [String] = []) {
        self.cloneInto = cloneInto
        self.procsFiles = procsFiles
    }
}

/// Which driver this host needs.
public enum CgroupHost: Sendable {
    /// cgroup2 only, or a hybrid host without any v1 controller mounted (the v2 driver).
    case v2(CgroupHierarchy)
    /// v1 controllers; `unified` is the cgroup2 hierarchy of a hybrid host.
    case v1(CgroupV1Mounts, unified: CgroupHierarchy?)

    /// From the mount table: `base` cgroup2 is v2; v1 controllers mounted below `base` make it
    /// v1 (hybrid when base/unified is cgroup2 too).
    public static func detect(base: String = "/sys/fs/cgroup", mountinfo: String = "/proc/self/mountinfo") -> CgroupHost? {
        if CgroupHierarchy.isCgroup2(base) { return .v2(CgroupHierarchy(mount: base, hybrid: false)) }
        let text = (try? Files.read(mountinfo)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let mounts = CgroupV1Mounts(mountinfo: text, base: base)
        let unified = CgroupHierarchy.isCgroup2(base + "/unified") ? CgroupHierarchy(mount: base + "/unified", hybrid: true) : nil
        if !mounts.hierarchies.isEmpty { return .v1(mounts, unified: unified) }
        return unified.map { .v2($0) }
    }

    public var name: String {
        switch self {
        case .v2(let h): return h.hybrid ? "hybrid (cgroup2 at \(h.mount), no v1 controllers)" : "cgroup v2"
        case .v1(_, let u): return u == nil ? "cgroup v1" : "hybrid (v1 controllers, cgroup2 at \(u!.mount))"
        }
    }
}

/// The v1 hierarchies mounted on this host: each a mount point and its controllers.
public struct CgroupV1Mounts: Sendable {
    public struct Hierarchy: Sendable, Equatable {
        public var mountPoint: String
        /// The cgroup the mount shows at its root (mountinfo's root: "/" unless bind-mounted
        /// from inside the tree, as in a container).
        public var root: String
        public var controllers: [String]
        public init(mountPoint: String, root: String, controllers: [String]) {
            self.mountPoint = mountPoint
            self.root = root
            self.controllers = controllers
        }
    }
    public var hierarchies: [Hierarchy]

    /// Parses /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - cgroup SRC SUPEROPTS".
    /// Named hierarchies (name=systemd) hold no controller and are left alone; of mounts stacked
    /// on one point, the last one counts.
    public init(mountinfo: String, base: String) {
        var byPoint: [(String, Hierarchy)] = []
        for line in mountinfo.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard let dash = f.firstIndex(of: "-"), dash >= 5, f.count > dash + 3, f[dash + 1] == "cgroup" else { continue }
            let point = CgroupV1Mounts.unescape(f[4])
            guard point.hasPrefix(base + "/") else { continue }
            let known = CgroupV1Mounts.controllers
            let controllers = f[dash + 3].split(separator: ",").map(String.init).filter { known.contains($0) }
            byPoint.removeAll { $0.0 == point }
            guard !controllers.isEmpty else { continue }
            byPoint.append((point, Hierarchy(mountPoint: point, root: CgroupV1Mounts.unescape(f[3]), controllers: controllers)))
        }
        hierarchies = byPoint.map(\.1)
    }

    public init(hierarchies: [Hierarchy]) { self.hierarchies = hierarchies }

    /// The v1 controllers the kernel may offer (a super option outside this list is a mount
    /// option: rw, relatime, xattr...).
    public static let controllers = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
                                     "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"]

    public func hierarchy(of controller: String) -> Hierarchy? {
        hierarchies.first { $0.controllers.contains(controller) }
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = [UInt8](), bytes = Array(s.utf8), i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The caller's own cgroups (/proc/self/cgroup): "N:cpu,cpuacct:/path" lines, by controller,
/// and the "0::/path" line as "" (cgroup2).
public struct OwnCgroups: Sendable {
    public var byController: [String: String]
    public init(text: String) {
        var map: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            let path = String(f[2])
            if f[1].isEmpty { map[""] = path; continue }
            for c in f[1].split(separator: ",") where !c.hasPrefix("name=") { map[String(c)] = path }
        }
        byController = map
    }
    public static func current(_ file: String = "/proc/self/cgroup") -> OwnCgroups {
        OwnCgroups(text: (try? Files.read(file)).map { String(decoding: $0, as: UTF8.self) } ?? "")
    }
    public func of(_ controller: String) -> String { byController[controller] ?? "/" }
}
