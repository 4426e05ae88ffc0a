//! Link flags of the no_std daemon.
//!
//! - `-nostartfiles`: origin provides `_start`, so the C runtime's start files stay out;
//! - `-static`: nothing to load at start-up (no interpreter, no dynamic section);
//! - no `.eh_frame` (discarded by `discard.ld`, which the default script gets INSERTed
//!   into), no `.eh_frame_hdr`, no build id, no RELRO padding: with `panic = "abort"`
//!   nothing unwinds, and none of these is read at run time.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    for arg in [
        "-nostartfiles",
        "-static",
        "-Wl,--no-eh-frame-hdr",
        "-Wl,--build-id=none",
        "-Wl,-z,norelro",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/discard.ld");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=discard.ld");
}
