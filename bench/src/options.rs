//! The command line the `idle` and `http` drivers share: `--quick`, `--reps N`,
//! `--duration SECS`, `--rows a,b` and `--subjects a,b`, and where the server binaries are.
//! It only parses; each driver picks its own defaults and what `--quick` means to it.

use std::path::PathBuf;
use std::time::Duration;

/// A driver's options as given (each `None` or empty when not given).
#[derive(Debug, Default)]
pub struct Options {
    /// `--quick`: a seconds-long smoke instead of the measurement.
    pub quick: bool,
    /// `--reps N`: repetitions.
    pub reps: Option<usize>,
    /// `--duration SECS`: the timed window of each measurement.
    pub duration: Option<Duration>,
    /// `--rows a,b`: row ids, in the driver's own spelling.
    pub rows: Vec<String>,
    /// `--subjects a,b`: server names (a space in a name may be given as `-`).
    pub subjects: Vec<String>,
}

impl Options {
    /// Parses this process's arguments; panics with the usage on anything else.
    pub fn from_args() -> Options {
        let mut o = Options::default();
        let mut args = std::env::args().skip(1);
        let list = |v: Option<String>, what: &str| -> Vec<String> {
            let v = v.unwrap_or_else(|| panic!("{what} a,b"));
            v.split(',').map(String::from).collect()
        };
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => o.quick = true,
                "--reps" => {
                    o.reps = Some(args.next().and_then(|v| v.parse().ok()).expect("--reps N"))
                }
                "--duration" => {
                    let secs = args.next().and_then(|v| v.parse().ok());
                    o.duration = Some(Duration::from_secs_f64(secs.expect("--duration SECS")));
                }
                "--rows" => o.rows = list(args.next(), "--rows"),
                "--subjects" => o.subjects = list(args.next(), "--subjects"),
                other => panic!(
                    "unknown argument {other} (takes --quick, --reps N, --duration SECS, \
                     --rows a,b, --subjects a,b)"
                ),
            }
        }
        o
    }

    /// Whether the subject called `name` was asked for (all are when none was named).
    pub fn wants_subject(&self, name: &str) -> bool {
        self.subjects.is_empty()
            || self
                .subjects
                .iter()
                .any(|w| w == name || *w == name.replace(' ', "-"))
    }
}

/// The folder of this driver's binary, where the servers are built too.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().expect("the binary's folder").to_path_buf()
}
