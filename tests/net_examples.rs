//! The socket examples run as programs: `http_get` (seed 004's two concurrent requests)
//! and `read_socket` (seed 002 §4's interleaved run). Bounded in time. Under valgrind their
//! durations, and the bounds on them, are ten times longer: valgrind's start-up and its
//! first run through each code path take more than a plain run's margins.

mod common;

use common::run_example;
use std::time::Duration;

/// How much longer the programs' durations are here: 1, or 10 under valgrind.
fn stretch() -> u32 {
    common::sized(1, 10)
}

#[test]
fn http_get_fetches_twice_concurrently() {
    let s = stretch();
    let (out, took) = run_example(
        "http_get",
        s.into(),
        common::scaled(Duration::from_secs(30)),
    );
    let ones = out.matches("HTTP/1.0 200 OK").count();
    assert_eq!(ones, 2, "{out}");
    assert!(out.contains("Response one: HTTP/1.0 200 OK"), "{out}");
    assert!(out.contains("Response two: HTTP/1.0 200 OK"), "{out}");
    assert!(
        out.contains("request #1") && out.contains("request #2"),
        "{out}"
    );
    assert!(out.contains("\"GET / HTTP/1.0\""), "{out}");
    // Each answer takes 0.3 s; made one after the other they would take 0.6 s.
    assert!(took >= Duration::from_millis(300) * s, "{took:?}");
    assert!(took < Duration::from_secs(10) * s, "{took:?}");
    let together: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("both took "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("timing line");
    assert!(
        (0.29 * f64::from(s)..0.55 * f64::from(s)).contains(&together),
        "requests did not overlap: {together} s"
    );
}

#[test]
fn read_socket_interleaves_like_seed_002() {
    let (out, _) = run_example(
        "read_socket",
        stretch().into(),
        common::scaled(Duration::from_secs(30)),
    );
    let lines: Vec<&str> = out.lines().collect();
    let pos = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
    };
    let round = |n: u32| pos(&format!("id background round {n} "));
    let socket_done = pos("done localhost:");
    assert!(lines[socket_done].ends_with("got 32768 B"), "{out}");
    assert!(
        lines[pos("done /dev/urandom")].ends_with("got 32768 B"),
        "{out}"
    );
    assert!(pos("read localhost:") < socket_done);
    // The socket's bytes arrive while the sleeper is between rounds: interleaved.
    assert!(round(1) < socket_done && socket_done < round(5), "{out}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("id background"))
            .count(),
        5
    );
}

#[test]
fn generic_server_answers_on_tcp_and_unix() {
    let (out, _) = run_example(
        "generic_server",
        stretch().into(),
        common::scaled(Duration::from_secs(30)),
    );
    assert!(out.contains(r#"tcp answered: ["HELLO", "WORLD"]"#), "{out}");
    assert!(
        out.contains(r#"unix answered: ["HELLO", "WORLD"]"#),
        "{out}"
    );
    assert_eq!(out.matches("connection from").count(), 2, "{out}");
}

#[test]
fn generic_server_on_a_unix_path_survives_bad_lines() {
    use std::io::{BufRead, Read, Write};
    let path = common::socket_path("generic-server-example");
    let child = std::process::Command::new(common::example_path("generic_server"))
        .arg("unix")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = KillOnDrop(child);
    let deadline = std::time::Instant::now() + common::scaled(Duration::from_secs(20));
    let client = loop {
        match std::os::unix::net::UnixStream::connect(&path) {
            Ok(c) => break c,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("the example never listened on {path:?}: {e}"),
        }
    };
    client
        .set_read_timeout(Some(common::scaled(Duration::from_secs(10))))
        .unwrap();
    let mut answers = std::io::BufReader::new(&client);
    let mut line = String::new();
    (&client).write_all(b"hi\n").unwrap();
    answers.read_line(&mut line).unwrap();
    assert_eq!(line, "HI\n");
    // Idle with a client connected, the server uses no CPU: it sleeps in poll(2).
    let before = cpu_ticks(server.0.id());
    std::thread::sleep(Duration::from_millis(500));
    let idle = cpu_ticks(server.0.id()) - before;
    assert!(idle <= 1, "{idle} ticks of CPU in 0.5 s idle");

    let long = "a".repeat(5000);
    (&client)
        .write_all(format!("{long}\nnot \u{0}utf8: ").as_bytes())
        .unwrap();
    (&client).write_all(b"\xff\nbye").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = String::new();
    answers.read_to_string(&mut back).unwrap();
    drop(server);
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = back.lines().collect();
    assert_eq!(lines.len(), 3, "{back}");
    assert!(lines[0].starts_with("error: the line is longer"), "{back}");
    assert!(
        lines[1].starts_with("error: the line is not valid UTF-8"),
        "{back}"
    );
    assert_eq!(lines[2], "BYE", "the cut last line is answered too");
}

/// A child process killed (and reaped) when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User plus system CPU time of process `pid`, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may hold spaces) start at state (3rd).
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
