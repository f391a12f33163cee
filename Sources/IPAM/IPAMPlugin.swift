import CNI
import JSONCore
import LinuxSys

/// The IPAM half: in-process for `swnet-ipam` (no exec on the hot path), delegated for any
/// other type (e.g. the reference host-local).
package enum IPAMPlugin {
    package static func add(_ conf: NetworkConfig, _ env: CNIEnvironment, sys: Syscalls) throws(CNIError) -> CNIResult {
        guard let ipam = conf.ipam else { throw CNIError(.invalidConfig, "invalid network configuration", "ipam: is required") }
        if ipam.type == IPAMConfig.builtinType {
            let requested = try Requested.addresses(conf.raw, args: try CNIArgs(env.args))
            var r = try Allocator(config: ipam).allocate(containerID: env.containerID, ifname: env.ifname, netns: env.netns, requested: requested)
            r.dns = conf.dns
            return r
        }
        guard let r = try Delegate.result(try Delegate.run(ipam.type, command: "ADD", config: conf.raw, env: env, sys: sys), type: ipam.type) else {
            throw CNIError(.internalError, "\(ipam.type) returned no result")
        }
        return r
    }

    package static func del(_ conf: NetworkConfig, _ env: CNIEnvironment, sys: Syscalls) throws(CNIError) {
        guard let ipam = conf.ipam else { return }
        if ipam.type == IPAMConfig.builtinType {
            try Allocator(config: ipam).release(containerID: env.containerID, ifname: env.ifname)
        } else {
            _ = try Delegate.result(try Delegate.run(ipam.type, command: "DEL", config: conf.raw, env: env, sys: sys), type: ipam.type)
        }
    }

    package static func check(_ conf: NetworkConfig, _ env: CNIEnvironment, expected: [IPAddress], sys: Syscalls) throws(CNIError) {
        guard let ipam = conf.ipam else { return }
        if ipam.type == IPAMConfig.builtinType {
            let held = Set(Allocator(config: ipam).held(containerID: env.containerID, ifname: env.ifname))
            for ip in expected where !held.contains(ip) {
                throw CNIError(.invalidConfig, "IPAM check failed", "\(env.containerID)/\(env.ifname) does not hold \(ip)")
            }
        } else {
            _ = try Delegate.result(try Delegate.run(ipam.type, command: "CHECK", config: conf.raw, env: env, sys: sys), type: ipam.type)
        }
    }

    package static func gc(_ conf: NetworkConfig, _ env: CNIEnvironment, sys: Syscalls) throws(CNIError) -> [IPAddress] {
        guard let ipam = conf.ipam else { return [] }
        if ipam.type == IPAMConfig.builtinType {
            return try Allocator(config: ipam).collect(valid: Set(conf.validAttachments ?? []))
        }
        _ = try? Delegate.run(ipam.type, command: "GC", config: conf.raw, env: env, sys: sys)
        return []
    }

    /// The IPAM plugin binary's own commands (`swnet-ipam` called by another plugin).
    package static func main(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) -> String? {
        guard let ipam = conf.ipam else { throw CNIError(.invalidConfig, "invalid network configuration", "ipam: is required") }
        let allocator = Allocator(config: ipam)
        switch env.command {
        case "ADD":
            let requested = try Requested.addresses(conf.raw, args: try CNIArgs(env.args))
            var r = try allocator.allocate(containerID: env.containerID, ifname: env.ifname, netns: env.netns, requested: requested)
            r.dns = conf.dns
            return r.json(version: conf.cniVersion).serialized()
        case "DEL":
            try allocator.release(containerID: env.containerID, ifname: env.ifname)
        case "CHECK":
            if allocator.held(containerID: env.containerID, ifname: env.ifname).isEmpty {
                throw CNIError(.invalidConfig, "IPAM check failed", "\(env.containerID)/\(env.ifname) holds no address")
            }
        case "GC":
            try allocator.collect(valid: Set(conf.validAttachments ?? []))
        case "STATUS":
            try allocator.store.lock()
            allocator.store.unlock()
        default:
            throw CNIError(.invalidEnvironment, "unknown CNI_COMMAND", env.command)
        }
        return nil
    }
}
