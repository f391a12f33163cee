import Glibc
import JSONCore

/// `list`, `ps` and `events`: read-only views of containers.
public enum ContainerQuery {
    public static func list(store: StateStore) -> [ContainerState] {
        store.ids().compactMap { id in
            guard var state = try? store.read(id) else { return nil }
            // runc's OWNER: whoever owns the container's state directory.
            var st = stat()
            if stat(store.directory(id), &st) == 0 { state.owner = Rootless.userName(st.st_uid) }
            return state
        }
    }

    public static func listTable(_ states: [ContainerState]) -> String {
        var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        for s in states {
            let status = s.liveStatus
            rows.append([s.id, status == .stopped ? "0" : "\(s.pid)", status.rawValue, s.bundle, s.created, s.owner.isEmpty ? "root" : s.owner])
        }
        return table(rows)
    }

    public static func listJSON(_ states: [ContainerState]) -> String {
        JSONValue.array(states.map { $0.specJSON() }).serialized() + "\n"
    }

    /// The processes of a container: its init's pid namespace (or the init alone).
    public static func pids(_ id: String, store: StateStore) throws(RuntimeError) -> [Int32] {
        let state = try store.read(id)
        guard state.initAlive else { return [] }
        return ProcStat.processesInPidNamespace(of: state.pid)
    }

    static func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { row in
            row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 4) }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
