# Issue 15, points 4 and 6: the mechanical part of the API change, as sed -E expressions.
# Re-run it over code written against the old names (idempotent: running it twice changes
# nothing more):
#   git ls-files '*.rs' '*.md' | xargs sed -E -i -f .ci/renames.sed
# Part 1 rewrites the removed spellings into the one that stays; part 2 renames what
# collided. What sed cannot do (a test that expected NoLoop from a *_current constructor
# now expects the panic of Handle::current) is listed in CHANGELOG.md.

# ---- part 1: one way to do each thing ----------------------------------------------------
# Sleep::new(&h, d) / Sleep::until(&h, t)  ->  h.sleep(d) / h.sleep_until(t)
s/\b([a-z_]+::)*Sleep::new\(&([A-Za-z_][A-Za-z0-9_.]*(\(\))?), */\2.sleep(/g
s/\b([a-z_]+::)*Sleep::until\(&([A-Za-z_][A-Za-z0-9_.]*(\(\))?), */\2.sleep_until(/g
# Interval::new(&h, p) / Interval::new_at(&h, start, p)  ->  h.interval(p) / h.interval_at(start, p)
s/\b([a-z_]+::)*Interval::new\(&([A-Za-z_][A-Za-z0-9_.]*(\(\))?), */\2.interval(/g
s/\b([a-z_]+::)*Interval::new_at\(&([A-Za-z_][A-Za-z0-9_.]*(\(\))?), */\2.interval_at(/g
# Loop::spawn / Loop::stop  ->  the Handle's
s/\blp\.spawn\(/lp.handle().spawn(/g
s/\blp\.stop\(\)/lp.handle().stop()/g
# The *_current constructors  ->  the constructor with Handle::current()
s/\bAsync::new_current\(/Async::new(\&readyloop::Handle::current(), /g
s/\b(TcpListener|UnixListener|UdpSocket)::bind_current\(/\1::bind(\&readyloop::Handle::current(), /g
s/\b(TcpStream|UnixStream)::connect_current\(/\1::connect(\&readyloop::Handle::current(), /g
s/\bopen_connection_current\(/open_connection(\&readyloop::Handle::current(), /g
s/\bopen_connection_current\b/open_connection/g
# The copies of the free functions under combinators::  ->  the crate root's
s/\breadyloop::combinators::(timeout|timeout_at|interval|sleep_until|wait)\b/readyloop::\1/g

# ---- part 2: names that said two things -------------------------------------------------
# The leaf that reads a borrowed fd (seed 002's AsyncRead) is `ReadFd`: `AsyncRead` is
# futures-io's trait, which Async<T> and the stream sockets implement. Only the struct's
# spellings are rewritten (its constructors, its lifetime, readyloop's paths and imports);
# the trait (`futures_io::AsyncRead`, `impl AsyncRead for`) and the articles' Python class
# named in prose stay.
s/\bAsyncRead::(new|exact)\(/ReadFd::\1(/g
s/\bAsyncRead<'/ReadFd<'/g
s/\b(readyloop|crate|events|read)::AsyncRead\b/\1::ReadFd/g
s/\[`AsyncRead`\]/[`ReadFd`]/g
s/^(\s*(\/\/[\/!] *)?use readyloop::\{[^}]*)\bAsyncRead\b/\1ReadFd/
s/\(AsyncRead::(new|exact)\)/(ReadFd::\1)/g
s/`AsyncRead::(new|exact)`/`ReadFd::\1`/g
s/`Sleep`, `AsyncRead`/`Sleep`, `ReadFd`/g
s/`AsyncRead`, `AsyncRecv`/`ReadFd`, `AsyncRecv`/g
s/`AsyncRead` of \/dev\/urandom/`ReadFd` of \/dev\/urandom/g
s/^(pub use (events|read)::\{?[^}]*)\bAsyncRead\b/\1ReadFd/
s/"an AsyncRead does nothing unless awaited"/"a ReadFd does nothing unless awaited"/
s/^(\s+)AsyncRead \{$/\1ReadFd {/
s/^\/\/! `AsyncRead`: read from any pollable fd\.$/\/\/! `ReadFd`: read from any pollable fd (seed 002's `AsyncRead`, renamed: `AsyncRead` is futures-io's trait)./
# poll(2)-style event bits are `Readiness` (an "event" is sync::Event, asyncio's Event).
s/\bIoEvents\b/Readiness/g
# signal::Recv (the future of Signals::recv) is `RecvSignal`; net::Recv keeps its name,
# beside RecvExact and RecvFrom.
s/\bsignal::Recv\b/signal::RecvSignal/g
# trace::Wait (what a pending task filed with the loop) is `PendingOn`, the element of
# TraceEvent::Pending's `waits`; TraceEvent::Wait stays the loop's blocking wait.
s/\bWait::(Fd|Timer)\b/PendingOn::\1/g
s/\btrace::Wait\b/trace::PendingOn/g
s/^(\s*(\/\/[\/!] *)?use (readyloop|crate)::trace::\{[^}]*)\bWait\b/\1PendingOn/
s/\bpub enum Wait \{/pub enum PendingOn {/
s/\[Wait\]/[PendingOn]/g
s/^(use super::\{[^}]*)\bWait\b/\1PendingOn/
s/\b(FnOnce\(\) -> |wait: |w: &)Wait\)/\1PendingOn)/g
s/\bimpl fmt::Display for Wait \{/impl fmt::Display for PendingOn {/
s/\bVec<Wait>/Vec<PendingOn>/g
# Inside the crate: registering interest is `register`, blocking is `wait`.
s/\bwait_io\(/register_io(/g
s/\b(trait|dyn|super::) ?Waiter\b/\1 OtherBackend/g
s/\bsuper:: OtherBackend\b/super::OtherBackend/g
