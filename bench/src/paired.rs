//! Paired repetitions, as every driver runs them: each repetition measures every row with
//! every subject once, the subjects' order rotated per repetition, so a ratio between two
//! subjects is taken within one repetition (same minute, same machine load) and the table
//! shows the median of those ratios. Run to run this machine is noisy; paired ratios are
//! far steadier than raw numbers.
//!
//! Nothing here measures: the caller's closure does. A failed measurement is logged and
//! marks the run failed; it never stops the other measurements.

use std::collections::BTreeMap;
use std::time::Duration;

/// What a run measured: per (row, subject), each repetition's measurement.
#[derive(Debug)]
pub struct Runs<M> {
    cells: BTreeMap<(usize, usize), Vec<(usize, M)>>,
    /// Whether any measurement failed.
    pub failed: bool,
}

/// Runs `reps` repetitions of `measure(row, subject)` over `rows` x `subjects`, subjects
/// rotated per repetition, with a pause after each (closed connections' state drains before
/// the next server starts). Logs each result on stderr as `rep N LABEL: DESCRIPTION`, with
/// `label(row, subject)` and `describe(measurement)`.
pub fn run<M>(
    reps: usize,
    rows: usize,
    subjects: usize,
    label: impl Fn(usize, usize) -> String,
    describe: impl Fn(&M) -> String,
    mut measure: impl FnMut(usize, usize) -> Result<M, String>,
) -> Runs<M> {
    let mut runs = Runs {
        cells: BTreeMap::new(),
        failed: false,
    };
    for rep in 0..reps {
        for row in 0..rows {
            for k in 0..subjects {
                let subject = (k + rep) % subjects;
                match measure(row, subject) {
                    Ok(m) => {
                        eprintln!("rep {rep} {}: {}", label(row, subject), describe(&m));
                        runs.cells.entry((row, subject)).or_default().push((rep, m));
                    }
                    Err(e) => {
                        eprintln!("rep {rep} {}: FAILED {e}", label(row, subject));
                        runs.failed = true;
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
    runs
}

impl<M> Runs<M> {
    /// The measurements of `row` with `subject`, if any succeeded.
    pub fn get(&self, row: usize, subject: usize) -> Option<&[(usize, M)]> {
        self.cells.get(&(row, subject)).map(Vec::as_slice)
    }

    /// The median of `f` over the repetitions of `row` with `subject`.
    pub fn median(&self, row: usize, subject: usize, f: impl Fn(&M) -> f64) -> Option<f64> {
        let ms = self.get(row, subject)?;
        Some(crate::median(ms.iter().map(|(_, m)| f(m)).collect()))
    }

    /// The median, over the repetitions where both were measured, of `f(subject) /
    /// f(base)`: the paired ratio.
    pub fn paired(
        &self,
        row: usize,
        subject: usize,
        base: usize,
        f: impl Fn(&M) -> f64,
    ) -> Option<f64> {
        let ms = self.get(row, subject)?;
        let bs = self.get(row, base)?;
        let ratios: Vec<f64> = ms
            .iter()
            .filter_map(|(rep, m)| {
                let (_, b) = bs.iter().find(|(r, _)| r == rep)?;
                Some(f(m) / f(b))
            })
            .collect();
        (!ratios.is_empty()).then(|| crate::median(ratios))
    }
}
