//! Nothing: this package exists for its tests/ and examples/ (readyloop's tests that need
//! tokio, proptest, serde_json or futures-util; see Cargo.toml). It must never hold code
//! readyloop or its users depend on.
