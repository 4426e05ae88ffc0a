//! `examples/per_core` end to end, as a user runs it: two loops on one port serve echo
//! connections (both loops get some), and one SIGTERM stops every loop and the process
//! exits 0 within a bound.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn per_core_example_spreads_connections_and_stops_on_sigterm() {
    let path = common::example_path("per_core");
    let mut child = Command::new(path)
        .args(["--loops", "2", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr: std::net::SocketAddr = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    assert!(first.contains("with 2 loop(s)"), "{first}");
    for i in 0..60 {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(common::scaled(Duration::from_secs(5))))
            .unwrap();
        let msg = format!("hello {i}\n");
        c.write_all(msg.as_bytes()).unwrap();
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = common::wait_bounded(&mut child, common::scaled(Duration::from_secs(10)))
        .expect("per_core did not exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let loop0 = log.matches("loop 0: connection").count();
    let loop1 = log.matches("loop 1: connection").count();
    assert_eq!(loop0 + loop1, 60, "{log}");
    assert!(
        loop0 > 0 && loop1 > 0,
        "one loop got every connection: {log}"
    );
    assert!(log.contains("stopping every loop"), "{log}");
}
