//! Seed 002's `run()` in Rust, small: the whole event loop on rustix alone, to read before
//! readyloop. A sleeper heap, a table from fd to waiting task, one poll(2) per turn whose
//! timeout is the nearest deadline, and three hand-written leaves (`Sleep`, `AsyncRead`,
//! `AsyncRecv`) running the article's `sleepy` and `read_socket` programs.
//!
//! The crate docs (`readyloop::guide`) walk from this file to the real loop. This file must
//! stay under 250 lines and use nothing but std and rustix.
//!
//! Run: `cargo run --example mini_loop` (`-- --waits` also prints each poll as readyloop's
//! trace prints it: `wait poll([5 IN], timeout 0.099881 s)`).

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::cell::Cell;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What a task "yields" to the loop when it cannot go on, as the article's coroutines
/// `yield AsyncSleep(...)` or `yield AsyncRead(...)`. A Rust future cannot yield a value,
/// so a leaf leaves it here before it returns `Pending`, and the loop picks it up.
#[derive(Clone, Copy, Debug)]
pub enum Command {
    Sleep(Instant),
    Read(RawFd),
}

thread_local! {
    static YIELDED: Cell<Option<Command>> = const { Cell::new(None) };
}

fn yield_command<T>(c: Command) -> Poll<T> {
    YIELDED.with(|y| y.set(Some(c)));
    Poll::Pending
}

/// A task: a boxed future the loop polls (the article's coroutine).
pub type Task<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Seed 002's `run(*coroutines)`: runs every task to completion. `on_wait` sees each poll
/// as a line in readyloop's trace format.
pub fn run(tasks: Vec<Task<'_>>, mut on_wait: impl FnMut(String)) {
    let mut tasks: Vec<Option<Task<'_>>> = tasks.into_iter().map(Some).collect();
    let mut ready: Vec<usize> = (0..tasks.len()).collect(); // all start ready
    let mut sleepers = BinaryHeap::new(); // (Reverse(deadline), task): nearest on top
    let mut readers: HashMap<RawFd, usize> = HashMap::new(); // fd -> the task waiting on it
                                                             // No task here keeps a waker (the loop knows what each waits on from its command), so
                                                             // every poll gets one that does nothing: readyloop's wakers are the first thing it adds.
    let waker = Waker::from(std::sync::Arc::new(NoWake));
    let mut cx = Context::from_waker(&waker);
    let mut alive = tasks.len();
    while alive > 0 {
        // 1. Run the tasks that are ready; each either finishes or yields a command.
        for id in std::mem::take(&mut ready) {
            let Some(task) = tasks[id].as_mut() else {
                continue;
            };
            if task.as_mut().poll(&mut cx).is_ready() {
                tasks[id] = None;
                alive -= 1;
                continue;
            }
            match YIELDED.with(|y| y.take()) {
                Some(Command::Sleep(until)) => sleepers.push((std::cmp::Reverse(until), id)),
                Some(Command::Read(fd)) => drop(readers.insert(fd, id)),
                None => panic!("task {id} is pending but yielded nothing"),
            }
        }
        if alive == 0 {
            break;
        }
        // 2. One poll: every fd someone waits on, until the nearest deadline.
        let now = Instant::now();
        let timeout = sleepers
            .peek()
            .map(|(std::cmp::Reverse(t), _)| t.saturating_duration_since(now));
        let fds: Vec<RawFd> = readers.keys().copied().collect();
        // SAFETY: each fd stays open while its task waits on it (the task owns it).
        let borrowed: Vec<BorrowedFd<'_>> = fds
            .iter()
            .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
            .collect();
        let mut pollfds: Vec<PollFd<'_>> = borrowed
            .iter()
            .map(|fd| PollFd::new(fd, PollFlags::IN))
            .collect();
        let set: Vec<String> = fds.iter().map(|fd| format!("{fd} IN")).collect();
        let t = timeout.map(|t| format!("timeout {}.{:06} s", t.as_secs(), t.subsec_micros()));
        on_wait(format!(
            "wait poll([{}], {})",
            set.join(", "),
            t.as_deref().unwrap_or("no timeout")
        ));
        let ts = timeout.map(|t| Timespec::try_from(t).expect("timeout fits"));
        match poll(&mut pollfds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("poll: {e}"),
        }
        // 3. Wake the readers whose fd is ready, then the sleepers whose time has come.
        for (i, pfd) in pollfds.iter().enumerate() {
            if !pfd.revents().is_empty() {
                ready.extend(readers.remove(&fds[i]));
            }
        }
        let now = Instant::now();
        while let Some(&(std::cmp::Reverse(until), id)) = sleepers.peek() {
            if until > now {
                break;
            }
            sleepers.pop();
            ready.push(id);
        }
    }
}

