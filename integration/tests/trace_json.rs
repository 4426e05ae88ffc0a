//! The `JsonLines` trace sink writes one valid JSON object per event, with the fields the
//! docs name (parsed with serde_json, a dev-dependency of this crate so readyloop's own
//! examples never compile it).

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/trace_story.rs"]
mod trace_story;

use readyloop::trace::JsonLines;
use readyloop::Loop;
use trace_story::{sleeper_and_reader, Buf};

#[test]
fn json_lines_sink_is_valid_json() {
    let out = Buf::default();
    let lp = Loop::builder()
        .trace(JsonLines::new(out.clone()))
        .build()
        .unwrap();
    let rfd = sleeper_and_reader(&lp);
    let text = out.text();
    let mut kinds = std::collections::BTreeSet::new();
    let mut last_at = 0u64;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let at = v["at_ns"].as_u64().unwrap();
        assert!(at >= last_at);
        last_at = at;
        let kind = v["event"].as_str().unwrap().to_string();
        if kind == "wait" {
            assert!(v["fds"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["fd"].is_i64()));
        }
        if kind == "woken" && v["by"]["kind"] == "fd" {
            assert_eq!(v["by"]["fd"].as_i64(), Some(rfd as i64));
            assert_eq!(v["by"]["revents"], "IN");
        }
        if kind == "spawned" && v["task"] == 1 {
            assert_eq!(v["name"], "sleeper");
        }
        if kind == "pending" && v["task"] == 2 {
            assert_eq!(v["waits"][0]["kind"], "fd");
            assert_eq!(v["waits"][0]["interest"], "READABLE");
        }
        kinds.insert(kind);
    }
    for k in [
        "turn",
        "spawned",
        "woken",
        "polled",
        "pending",
        "completed",
        "wait",
        "waited",
        "ready",
        "timer_fired",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
}

/// The names, syscalls and interruptions of issue 20 point 3 are valid JSON too.
#[test]
fn fd_names_and_syscalls_are_valid_json() {
    let out = Buf::default();
    let lp = Loop::builder()
        .trace(JsonLines::new(out.clone()))
        .trace_syscalls()
        .build()
        .unwrap();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
    lp.block_on({
        let h = h.clone();
        async move {
            let reader = h.spawn(async move {
                let mut buf = [0u8; 8];
                b.recv(&mut buf).await.unwrap()
            });
            readyloop::yield_now().await;
            a.send(b"hi \"there\"").await.unwrap();
            reader.await.unwrap()
        }
    });
    let text = out.text();
    let mut kinds = std::collections::BTreeSet::new();
    let mut unix_named = false;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let kind = v["event"].as_str().unwrap().to_string();
        if kind == "fd_named" {
            let what = v["what"].as_str().unwrap();
            assert!(v["fd"].is_i64() && !what.is_empty(), "{line}");
            unix_named |= what.starts_with("Unix stream socket");
        }
        if kind == "syscall" {
            let r = &v["result"];
            assert!(
                r["bytes"].is_u64() || r["error"].as_str() == Some("EAGAIN"),
                "{line}"
            );
        }
        kinds.insert(kind);
    }
    assert!(
        kinds.contains("fd_named") && kinds.contains("syscall"),
        "{text}"
    );
    assert!(unix_named, "{text}");
}
