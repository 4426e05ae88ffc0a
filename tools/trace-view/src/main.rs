//! `trace-view`: renders a readyloop trace recorded as JSON lines.
//!
//! ```text
//! READYLOOP_TRACE=trace.jsonl cargo run --example echo_server   # or Builder::trace(JsonLines)
//! cargo run -p readyloop-trace-view -- svg trace.jsonl timeline.svg
//! cargo run -p readyloop-trace-view -- story trace.jsonl        # narrated text to stdout
//! ```
//!
//! Bad input (a missing file, a line that is not a trace event) ends with a message and
//! exit status 1, never a panic.

mod json;
mod story;
mod svg;

use std::process::ExitCode;

const USAGE: &str = "usage: trace-view svg TRACE.jsonl [OUT.svg]   (default OUT: timeline.svg)\n       trace-view story TRACE.jsonl";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace-view: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (mode, input) = match args {
        [mode, input, ..] => (mode.as_str(), input),
        _ => return Err(USAGE.into()),
    };
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let events = json::read_trace(&text).map_err(|e| format!("{input}: {e}"))?;
    if events.is_empty() {
        return Err(format!("{input}: no trace events"));
    }
    match mode {
        "svg" => {
            let out = args.get(2).map_or("timeline.svg", String::as_str);
            std::fs::write(out, svg::render(&events))
                .map_err(|e| format!("cannot write {out}: {e}"))?;
            println!("wrote {out} ({} events)", events.len());
        }
        "story" => print!("{}", story::tell_all(&events)),
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