struct NoWake;
#[rustfmt::skip]
impl std::task::Wake for NoWake { fn wake(self: std::sync::Arc<Self>) {} }

/// The article's `AsyncSleep`: yields once with its deadline, then is done.
pub struct Sleep(Instant, bool);

pub fn sleep(d: Duration) -> Sleep {
    Sleep(Instant::now() + d, false)
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.1 || Instant::now() >= self.0 {
            return Poll::Ready(());
        }
        self.1 = true; // the loop resumes us only once the deadline passed
        yield_command(Command::Sleep(self.0))
    }
}

/// The article's `AsyncRead` on a file: wait until readable, then read; until full.
pub struct AsyncRead<'a>(BorrowedFd<'a>, &'a mut [u8], usize, bool);

impl<'a> AsyncRead<'a> {
    pub fn exact(fd: BorrowedFd<'a>, buf: &'a mut [u8]) -> Self {
        AsyncRead(fd, buf, 0, false)
    }
}

impl Future for AsyncRead<'_> {
    type Output = std::io::Result<usize>;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while this.2 < this.1.len() {
            if !std::mem::replace(&mut this.3, false) {
                this.3 = true; // a file's read may block: ask select first, as the article does
                return yield_command(Command::Read(this.0.as_raw_fd()));
            }
            match rustix::io::read(this.0, &mut this.1[this.2..]) {
                Ok(0) => break,
                Ok(n) => this.2 += n,
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        Poll::Ready(Ok(this.2))
    }
}

/// The article's `AsyncRecv`: try a non-blocking recv; on EAGAIN yield, and retry later.
pub struct AsyncRecv<'a>(BorrowedFd<'a>, &'a mut [u8]);

pub fn recv<'a>(fd: BorrowedFd<'a>, buf: &'a mut [u8]) -> AsyncRecv<'a> {
    AsyncRecv(fd, buf)
}

impl Future for AsyncRecv<'_> {
    type Output = std::io::Result<usize>;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match rustix::net::recv(this.0, &mut *this.1, rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => Poll::Ready(Ok(n)),
            Err(rustix::io::Errno::AGAIN) => yield_command(Command::Read(this.0.as_raw_fd())),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }
}

/// Seed 002's `sleepy`: print a round, sleep, `count` times.
pub async fn sleepy(id: String, count: u32, pause: Duration) {
    for i in 0..count {
        println!("{id} round {}", i + 1);
        sleep(pause).await;
    }
}

/// Seed 002 §4's program on a socket pair: a sender dribbles `pieces` of 4 KiB 30 ms apart,
/// a reader receives them 1 KiB per recv, a file reader reads 32 KiB of /dev/urandom, and
/// a background sleeper prints three rounds 0.1 s apart.
pub fn read_socket<'a>(
    pair: &'a [std::os::unix::net::UnixStream; 2],
    file: &'a std::fs::File,
) -> Vec<Task<'a>> {
    let [tx, rx] = pair;
    vec![
        Box::pin(sleepy("background".into(), 3, Duration::from_millis(100))),
        Box::pin(async move {
            for _ in 0..4 {
                rustix::io::write(tx, &[b'x'; 4096]).expect("room in the socket buffer");
                sleep(Duration::from_millis(30)).await;
            }
        }),
        Box::pin(async move {
            let (mut got, mut buf) = (0, [0u8; 1024]);
            while got < 4 * 4096 {
                got += recv(rx.as_fd(), &mut buf).await.expect("recv");
            }
            println!("socket: got {got} B");
        }),
        Box::pin(async move {
            let mut data = vec![0u8; 32 * 1024];
            let n = AsyncRead::exact(file.as_fd(), &mut data).await;
            let n = n.expect("read");
            println!("/dev/urandom: got {n} B");
        }),
    ]
}

fn main() {
    let show = std::env::args().any(|a| a == "--waits");
    let log = |line: String| {
        if show {
            println!("    {line}");
        }
    };
    let start = Instant::now();
    let pause = Duration::from_millis(100);
    let sleepers = (0..5).map(|j| Box::pin(sleepy(format!("coroutine {j}"), 5, pause)) as Task);
    run(sleepers.collect(), log);
    let took = start.elapsed().as_secs_f64();
    println!("sleepy took {took:.2} s (2.50 s one after another)");
    let pair = std::os::unix::net::UnixStream::pair().expect("socketpair");
    pair.1.set_nonblocking(true).expect("O_NONBLOCK");
    let file = std::fs::File::open("/dev/urandom").expect("/dev/urandom");
    run(read_socket(&[pair.0, pair.1], &file), log);
}
