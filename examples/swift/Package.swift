// swift-tools-version: 6.1
// A Swift program on Swerl: `swift run` in this directory.
import PackageDescription

let package = Package(
    name: "swerl-example",
    dependencies: [
        // The Swerl checkout this example lives in. `name:` keeps the product
        // reference below independent of the checkout's directory name (a
        // path dependency's identity is that name). A project of your own uses
        // .package(url: "https://github.com/swerl/swerl.git", from: "1.0.0")
        // and .product(name: "Swerl", package: "swerl").
        .package(name: "Swerl", path: "../.."),
        // Only for the Logger handed to the runtime (Swerl already depends on it).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "swerl-example",
            dependencies: [
                .product(name: "Swerl", package: "Swerl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
