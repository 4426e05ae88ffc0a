//! Seed 003's `create_server` with an `EchoProtocol`: a callback-style echo server. For each
//! client the protocol prints `Connection from PEER` (the article's
//! `transport.get_extra_info('peername')`) and writes back every byte it receives; the
//! transport buffers what the kernel cannot take yet and pauses reading above 64 KiB.
//!
//! When ready it prints `listening on IP:PORT` (the real port, so port 0 works); it serves
//! until SIGINT or SIGTERM, then stops accepting and exits 0.
//!
//! Run:   cargo run --example protocol_echo -- [ADDR]     (ADDR defaults to 127.0.0.1:5566)
//! Try:   nc 127.0.0.1 5566      (type Hello: Hello comes back), in two terminals at once

use readyloop::net::{create_server, Protocol, Transport};
use readyloop::signal::{Signal, Signals};
use readyloop::Loop;
use std::process::ExitCode;

/// Seed 003's `EchoProtocol`.
struct EchoProtocol {
    /// Given in `connection_made`.
    transport: Option<Transport>,
}

impl Protocol for EchoProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        println!("Connection from {}", transport.peer_addr());
        self.transport = Some(transport.clone());
    }

    fn data_received(&mut self, data: &[u8]) {
        let Some(transport) = &self.transport else {
            return;
        };
        // Fails only past the buffer's hard limit (1 MiB), which reading being paused at
        // 64 KiB keeps an echo from reaching, or on a broken connection.
        if let Err(e) = transport.write(data) {
            eprintln!("protocol_echo: {}: {e}", transport.peer_addr());
            transport.abort();
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:5566".to_string());
    if addr.starts_with('-') || args.next().is_some() {
        eprintln!("usage: protocol_echo [IP:PORT]   (default 127.0.0.1:5566; port 0 picks one)");
        return ExitCode::from(2);
    }
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(e) => {
            eprintln!("protocol_echo: cannot start the loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let h = lp.handle();
    // Caught before the listening line, so a signal sent right after it is not lost.
    let mut shutdown = match Signals::new(&h, &[Signal::Int, Signal::Term]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("protocol_echo: cannot catch SIGINT/SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match create_server(&h, addr.as_str(), || EchoProtocol { transport: None }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("protocol_echo: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.local_addr());
    let signal = lp.block_on(shutdown.recv());
    server.close();
    match signal {
        Ok(s) => eprintln!(
            "protocol_echo: {}: stopped accepting; {} connection(s) still open; bye",
            s.name(),
            server.connections()
        ),
        Err(e) => eprintln!("protocol_echo: signal wait failed: {e}"),
    }
    ExitCode::SUCCESS
}
