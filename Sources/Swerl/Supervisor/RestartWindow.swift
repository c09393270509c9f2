// OTP-49's restart intensity: at most `intensity` restarts within any
// `period` (a sliding window, inclusive). Amortized O(1) per restart: old
// entries leave from the front, and the window never holds more than
// intensity + 1 of them.

struct RestartWindow {
    private var times: [UInt64] = []
    private var head = 0
    let intensity: Int
    let periodMillis: UInt64

    init(intensity: UInt32, periodMillis: UInt32) {
        self.intensity = Int(intensity)
        self.periodMillis = UInt64(periodMillis)
    }

    var count: Int { times.count - head }

    /// Records a restart at `nowMillis`; false when that makes more than
    /// `intensity` within the period: the supervisor must give up.
    mutating func add(nowMillis: UInt64) -> Bool {
        while head < times.count && times[head] + periodMillis < nowMillis { head += 1 }
        if head > 64 && head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
        times.append(nowMillis)
        return count <= intensity
    }
}
