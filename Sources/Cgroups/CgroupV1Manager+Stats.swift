import Glibc
import LinuxSys
import JSONCore

/// runc's stats event data (libcontainer/types.Stats) from the cgroup v1 files (CgroupV1Stats
/// reads them); on a hybrid host where hugetlb is not mounted as v1 but offered by cgroup2
/// (this machine), hugetlb's numbers come from the container's cgroup2 directory.
extension CgroupV1Manager {
    public func stats() -> JSONValue {
        var data = CgroupV1Stats(paths: paths, sys: sys).stats()
        if paths["pids"] == nil, case .object(var members) = data {  // no pids controller: count the processes
            members["pids"] = .object([("current", .number("\(processes().count)")), ("limit", .number("0"))])
            data = .object(members)
        }
        if paths["hugetlb"] == nil, let unified, unified.exists, case .object(var members) = data,
           let huge = unified.stats()["hugetlb"] {
            members["hugetlb"] = huge
            data = .object(members)
        }
        return data
    }
}
