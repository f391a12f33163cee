import CShim
import Glibc
import JSONCore
import OCISpec

/// `run --network NAME` / `create --network NAME`: a network namespace of the container's own,
/// attached by swnet (its ADD before the process starts, its DEL when the container goes), and
/// the pod's /etc/resolv.conf and /etc/hosts written from the result and bind-mounted in.
/// swnet is run as a program (not linked in): crun-swift stays small.
public struct PodNetwork {
    public struct Request: Sendable {
        public var name: String
        public var confDir = "/etc/cni/net.d"
        public var cniPath = "/opt/cni/bin:/usr/lib/cni"
        public var ifname = "eth0"
        public init(name: String) { self.name = name }

        /// Kept beside the state, so that `delete` can undo the attachment.
        public var json: JSONValue {
            .object([("name", .string(name)), ("confDir", .string(confDir)), ("cniPath", .string(cniPath)), ("ifname", .string(ifname))])
        }

        public init?(json: JSONValue) {
            guard let name = json["name"]?.stringValue else { return nil }
            self.name = name
            confDir = json["confDir"]?.stringValue ?? confDir
            cniPath = json["cniPath"]?.stringValue ?? cniPath
            ifname = json["ifname"]?.stringValue ?? ifname
        }
    }

    /// The attachment recorded for a created container, if it has one.
    public static func recorded(id: String, stateDirectory: String) -> PodNetwork? {
        guard let bytes = try? FileSystem.readFile(stateDirectory + "/network.json"),
              let json = try? JSONParser.parse(bytes), let request = Request(json: json) else { return nil }
        return PodNetwork(request: request, id: id, directory: stateDirectory + "/network")
    }

    public let request: Request
    public let id: String
    /// Where the namespace file, the generated files and swnet's result cache live.
    public let directory: String
    public var netnsPath: String { directory + "/netns" }
    public var resolvConf: String { directory + "/resolv.conf" }
    public var hosts: String { directory + "/hosts" }

    public init(request: Request, id: String, directory: String) {
        self.request = request
        self.id = id
        self.directory = directory
    }

    /// swnet: on the CNI path, or next to crun-swift.
    func swnet() throws(RuntimeError) -> String {
        var dirs = request.cniPath.split(separator: ":").map(String.init)
        // The binary's own path: /proc/self/exe names the sealed view of it (ExeSeal).
        var exe = ExeSeal.binaryPath ?? ""
        if exe.isEmpty {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/exe", &buf, buf.count - 1)
            if n > 0 { exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        if !exe.isEmpty { dirs.append(String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])) }
        for dir in dirs where access(dir + "/swnet", X_OK) == 0 { return dir + "/swnet" }
        throw .usage("--network: swnet not found in \(dirs.joined(separator: ":"))")
    }

    func swnetArgs(_ verb: String, name: String? = nil) throws(RuntimeError) -> [String] {
        [try swnet(), verb, request.name, netnsPath, "--id", id, "--ifname", request.ifname,
         "--conf-dir", request.confDir, "--cache-dir", directory + "/cni", "--cni-path", request.cniPath]
            + (name.map { ["--args", "K8S_POD_NAME=\($0)"] } ?? [])
    }

    /// Creates the namespace, runs swnet ADD, writes resolv.conf and hosts. Undoes itself on failure.
    public func attach(hostname: String?) throws(RuntimeError) {
        if mkdir(directory, 0o700) < 0 && errno != EEXIST {
            throw .system(step: "--network: create", subject: directory, errno: errno)
        }
        let r = cs_netns_create(netnsPath)
        if r < 0 { throw .system(step: "--network: create the network namespace", subject: netnsPath, errno: -r) }
        let run: (status: Int32, stdout: String, stderr: String)
        do {
            // The pod's DNS name: its hostname, else the container id.
            run = try Subprocess.run(try swnetArgs("add", name: hostname ?? id))
        } catch {
            detach()
            throw error
        }
        guard run.status == 0 else {
            detach()
            let message = run.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(run.status)"
            throw .container("--network \(request.name): \(message)")
        }
        guard let result = try? JSONParser.parse(Array(run.stdout.utf8)) else {
            detach()
            throw .container("--network \(request.name): swnet printed no result")
        }
        do {
            try FileSystem.replaceFile(resolvConf, contents: PodNetwork.resolvConf(result["dns"]))
            try FileSystem.replaceFile(hosts, contents: PodNetwork.hosts(result, hostname: hostname))
        } catch {
            detach()
            throw error
        }
        DebugLog.note("network: \(request.name): namespace \(netnsPath) attached by swnet")
    }

    /// swnet DEL and the namespace gone. Best effort: it runs on every way out.
    public func detach() {
        if let args = try? swnetArgs("del") { _ = try? Subprocess.run(args) }
        _ = cs_netns_remove(netnsPath)
        for f in [resolvConf, hosts] { unlink(f) }
        for d in [directory + "/cni/results", directory + "/cni", directory] { rmdir(d) }
        DebugLog.note("network: \(request.name): detached, namespace \(netnsPath) removed")
    }

    /// The container's config joined to the pod's namespace, with the generated files mounted.
    public func apply(to spec: inout Spec) {
        var linux = spec.linux ?? Linux()
        var namespaces = (linux.namespaces ?? []).filter { $0.type != "network" }
        namespaces.append(Namespace(type: "network", path: netnsPath))
        linux.namespaces = namespaces
        spec.linux = linux
        spec.mounts = (spec.mounts ?? []).filter { $0.destination != "/etc/resolv.conf" && $0.destination != "/etc/hosts" }
            + [Mount(destination: "/etc/resolv.conf", type: "bind", source: resolvConf, options: ["rbind", "ro"]),
               Mount(destination: "/etc/hosts", type: "bind", source: hosts, options: ["rbind", "ro"])]
    }

    /// resolv.conf from the result's dns (the host's nameservers when it names none).
    static func resolvConf(_ dns: JSONValue?) -> String {
        var servers = (dns?["nameservers"]?.arrayValue ?? []).compactMap(\.stringValue)
        if servers.isEmpty, let host = try? FileSystem.readFile("/etc/resolv.conf") {
            servers = String(decoding: host, as: UTF8.self).split(separator: "\n")
                .filter { $0.hasPrefix("nameserver ") }.map { String($0.dropFirst(11)) }
        }
        var out = servers.map { "nameserver \($0)\n" }.joined()
        let search = (dns?["search"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !search.isEmpty { out += "search " + search.joined(separator: " ") + "\n" }
        if let d = dns?["domain"]?.stringValue, search.isEmpty { out += "search \(d)\n" }
        let options = (dns?["options"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !options.isEmpty { out += "options " + options.joined(separator: " ") + "\n" }
        return out
    }

    static func hosts(_ result: JSONValue, hostname: String?) -> String {
        var out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        if let hostname {
            for ip in result["ips"]?.arrayValue ?? [] {
                guard let a = ip["address"]?.stringValue, let addr = a.split(separator: "/").first else { continue }
                out += "\(addr)\t\(hostname)\n"
            }
        }
        return out
    }
}
