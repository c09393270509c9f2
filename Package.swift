// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Swerl",
    products: [
        // The Swift API: `import Swerl`.
        .library(name: "Swerl", targets: ["Swerl"]),
        // The C ABI of include/swerl.h, built as libSwerlC.so; the Makefile
        // builds it with -static-stdlib, the version script and the soname
        // libswerl.so.1 (see docs/DESIGN.md). (It was "swerl": two products
        // whose names differ only in case confuse case-insensitive tools.)
        .library(name: "SwerlC", type: .dynamic, targets: ["SwerlCABI"]),
        // A runtime as a swift-service-lifecycle Service: `import SwerlServiceLifecycle`.
        .library(name: "SwerlServiceLifecycle", targets: ["SwerlServiceLifecycle"]),
        // No product for swerl-bench: SwiftPM makes one, named after the
        // executable target, for the root package only, so `swift run
        // swerl-bench` works here and packages that depend on Swerl see none.
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .systemLibrary(name: "CSwerl", path: "include"),
        .target(name: "CSwerlSupport"),
        .target(
            name: "Swerl",
            dependencies: ["CLibUV", "CSwerl", "CSwerlSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: [.enableExperimentalFeature("Lifetimes")]
        ),
        .target(
            name: "SwerlServiceLifecycle",
            dependencies: ["Swerl", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .target(
            name: "SwerlCABI",
            dependencies: ["Swerl", "CSwerl"]
        ),
        .executableTarget(
            name: "swerl-bench",
            dependencies: ["Swerl", "CSwerl"],
            path: "Benchmarks/SwerlBench"
        ),
        // `make bench-swift`: Runtime.call from Swift tasks beside a plain actor.
        .executableTarget(
            name: "swerl-calls",
            dependencies: ["Swerl"],
            path: "Benchmarks/SwiftCalls"
        ),
        .testTarget(
            name: "SwerlTests",
            dependencies: ["Swerl", "CSwerl", "CSwerlSupport"]
        ),
        .testTarget(
            name: "SwerlServiceLifecycleTests",
            dependencies: [
                "Swerl", "SwerlServiceLifecycle",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
