import CShim
import Glibc
import OCISpec

/// `start`: runs the startContainer hooks in the container, releases the init, and returns
/// once it has exec'd the process (or reports why it could not).
public enum ContainerStart {
    public static func start(_ id: String, store: StateStore, warn: (String) -> Void) throws(RuntimeError) {
        let handle = try store.open(id)
        var state = try store.read(id)
        let status = state.liveStatus
        guard status == .created else {
            throw .container("container \"\(id)\" cannot be started: it is \(status.rawValue), not created")
        }
        let spec = try storedConfigWithHooks(handle)
        // startContainer hooks are cloned into the container: from a sealed binary (ExeSeal).
        // The re-executed `start` begins again; the lock above is close-on-exec.
        if let spec, !(spec.hooks?.startContainer ?? []).isEmpty { ExeSeal.ensure(spareDirectory: store.root) }
        let conn = StartSocket.connect(in: handle)
        if conn < 0 { throw .container("container \"\(id)\": cannot reach its init (\(errnoString(errno))); it may have died") }
        defer { close(conn) }
        if let spec {
            do {
                try HookRunner.run(.startContainer, spec: spec, state: state.specJSON(), bundle: state.bundle, containerPid: state.pid)
            } catch {
                // runtime.md: a failed startContainer hook stops the container; `delete`
                // then destroys it and runs the poststop hooks.
                try? ContainerKill.signalContainer(state, signal: SIGKILL, all: false, waitSeconds: 10)
                throw error
            }
        }

        var byte: UInt8 = 1
        if Glibc.send(conn, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 {
            throw .system(step: "release the container init", subject: nil, errno: errno)
        }
        // EOF: the init exec'd (its end was close-on-exec). Anything else is its failure report.
        var report = cs_error()
        var fd: Int32 = -1
        let kind = cs_channel_receive(conn, &report, &fd)
        if kind == Int32(UInt8(ascii: "E")) {
            throw .container(ChildFailure(error: report, plan: ContainerPlan()).message)
        }
        DebugLog.note("start: \(id): pid \(state.pid) released, exec'd")
        state.status = .running
        try store.write(state, in: handle)
        unlink(handle.path + "/start.sock")
        if let spec { runPoststart(state, bundle: state.bundle, spec: spec, warn: warn) }
    }

    /// The poststart hooks once the process has started (a failure is a warning).
    static func runPoststart(_ state: ContainerState, bundle: String, spec: Spec, warn: (String) -> Void) {
        do {
            try HookRunner.run(.poststart, spec: spec, state: state.specJSON(), bundle: bundle)
        } catch {
            warn(error.description)
        }
    }

    /// The stored config, decoded only when it has hooks (the common case skips the parse).
    static func storedConfigWithHooks(_ handle: StateStore.Handle) throws(RuntimeError) -> Spec? {
        let path = handle.path + "/config.json"
        guard let bytes = try? FileSystem.readFile(path) else { return nil }
        let needle = Array("\"hooks\"".utf8)
        guard bytes.count >= needle.count,
              (0...(bytes.count - needle.count)).contains(where: { bytes[$0] == needle[0] && bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        else { return nil }
        return try Bundle.decodeSpec(bytes, name: path)
    }
}
