//! Faults injected inside the loop at the socket syscalls (feature `testing`): each kind
//! happens (counted), readyloop's own echo and Protocol servers lose and reorder no byte
//! under each, and the same seed replays the same faults.

use readyloop::net::{
    create_server, echo, Protocol, Shutdown, TcpListener, TcpStream, Transport, UnixStream,
};
use readyloop::testing::{FaultCounts, FaultRates, FaultSeed, Injection};
use readyloop::{Handle, Loop};
use std::time::Duration;

/// Bytes no shift or reorder leaves equal (a 251-cycle, not a power of two).
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

const SIZE: usize = 200_000;

/// Sends `data` through `client` while reading the echo back; the bytes that came back.
async fn round_trip(h: &Handle, client: TcpStream, data: Vec<u8>) -> Vec<u8> {
    let client = std::rc::Rc::new(client);
    let sender = h.spawn({
        let client = client.clone();
        async move {
            for piece in data.chunks(7_001) {
                client.send_all(piece).await.unwrap();
            }
            client.shutdown(Shutdown::Write).unwrap();
        }
    });
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap();
    sender.await.unwrap();
    back
}

/// An echo server (`net::echo` per connection) with `rates` on every socket of the thread;
/// one client round trip; the faults made.
fn echo_under(seed: u64, rates: FaultRates) -> FaultCounts {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        echo(&conn, &mut buf).await.unwrap()
    });
    let faults = Injection::on_every_socket(seed, rates);
    let data = pattern(SIZE);
    let back = lp
        .block_on_timeout(Duration::from_secs(20), {
            let h = h.clone();
            async move {
                let client = TcpStream::connect(&h, addr).await.unwrap();
                round_trip(&h, client, data).await
            }
        })
        .unwrap();
    assert!(
        back == pattern(SIZE),
        "echo lost or reordered bytes under {rates:?} (seed {seed})"
    );
    faults.counts()
}

#[test]
fn echo_survives_spurious_eagain() {
    let seed = FaultSeed::from_env();
    let c = echo_under(seed.derive(1), FaultRates::none().eagain(0.3));
    assert!(c.eagain > 10, "{c:?}");
    assert_eq!(c.total(), c.eagain);
}

#[test]
fn echo_survives_eintr() {
    let seed = FaultSeed::from_env();
    let c = echo_under(seed.derive(2), FaultRates::none().eintr(0.3));
    assert!(c.eintr > 10, "{c:?}");
    assert_eq!(c.total(), c.eintr);
}

#[test]
fn echo_survives_short_reads() {
    let seed = FaultSeed::from_env();
    let c = echo_under(seed.derive(3), FaultRates::none().short_reads(0.7));
    assert!(c.short_reads > 10, "{c:?}");
    assert_eq!(c.total(), c.short_reads);
}

#[test]
fn echo_survives_short_writes() {
    let seed = FaultSeed::from_env();
    let c = echo_under(seed.derive(4), FaultRates::none().short_writes(0.7));
    assert!(c.short_writes > 10, "{c:?}");
    assert_eq!(c.total(), c.short_writes);
}

#[test]
fn echo_survives_every_fault_at_once() {
    let seed = FaultSeed::from_env();
    let c = echo_under(seed.derive(5), FaultRates::all(0.2));
    assert!(
        c.eagain > 0 && c.eintr > 0 && c.short_reads > 0 && c.short_writes > 0,
        "{c:?}"
    );
}

/// seed 003's `EchoProtocol`.
struct EchoProtocol(Option<Transport>);

impl Protocol for EchoProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        self.0 = Some(transport.clone());
    }
    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.0 {
            t.write(data).unwrap();
        }
    }
}

#[test]
fn protocol_server_survives_every_fault() {
    let seed = FaultSeed::from_env();
    for (i, rates) in [
        FaultRates::none().eagain(0.3),
        FaultRates::none().eintr(0.3),
        FaultRates::none().short_reads(0.7),
        FaultRates::none().short_writes(0.7),
        FaultRates::all(0.2),
    ]
    .into_iter()
    .enumerate()
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let server = create_server(&h, "127.0.0.1:0", || EchoProtocol(None)).unwrap();
        let addr = server.local_addr();
        let faults = Injection::on_every_socket(seed.derive(10 + i as u64), rates);
        let data = pattern(SIZE);
        let back = lp
            .block_on_timeout(Duration::from_secs(20), {
                let h = h.clone();
                async move {
                    let client = TcpStream::connect(&h, addr).await.unwrap();
                    round_trip(&h, client, data).await
                }
            })
            .unwrap();
        assert!(
            back == pattern(SIZE),
            "Protocol echo lost or reordered bytes under {rates:?}"
        );
        let c = faults.counts();
        assert!(c.total() > 10, "{rates:?}: {c:?}");
    }
}

