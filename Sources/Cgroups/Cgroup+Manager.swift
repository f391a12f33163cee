import Glibc
import LinuxSys
import OCISpec

/// The cgroup v2 driver behind CgroupManager.
extension Cgroup: CgroupManager {
    public var controllerPaths: [String: String] { [:] }

    public var memoryLimitText: String { "memory.max \((read("memory.max") ?? "?").trimmingCharacters(in: "\n"))" }

    public var memoryLimit: Int64? { Int64((read("memory.max") ?? "").trimmingCharacters(in: "\n")) }

    public var memoryUsage: UInt64? { UInt64((read("memory.current") ?? "").trimmingCharacters(in: "\n")) }

    public func update(_ resources: Resources, devices: [CgroupResources.DeviceRule]?, warn: (String) -> Void) throws(CgroupError) {
        let conversion = try CgroupResources.convert(resources)
        for w in conversion.warnings { warn(w) }
        var controllers: [String] = []
        for w in conversion.writes { if let c = w.controller, !controllers.contains(c) { controllers.append(c) } }
        _ = try create(controllers: controllers) { c in conversion.writes.first { $0.controller == c }?.field ?? "linux.resources" }
        try apply(conversion.writes)
        if let devices { try applyDevices(devices) }
    }

    public func placement() throws(CgroupError) -> CgroupPlacement {
        CgroupPlacement(cloneInto: try openDirectory())
    }
}
