//! Chooses the default wait backend from the environment, so the whole test suite can be
//! rerun against each backend: `READYLOOP_BACKEND=select cargo test`.
//!
//! Emits `cfg(readyloop_backend = "adaptive" | "poll" | "select" | "epoll")`; `BackendKind::default_kind`
//! reads it. An unknown value stops the build with a message rather than being ignored.

fn main() {
    println!("cargo:rerun-if-env-changed=READYLOOP_BACKEND");
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rustc-check-cfg=cfg(readyloop_backend, values(\"adaptive\", \"poll\", \"select\", \"epoll\"))"
    );
    let backend = std::env::var("READYLOOP_BACKEND").unwrap_or_default();
    let backend = match backend.trim() {
        "" => "adaptive",
        b @ ("adaptive" | "poll" | "select" | "epoll") => b,
        other => panic!(
            "READYLOOP_BACKEND={other:?} is not a readyloop backend: use adaptive, poll, select or epoll"
        ),
    };
    println!("cargo:rustc-cfg=readyloop_backend=\"{backend}\"");
}
