import Glibc
import JSONCore

/// Runs another CNI plugin (an IPAM such as host-local) found on CNI_PATH with the same
/// environment and the whole network config on stdin, as the spec's delegation requires.
enum Delegate {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
    }

    static func find(_ type: String, cniPath: String) throws(CNIError) -> String {
        guard !type.contains("/") else { throw CNIError(.invalidConfig, "invalid plugin type", type) }
        for dir in cniPath.split(separator: ":") where !dir.isEmpty {
            let path = "\(dir)/\(type)"
            if access(path, X_OK) == 0 { return path }
        }
        throw CNIError(.invalidConfig, "failed to find plugin \"\(type)\" in path", "CNI_PATH=\(cniPath)")
    }

    /// `delegated`: swnet hands the plugin part of its own work (IPAM), rather than running
    /// the next plugin of a list.
    static func run(_ type: String, command: String, config: JSONValue, env: CNIEnvironment, delegated: Bool = true) throws(CNIError) -> Output {
        let path = try find(type, cniPath: env.path)
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0 else { throw CNIError(.ioFailure, "pipe", errnoText(errno)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        for fd in inPipe + outPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var environment = env.variables(command: command, delegated: delegated)
        var cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        defer { for p in cenv + argv { free(p) } }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, path, &actions, nil, &argv, &cenv)
        close(inPipe[0]); close(outPipe[1])
        if r != 0 { close(inPipe[1]); close(outPipe[0]); throw CNIError(.internalError, "cannot run \(path)", errnoText(r)) }
        var text = config.serialized()
        text.withUTF8 { buf in _ = write(inPipe[1], buf.baseAddress, buf.count) }
        close(inPipe[1])
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { read(outPipe[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        close(outPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        environment.removeAll()
        return Output(status: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128, stdout: out)
    }

    /// The delegate's result, or its error JSON turned into a CNIError.
    static func result(_ output: Output, type: String) throws(CNIError) -> CNIResult? {
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
