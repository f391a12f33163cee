/// `--debug`: the steps the runtime takes (bundle, plan, cgroup, spawn, hooks, wait, delete),
/// one line each. The CLI sets `sink`; while it is nil (no --debug) a step costs one load and
/// a branch, and its message is never built.
public enum DebugLog {
    nonisolated(unsafe) public static var sink: ((String) -> Void)?

    @inline(__always)
    static func note(_ message: @autoclosure () -> String) {
        if let sink { sink(message()) }
    }
}
