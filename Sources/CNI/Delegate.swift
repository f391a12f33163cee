import Glibc
import JSONCore
import LinuxSys

/// Runs another CNI plugin (an IPAM such as host-local) found on CNI_PATH with the same
/// environment and the whole network config on stdin, as the spec's delegation requires.
package enum Delegate {
    package struct Output {
        package var status: Int32
        package var stdout: [UInt8]
    }

    static func find(_ type: String, cniPath: String, sys: Syscalls) throws(CNIError) -> String {
        guard !type.contains("/") else { throw CNIError(.invalidConfig, "invalid plugin type", type) }
        for dir in cniPath.split(separator: ":") where !dir.isEmpty {
            let path = "\(dir)/\(type)"
            if sys.isExecutable(path) { return path }
        }
        throw CNIError(.invalidConfig, "failed to find plugin \"\(type)\" in path", "CNI_PATH=\(cniPath)")
    }

    /// `delegated`: swnet hands the plugin part of its own work (IPAM), rather than running
    /// the next plugin of a list.
    package static func run(_ type: String, command: String, config: JSONValue, env: CNIEnvironment, delegated: Bool = true,
                    sys: Syscalls) throws(CNIError) -> Output {
        let path = try find(type, cniPath: env.path, sys: sys)
        var options = Spawn.Options()
        options.stdin = .bytes(Array(config.serialized().utf8))
        options.stdout = .capture
        options.environment = env.variables(command: command, delegated: delegated)
        do {
            let (status, out) = try sys.run(path, [path], options)
            return Output(status: status, stdout: out)
        } catch {
            throw CNIError(.internalError, "cannot run \(path)", errnoText(error.errno))
        }
    }

    /// The delegate's result, or its error JSON turned into a CNIError.
    package static func result(_ output: Output, type: String) throws(CNIError) -> CNIResult? {
        let json = try? JSONParser.parse(output.stdout)
        if output.status != 0 {
            if let json, case .number(let c)? = json["code"], let code = Int(c) {
                let msg = json["msg"]?.stringValue ?? "failed"
                throw CNIError(CNIError.Code(rawValue: code) ?? .internalError, "\(type): \(msg)", json["details"]?.stringValue ?? "")
            }
            throw CNIError(.internalError, "\(type) failed with status \(output.status)", String(decoding: output.stdout, as: UTF8.self))
        }
        guard let json, !output.stdout.isEmpty else { return nil }
        return try CNIResult(json: json)
    }
}
