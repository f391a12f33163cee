import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import SwnetBridge
import SwnetDNS

/// `swnet` as a CNI plugin (CNI_COMMAND set; also as `swnet-ipam`, the IPAM plugin) and as a
/// command-line tool (`swnet add|del|check|gc|status CONFIG NETNS`).
public enum SwnetMain {
    public static func main(_ argv: [String], environment: [String: String]) -> Int32 {
        let name = String(argv.first?.split(separator: "/").last ?? "swnet")
        let sys: Syscalls = environment[CrashPoint.variable].map { CrashPoint(at: $0) } ?? LinuxSyscalls()
        // (Started by a plugin, the server inherits CNI_COMMAND: its argument decides.)
        if argv.count == 3 && argv[1] == "dns-server" {
            return DNSServer.main(directory: argv[2])
        }
        if environment["CNI_COMMAND"] != nil || argv.count <= 1 {
            // (No arguments and no CNI_COMMAND: a runtime that lost the variable gets an error
            // object it can parse; the usage goes to stderr.)
            return plugin(ipamOnly: name == IPAMConfig.builtinType, environment: environment, sys: sys)
        }
        return SwnetCLI.main(Array(argv.dropFirst()), environment: environment, sys: sys)
    }

    /// The CNI protocol: config on stdin, result or error JSON on stdout, logs on stderr.
    static func plugin(ipamOnly: Bool, environment: [String: String], sys: Syscalls) -> Int32 {
        let env = CNIEnvironment(environment)
        var version = "1.1.0"
        do {
            if env.command.isEmpty {
                err(SwnetCLI.usage)
                throw CNIError(.invalidEnvironment, "required environment variables missing", "CNI_COMMAND")
            }
            let input = Files.readAll(fd: 0)
            if env.command == "VERSION" {
                let supported = JSONValue.array(NetworkConfig.supportedVersions.map { .string($0) })
                out(JSONValue.object([("cniVersion", .string("1.1.0")), ("supportedVersions", supported)]).serialized())
                return 0
            }
            let json: JSONValue
            do { json = try JSONParser.parse(input) } catch {
                throw CNIError(.decodingFailure, "failed to decode the network configuration", "invalid JSON at \(error)")
            }
            if case .string(let v)? = json["cniVersion"] { version = v }
            let conf = try NetworkConfig(json: json)
            try env.validate()
            if !ipamOnly && environment[CNIEnvironment.delegatedMarker] != nil && env.command != "VERSION" {
                throw CNIError(.invalidConfig, "plugin delegation cycle",
                               "swnet (type \"\(conf.type)\") was started as another plugin's delegate; check ipam.type in network \(conf.name)")
            }
            if let text = try run(conf, env, ipamOnly: ipamOnly, sys: sys) { out(text) }
            return 0
        } catch let error as CNIError {
            out(error.json(version: version))
            err("swnet: \(env.command): \(error.description)")
            return 1
        } catch {
            out(CNIError(.internalError, "\(error)").json(version: version))
            return 1
        }
    }

    /// Runs one command; returns the result text to print, if any.
    static func run(_ conf: NetworkConfig, _ env: CNIEnvironment, ipamOnly: Bool = false, sys: Syscalls) throws(CNIError) -> String? {
        if ipamOnly { return try IPAMPlugin.main(conf, env) }
        let bridge = BridgePlugin(sys: sys)
        switch env.command {
        case "ADD": return try bridge.add(conf, env).json(version: conf.cniVersion).serialized()
        case "DEL": try bridge.del(conf, env)
        case "CHECK": try bridge.check(conf, env)
        case "GC": try bridge.gc(conf, env)
        case "STATUS": try bridge.status(conf, env)
        default: throw CNIError(.invalidEnvironment, "unknown CNI_COMMAND", "\"\(env.command)\" (ADD, DEL, CHECK, GC, STATUS, VERSION)")
        }
        return nil
    }

    static func out(_ s: String) { Files.writeAll(fd: 1, s + "\n") }
    static func err(_ s: String) { Files.writeAll(fd: 2, s + "\n") }
}
