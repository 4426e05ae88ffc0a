//! trace-view on real recorded traces: an echo server under load for 1 s, a stuck test
//! recorded through READYLOOP_TRACE, and 1,000 tasks (rows aggregated); bad input fails
//! with a message. `.ci/checks/45-trace-view.sh` renders the SVG with rsvg-convert too.

use readyloop::net::{echo, TcpListener, TcpStream};
use readyloop::trace::JsonLines;
use readyloop::Loop;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs trace-view; returns (success, stdout, stderr).
fn view(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trace-view"))
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Renders `trace` and checks the document is whole, bounded in size, and says `expect`.
fn render_checked(trace: &std::path::Path, expect: &str) -> String {
    let svg_path = trace.with_extension("svg");
    let (ok, out, err) = view(&["svg", trace.to_str().unwrap(), svg_path.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(expect), "no {expect:?} in the picture");
    // Readable: a bounded number of shapes whatever the trace's length.
    let shapes = svg.matches("<rect").count() + svg.matches("<line").count();
    assert!(shapes < 20_000, "{shapes} shapes");
    // Well-formed XML, where python3 is there to say so.
    if let Ok(out) = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
        ])
        .arg(&svg_path)
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    svg
}

#[test]
fn echo_server_under_load_for_one_second() {
    let trace = scratch("echo.jsonl");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&trace).unwrap());
        let lp = Loop::builder().trace(JsonLines::new(file)).build().unwrap();
        let h = lp.handle();
        let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        h.spawn_named("acceptor", {
            let h = h.clone();
            async move {
                loop {
                    let (conn, _) = listener.accept().await.unwrap();
                    h.spawn_named("handler", async move {
                        let mut buf = [0u8; 1024];
                        echo(&conn, &mut buf).await
                    });
                }
            }
        });
        let end = Instant::now() + Duration::from_secs(1);
        let clients: Vec<_> = (0..20)
            .map(|_| {
                let h2 = h.clone();
                h.spawn_named("client", async move {
                    let conn = TcpStream::connect(&h2, addr).await.unwrap();
                    let mut rounds = 0u32;
                    while Instant::now() < end {
                        conn.send_all(b"ping ping ping\n").await.unwrap();
                        let mut buf = [0u8; 64];
                        let mut got = 0;
                        while got < 15 {
                            got += conn.recv(&mut buf).await.unwrap();
                        }
                        rounds += 1;
                    }
                    rounds
                })
            })
            .collect();
        let rounds = lp.block_on(async {
            let mut total = 0;
            for c in clients {
                total += c.await.unwrap();
            }
            total
        });
        assert!(rounds > 100, "only {rounds} round trips in 1 s");
    } // the loop and its sink drop here: the file is flushed
    let svg = render_checked(&trace, "handler (×20)");
    assert!(svg.contains("client (×20)"));
    let (ok, story, err) = view(&["story", trace.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        story.contains("loop asks the kernel: poll(["),
        "{}",
        &story[..500.min(story.len())]
    );
    assert!(story.contains("handler is ready to run: fd"));
}

#[test]
fn a_stuck_test_recorded_through_the_environment() {
    let pattern = scratch("{test}.jsonl");
    std::env::set_var("READYLOOP_TRACE", &pattern);
    let (r, _w) = std::io::pipe().unwrap();
    let failed = std::panic::catch_unwind(|| {
        readyloop::__private::run_test(200, "stuck_reader", |h| async move {
            let mut buf = [0u8; 1];
            use std::os::fd::AsFd;
            readyloop::ReadFd::new(&h, r.as_fd(), &mut buf).await
        })
    });
    std::env::remove_var("READYLOOP_TRACE");
    assert!(failed.is_err(), "the test was meant to be stuck");
    let trace = scratch("stuck_reader.jsonl");
    let svg = render_checked(&trace, "block_on");
    assert!(svg.contains("#1f77b4"), "the fd wait shows as a blue band");
    let (ok, story, err) = view(&["story", trace.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(story.contains("main yields \"wake me when fd"), "{story}");
}

#[test]
fn a_thousand_tasks_are_aggregated_into_rows() {
    let trace = scratch("many.jsonl");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&trace).unwrap());
        let lp = Loop::builder().trace(JsonLines::new(file)).build().unwrap();
        let h = lp.handle();
        let tasks: Vec<_> = (0..1000u64)
            .map(|i| {
                let h2 = h.clone();
                let name = if i % 10 == 0 { "ticker" } else { "worker" };
                h.spawn_named(name, async move {
                    for _ in 0..3 {
                        h2.sleep(Duration::from_millis(5 + i % 40)).await;
                    }
                })
            })
            .collect();
        lp.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
    let svg = render_checked(&trace, "worker (×900)");
    assert!(svg.contains("ticker (×100)"));
    let height: f64 = svg
        .split("height=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(height < 400.0, "{height} px tall");
}

#[test]
fn bad_input_is_a_message_not_a_panic() {
    let bad = scratch("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"at_ns\":1,\"event\":\"turn\",\"turn\":1}\nnot json at all\n{}\n",
    )
    .unwrap();
    let (ok, _, err) = view(&["svg", bad.to_str().unwrap(), "/dev/null"]);
    assert!(!ok);
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = view(&["story", "/nonexistent/trace.jsonl"]);
    assert!(!ok && err.contains("cannot read"), "{err}");
    let (ok, _, err) = view(&[]);
    assert!(!ok && err.contains("usage"), "{err}");
}
