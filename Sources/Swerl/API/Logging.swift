import CSwerl
import Logging

/// Routes the runtime's reports (crash reports, restarts, escalations) to a
/// swift-log Logger.
final class LoggerBox: @unchecked Sendable {
    let logger: Logger
    init(_ logger: Logger) { self.logger = logger }

    static let callback: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int) -> Void = {
        user, level, message, length in
        guard let user, let message else { return }
        let box = Unmanaged<LoggerBox>.fromOpaque(user).takeUnretainedValue()
        let text = String(decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self)
        let swiftLevel: Logger.Level
        switch level {
        case Int32(SWERL_LOG_ERROR): swiftLevel = .error
        case Int32(SWERL_LOG_WARNING): swiftLevel = .warning
        default: swiftLevel = .info
        }
        box.logger.log(level: swiftLevel, "\(text)")
    }
}
