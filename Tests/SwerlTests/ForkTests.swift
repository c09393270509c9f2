// fork() with the library loaded: the thread that forks must not carry its
// parent's thread id into the Swift runtime's locks in the child, where a
// contended lock would then wait for ever (fork_safety.c).

import CSwerlSupport
import Glibc
import Testing

/// Read once, lazily: its first read takes the Swift runtime's once-lock,
/// which caches the reading thread's id.
private let firstReadTakesTheOnceLock = Int(getpid())

@Suite("fork", .timeLimit(.minutes(1)))
struct ForkTests {
    @Test("In a forked child, the forking thread's Swift lock id is not its parent's")
    func forkingThreadLockId() {
        #expect(firstReadTakesTheOnceLock > 0)
        var cached: Int32 = 0
        let caches = swerlrt_swift_tid_caches(&cached)
        // 0 would mean the cache's symbol is gone (a new toolchain or a
        // stripped build): the workaround would silently do nothing.
        #expect(caches > 0, "the Swift runtime's thread-id cache was not found")
        #expect(cached == swerlrt_gettid(), "this thread took a Swift lock, so its id is cached")

        let child = fork()
        if child == 0 {
            var inChild: Int32 = -1
            _ = swerlrt_swift_tid_caches(&inChild)
            _exit(inChild == 0 || inChild == swerlrt_gettid() ? 0 : 1)
        }
        #expect(child > 0)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "the child saw its parent's thread id (status \(status))")
    }
}