/// A fixed exchange over a Unix pair with faults on one end; the injection's log.
fn logged_exchange(seed: u64) -> Vec<(u64, readyloop::testing::Fault)> {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = UnixStream::pair(&h).unwrap();
    let faults = Injection::on(&b, seed, FaultRates::all(0.2));
    lp.block_on(async {
        for round in 0..50u8 {
            a.send_all(&[round; 300]).await.unwrap();
            let mut got = [0u8; 300];
            b.recv_exact(&mut got).await.unwrap();
            assert!(got.iter().all(|&x| x == round));
            b.send_all(&got).await.unwrap();
            a.recv_exact(&mut got).await.unwrap();
        }
    });
    faults.log()
}

#[test]
fn same_seed_replays_the_same_faults() {
    let seed = FaultSeed::from_env();
    let first = logged_exchange(seed.derive(20));
    let again = logged_exchange(seed.derive(20));
    assert!(first.len() > 20, "{}", first.len());
    assert_eq!(first, again);
    let other = logged_exchange(seed.derive(21));
    assert_ne!(first, other);
}

#[test]
fn injection_on_one_socket_leaves_the_others_alone() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = UnixStream::pair(&h).unwrap();
    let (c, d) = UnixStream::pair(&h).unwrap();
    let faults = Injection::on(&a, 3, FaultRates::none().short_writes(1.0));
    lp.block_on(async {
        assert!(a.send(b"0123456789").await.unwrap() < 10);
        assert_eq!(c.send(b"0123456789").await.unwrap(), 10);
        let mut buf = [0u8; 10];
        assert_eq!(d.recv(&mut buf).await.unwrap(), 10);
        let _ = b;
    });
    assert_eq!(faults.counts().short_writes, 1);
    drop(faults);
    // Disarmed: full writes again.
    lp.block_on(async { assert_eq!(a.send(b"0123456789").await.unwrap(), 10) });
}

/// The bug the kit is for: a reader that takes one `recv` for a whole 8-byte record. It
/// passes on a quiet loopback and fails as soon as reads come short.
#[test]
fn short_reads_catch_a_reader_that_assumes_whole_records() {
    async fn naive_record(s: &UnixStream) -> usize {
        let mut record = [0u8; 8];
        s.recv(&mut record).await.unwrap()
    }
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
    lp.block_on(async {
        a.send_all(&[1u8; 8]).await.unwrap();
        assert_eq!(naive_record(&b).await, 8, "quiet loopback: the bug hides");
        let faults = Injection::on(&b, 1, FaultRates::none().short_reads(1.0));
        a.send_all(&[2u8; 8]).await.unwrap();
        assert!(naive_record(&b).await < 8, "short reads expose it");
        assert_eq!(faults.counts().short_reads, 1);
    });
}

/// Run only by `a_failing_test_prints_its_seed_and_replays_from_the_env`, in a child.
#[test]
#[ignore = "fails on purpose: run by a_failing_test_prints_its_seed_and_replays_from_the_env"]
fn fails_on_purpose_under_a_seed() {
    let seed = FaultSeed::from_env();
    let log = logged_exchange(seed.derive(30));
    println!("LOG {log:?}");
    panic!("on purpose");
}

/// A failing test prints its seed and the command that replays it; run with that seed, the
/// same faults come again; a seed that is not a number fails loudly, naming the variable.
#[test]
fn a_failing_test_prints_its_seed_and_replays_from_the_env() {
    let run = |seed: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "fails_on_purpose_under_a_seed",
                "--nocapture",
            ])
            .env(readyloop::testing::SEED_ENV, seed)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let log = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("LOG "))
            .map(str::to_owned)
    };
    let first = run("1234");
    assert!(
        first.contains("the test failed under fault seed 1234 (replay: READYLOOP_FAULT_SEED=1234)"),
        "{first}"
    );
    let again = run("0x4d2"); // 1234 again, in hexadecimal
    assert_eq!(log(&first), log(&again));
    assert!(log(&first).unwrap().len() > 20);
    assert_ne!(log(&first), log(&run("1235")));
    let bad = run("twelve");
    assert!(bad.contains("READYLOOP_FAULT_SEED is not a u64"), "{bad}");
}
